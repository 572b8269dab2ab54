#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Every capture of tcpdump's suite through `check` as a one-member set: exit
# 0, 1 or 2 (never a crash, a hang or a signal), and a 2 names the file.
set -uo pipefail
VERIFY=$1
CORPUS=$2
if [ ! -d "$CORPUS" ]; then
    echo "skip: $CORPUS absent"
    exit 77
fi
n=0 bad=0
for f in "$CORPUS"/*; do
    n=$((n + 1))
    timeout 20 "$VERIFY" check --sgm "1=$f" --json > /tmp/bt-vc-$$.out 2> /tmp/bt-vc-$$.err
    rc=$?
    case $rc in
    0|1) /usr/bin/python3 -c 'import json,sys; json.load(open(sys.argv[1]))' /tmp/bt-vc-$$.out \
            || { echo "FAIL $f: stdout is not JSON"; bad=$((bad + 1)); } ;;
    2) grep -qF "$(basename "$f")" /tmp/bt-vc-$$.err \
            || { echo "FAIL $f: exit 2 without naming the file: $(cat /tmp/bt-vc-$$.err)"; bad=$((bad + 1)); } ;;
    *) echo "FAIL $f: exit $rc"; bad=$((bad + 1)) ;;
    esac
    # diff of a capture with itself: the same (0), or bad input (2)
    timeout 20 "$VERIFY" diff "$f" "$f" > /dev/null 2> /tmp/bt-vc-$$.err
    rc=$?
    case $rc in
    0) ;;
    2) grep -qF "$(basename "$f")" /tmp/bt-vc-$$.err \
            || { echo "FAIL diff $f: exit 2 without naming the file"; bad=$((bad + 1)); } ;;
    *) echo "FAIL diff $f: exit $rc"; bad=$((bad + 1)) ;;
    esac
done
rm -f /tmp/bt-vc-$$.out /tmp/bt-vc-$$.err
echo "$n captures, $bad bad"
[ "$bad" -eq 0 ]
