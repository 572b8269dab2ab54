#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Every capture of tcpdump's suite replayed through the gateway (the same
# file as client and server side): exit 0 or 2, never a crash, a hang or a
# signal; a 2 names the input file. Captures spanning weeks must finish
# quickly (long silences are shortened, --max-gap); a 0 leaves a capture set
# with its capset.json, and tshark reads the client.pcap of the first ten
# (tshark's start-up is what a test of every file could not afford).
set -uo pipefail
GW=$1
CORPUS=$2
if [ ! -d "$CORPUS" ]; then
    echo "skip: $CORPUS absent"
    exit 77
fi
T=$(mktemp -d /tmp/bt-gwcorpus-XXXXXX)
trap 'rm -rf "$T"' EXIT
n=0 bad=0 ok=0 refused=0
for f in "$CORPUS"/*; do
    case $f in *.pcap|*.pcapng|*.cap) ;; *) continue ;; esac
    n=$((n + 1))
    rm -rf "$T/out"
    timeout 30 "$GW" sim --members 2 --out "$T/out" --client-pcap "$f" --server-pcap "$f" > /dev/null 2> "$T/err"
    rc=$?
    case $rc in
    0) ok=$((ok + 1))
       [ -f "$T/out/capset.json" ] || { echo "FAIL $f: exit 0 but no capset.json"; bad=$((bad + 1)); }
       if [ "$ok" -le 10 ] && [ -f "$T/out/client.pcap" ]; then
           tshark -r "$T/out/client.pcap" > /dev/null 2>&1 \
               || { echo "FAIL $f: tshark cannot read the capture set's client.pcap"; bad=$((bad + 1)); }
       fi ;;
    2) refused=$((refused + 1))
       grep -qF "$(basename "$f")" "$T/err" \
           || { echo "FAIL $f: exit 2 without naming the file: $(head -c 300 "$T/err")"; bad=$((bad + 1)); } ;;
    124) echo "FAIL $f: still running after 30 s"; bad=$((bad + 1)) ;;
    *) echo "FAIL $f: exit $rc $(head -c 300 "$T/err")"; bad=$((bad + 1)) ;;
    esac
done
echo "$n captures: $ok replayed, $refused refused with a message, $bad bad"
[ "$n" -gt 0 ] && [ "$bad" -eq 0 ]
