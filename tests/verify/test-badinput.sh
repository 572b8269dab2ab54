#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Bad usage and bad input: exit 2 with a message that names what was wrong.
set -uo pipefail
VERIFY=$1
T=$(mktemp -d /tmp/bt-verify-bad-XXXXXX)
trap 'rm -rf "$T"' EXIT
fail=0
expect2() {  # expect2 WANT_IN_MESSAGE ARGS...
    local want=$1
    shift
    "$VERIFY" "$@" > "$T/out" 2> "$T/err"
    local rc=$?
    if [ $rc -ne 2 ] || ! grep -qF -- "$want" "$T/err"; then
        echo "FAIL: $* -> exit $rc, stderr: $(cat "$T/err") (wanted '$want')"
        fail=1
    elif [ -s "$T/out" ]; then
        echo "FAIL: $* wrote to stdout on error"
        fail=1
    fi
}
printf 'not a pcap\n' > "$T/text.pcap"
mkdir -p "$T/cs"
printf '{"schema": 1, "members": [{"id": 1}]}' > "$T/cs/capset.json"
printf '{"t": 1, "event": "sgm_down", "sgm": 1}\n{"t": 2, "event": "nope", "sgm": 1}\n' > "$T/ev.jsonl"
expect2 "unknown command" bogus-command
expect2 "usage"
expect2 "text.pcap" check --sgm 1=$T/text.pcap
expect2 "missing.pcap" check --sgm 1=$T/missing.pcap
expect2 "--sgm" check --sgm 99=$T/x.pcap
expect2 "--sgm" check --sgm nothing
expect2 "no member captures" check
expect2 "--weights" check --sgm 1=$T/text.pcap --weights 1=600
expect2 "--weights" check --sgm 1=$T/text.pcap --weights 1=5,x
expect2 "--max-gap" check --sgm 1=$T/text.pcap --max-gap soon
expect2 "--max-lost" check --sgm 1=$T/text.pcap --max-lost -3
expect2 "capset.json" check --capset "$T/nonexistent"
expect2 "sgm-1.pcap" check --capset "$T/cs"
/usr/bin/python3 -c "
from scapy.all import Ether, IP, TCP, wrpcap
wrpcap('$T/ok.pcap', [Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')/IP(src='10.0.0.1', dst='10.0.0.2')/TCP()])"
expect2 "ev.jsonl:2" check --sgm 1=$T/ok.pcap --events "$T/ev.jsonl"
printf '{"t": 1, "event": "sgm_down", "sgm": 7}\n' > "$T/ev2.jsonl"
expect2 "sgm 7" check --sgm 1=$T/ok.pcap --events "$T/ev2.jsonl"
expect2 "unexpected argument" check --sgm 1=$T/ok.pcap extra
expect2 "go together" check --sgm 1=$T/ok.pcap --client $T/ok.pcap
printf '{"t": 1, "proto": "tcp", "orig": {"src": "10.0.0.1"}}\n' > "$T/nat.jsonl"
expect2 "nat.jsonl:1" check --sgm 1=$T/ok.pcap --nat "$T/nat.jsonl"
expect2 "none.jsonl" check --sgm 1=$T/ok.pcap --nat "$T/none.jsonl"
expect2 "--max-loss-pct" check --sgm 1=$T/ok.pcap --max-loss-pct 101
expect2 "--idle" check --sgm 1=$T/ok.pcap --idle 0
# and a good run passes with exit 0 and one JSON object on stdout
"$VERIFY" check --sgm 1=$T/ok.pcap --json > "$T/out" 2>/dev/null || { echo "FAIL: good input"; fail=1; }
/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["flows"] == 1' "$T/out" || fail=1
exit $fail
