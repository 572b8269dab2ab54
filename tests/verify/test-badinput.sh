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
# taken before (the option review of the fuzz campaign): strtoull's sign and
# spaces (" -1" came out 2^64-1), and an infinite threshold
expect2 "--max-lost: ' -1'" check --sgm 1=$T/ok.pcap --max-lost " -1"
expect2 "--max-affinity: '+3'" check --sgm 1=$T/ok.pcap --max-affinity +3
expect2 "--min-flows-per-sgm: ' 2'" check --sgm 1=$T/ok.pcap --min-flows-per-sgm " 2"
expect2 "--max-balance-pct: '1e308k'" check --sgm 1=$T/ok.pcap --max-balance-pct 1e308k
# a member down twice with no sgm_up between would count its flows twice
printf '{"t": 1, "event": "sgm_down", "sgm": 1}\n\n{"t": 2, "event": "sgm_down", "sgm": 1}\n' > "$T/ev3.jsonl"
expect2 "ev3.jsonl:3: sgm_down: member 1 is already down since t=1.000000000 (line 1)" \
    check --sgm 1=$T/ok.pcap --events "$T/ev3.jsonl"
printf '{"t": 1, "event": "sgm_down", "sgm": 1}\n{"t": 1.5, "event": "sgm_up", "sgm": 1}\n{"t": 2, "event": "sgm_down", "sgm": 1}\n' > "$T/ev4.jsonl"
"$VERIFY" check --sgm 1=$T/ok.pcap --events "$T/ev4.jsonl" > /dev/null 2>&1 || { echo "FAIL: down, up, down refused"; fail=1; }
# the event that names a member with no capture is named by its line (the
# file is sorted by time: line 2 is the first event)
printf '{"t": 5, "event": "sgm_up", "sgm": 1}\n{"t": 1, "event": "sgm_down", "sgm": 9}\n' > "$T/ev5.jsonl"
expect2 "ev5.jsonl:2: event names sgm 9" check --sgm 1=$T/ok.pcap --events "$T/ev5.jsonl"
# corrections.jsonl: the members named must have captures, a tuple is of one family
printf '\n{"t": 1, "proto": "tcp", "src": "10.0.0.1", "sport": 1, "dst": "10.0.0.2", "dport": 2, "from": 9, "to": 1}\n' > "$T/c1.jsonl"
expect2 "c1.jsonl:2: correction names sgm 9, which has no capture" check --sgm 1=$T/ok.pcap --corrections "$T/c1.jsonl"
printf '{"t": 1, "proto": "tcp", "src": "10.0.0.1", "sport": 1, "dst": "2001:db8::2", "dport": 2, "from": 1, "to": 1}\n' > "$T/c2.jsonl"
expect2 "c2.jsonl:1: \"src\" and \"dst\" mix IPv4 and IPv6" check --sgm 1=$T/ok.pcap --corrections "$T/c2.jsonl"
printf '{"t": 1, "proto": "tcp", "src": "10.0.0.1", "sport": 1, "dst": "10.0.0.2", "dport": 2, "from": 1, "to": 1}\n' > "$T/c3.jsonl"
"$VERIFY" check --sgm 1=$T/ok.pcap --corrections "$T/c3.jsonl" > /dev/null 2>&1 || { echo "FAIL: a good corrections file refused"; fail=1; }
# every weight 0: a balance check that cannot fail
expect2 "--weights: every member's weight is 0" check --sgm 1=$T/ok.pcap --sgm 2=$T/ok.pcap --weights 1=0,2=0
mkdir -p "$T/w0"
cp "$T/ok.pcap" "$T/w0/sgm-1.pcap"
cp "$T/ok.pcap" "$T/w0/sgm-2.pcap"
printf '{"schema": 1, "members": [{"id": 1, "weight": 0}, {"id": 2, "weight": 0}]}' > "$T/w0/capset.json"
expect2 "w0/capset.json: members: every member's weight is 0" check --capset "$T/w0"
"$VERIFY" check --capset "$T/w0" --weights 2=1 > /dev/null 2>&1
[ $? -ne 2 ] || { echo "FAIL: --weights over an all-0 capset refused"; fail=1; }
# link captures come in pairs; a loss threshold needs both
mkdir -p "$T/onelink"
cp "$T/ok.pcap" "$T/onelink/sgm-1.pcap"
cp "$T/ok.pcap" "$T/onelink/client.pcap"
printf '{"schema": 1, "members": [{"id": 1}], "files": {"client": true}}' > "$T/onelink/capset.json"
expect2 "onelink/capset.json: files: lists client.pcap but not server.pcap" check --capset "$T/onelink"
expect2 "missing: client.pcap and server.pcap" check --sgm 1=$T/ok.pcap --max-loss-pct 1
printf '{"schema": 1, "members": [{"id": 1}]}' > "$T/onelink/capset.json"
expect2 "missing: server.pcap" check --capset "$T/onelink" --client "$T/ok.pcap" --max-loss-pct 1
# a member capture of a link type nothing here reads
/usr/bin/python3 -c "
import struct
with open('$T/lt999.pcap', 'wb') as f:
    f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 999))
    f.write(struct.pack('<IIII', 1, 0, 4, 4) + b'abcd')"
expect2 "lt999.pcap: unsupported link type 999" check --sgm 1=$T/ok.pcap --sgm 2=$T/lt999.pcap
# hide NAT keeps the address family
printf '{"t": 1, "proto": "tcp", "orig": {"src": "10.0.0.1", "sport": 5, "dst": "10.0.0.2", "dport": 80}, "xlat": {"src": "2001:db8::1", "sport": 7, "dst": "2001:db8::2", "dport": 80}}\n' > "$T/nat46.jsonl"
expect2 "nat46.jsonl:1: \"orig\" and \"xlat\" mix IPv4 and IPv6" check --sgm 1=$T/ok.pcap --nat "$T/nat46.jsonl"
# split: a --map key given twice
expect2 "key '0' given twice" split --by vlan "$T/ok.pcap" --map 0=1,0=2 --out "$T/sp"
expect2 "--idle" check --sgm 1=$T/ok.pcap --idle 0
# and a good run passes with exit 0 and one JSON object on stdout
"$VERIFY" check --sgm 1=$T/ok.pcap --json > "$T/out" 2>/dev/null || { echo "FAIL: good input"; fail=1; }
/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["flows"] == 1' "$T/out" || fail=1
exit $fail
