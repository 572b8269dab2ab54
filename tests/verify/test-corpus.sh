#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Every capture of tcpdump's suite through `check` as a one-member set: exit
# 0 or 2 (never a crash, a hang or a signal; a single member with no events
# cannot fail a check, so 1 is wrong too), a 0 with one JSON object on
# stdout, a 2 naming the file; `diff FILE FILE`: the same (0) or bad
# input (2, naming the file); and `split` by VLAN and by interface.
set -uo pipefail
VERIFY=$1
CORPUS=$2
if [ ! -d "$CORPUS" ]; then
    echo "skip: $CORPUS absent"
    exit 77
fi
T=$(mktemp -d /tmp/bt-vc-XXXXXX)
trap 'rm -rf "$T"' EXIT
n=0 bad=0
for f in "$CORPUS"/*; do
    n=$((n + 1))
    timeout 20 "$VERIFY" check --sgm "1=$f" --json > "$T/$n.json" 2> "$T/err"
    rc=$?
    case $rc in
    0) echo "$f" > "$T/$n.name" ;;
    2) rm -f "$T/$n.json"
       grep -qF "$(basename "$f")" "$T/err" \
            || { echo "FAIL $f: exit 2 without naming the file: $(cat "$T/err")"; bad=$((bad + 1)); } ;;
    *) rm -f "$T/$n.json"; echo "FAIL $f: exit $rc"; bad=$((bad + 1)) ;;
    esac
    timeout 20 "$VERIFY" diff "$f" "$f" > /dev/null 2> "$T/err"
    rc=$?
    case $rc in
    0) ;;
    2) grep -qF "$(basename "$f")" "$T/err" \
            || { echo "FAIL diff $f: exit 2 without naming the file"; bad=$((bad + 1)); } ;;
    *) echo "FAIL diff $f: exit $rc"; bad=$((bad + 1)) ;;
    esac
    # split, the third reader: by VLAN (any Ethernet capture, members named
    # or not) and by interface (pcapng and SLL2 only: every other capture is
    # refused by name); a 0 leaves pcap files (their magic number)
    for by in vlan interface; do
        rm -rf "$T/split"
        timeout 20 "$VERIFY" split --by "$by" "$f" --map 1=1,2=2 --out "$T/split" > /dev/null 2> "$T/err"
        rc=$?
        case $rc in
        0) for o in "$T/split"/*.pcap; do
               [ -e "$o" ] || continue
               case $(head -c 4 "$o" | od -An -tx1 | tr -d ' ') in
               d4c3b2a1|4d3cb2a1) ;;   # pcap, microseconds or nanoseconds
               *) echo "FAIL split --by $by $f: $o is not a pcap"; bad=$((bad + 1)) ;;
               esac
           done ;;
        2) grep -qF "$(basename "$f")" "$T/err" \
               || { echo "FAIL split --by $by $f: exit 2 without naming the file: $(cat "$T/err")"; bad=$((bad + 1)); } ;;
        *) echo "FAIL split --by $by $f: exit $rc"; bad=$((bad + 1)) ;;
        esac
    done
done
# the JSON of every exit 0, in one go
/usr/bin/python3 - "$T" <<'PY' || bad=$((bad + 1))
import glob, json, os, sys
bad = 0
for p in glob.glob(os.path.join(sys.argv[1], "*.json")):
    try:
        with open(p) as f:
            d = json.load(f)
        assert isinstance(d, dict) and d["schema"] == 1 and d["pass"] is True
    except Exception as e:
        name = open(p[:-5] + ".name").read().strip()
        print(f"FAIL {name}: stdout is not the report: {e}")
        bad += 1
sys.exit(1 if bad else 0)
PY
echo "$n captures, $bad bad"
[ "$bad" -eq 0 ]
