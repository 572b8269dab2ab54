#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# baton-verify split on a tap crafted with scapy: VLAN 101 is member 1's
# downlink, 102 member 2's; MACs 02:..:a1 / 02:..:a2 likewise; untagged
# frames are unmapped. Counts per member come from the crafting script.
set -uo pipefail
VF=$1
T=$(mktemp -d /tmp/bt-split-XXXXXX)
trap 'rm -rf "$T"' EXIT
fail=0
/usr/bin/python3 - "$T/tap.pcap" <<'PY'
import sys
from scapy.all import Ether, Dot1Q, IP, TCP
from scapy.utils import PcapWriter
w = PcapWriter(sys.argv[1], nano=True, linktype=1)
t = 1.0
for i in range(30):
    m = 1 + i % 2            # 15 flows each, 2 packets each
    for reply in (0, 1):
        e = Ether(src="02:00:00:00:00:a%d" % m if reply else "02:00:00:00:00:0c",
                  dst="02:00:00:00:00:0c" if reply else "02:00:00:00:00:a%d" % m)
        ip = IP(src="192.0.2.1", dst="10.0.0.%d" % (i + 1)) if reply else IP(src="10.0.0.%d" % (i + 1), dst="192.0.2.1")
        tcp = TCP(sport=80, dport=1000 + i, flags="SA") if reply else TCP(sport=1000 + i, dport=80, flags="S")
        p = e / Dot1Q(vlan=100 + m) / ip / tcp
        p.time = t
        t += 0.001
        w.write(p)
for i in range(4):            # noise on no member's link
    p = Ether(src="02:00:00:00:00:ff", dst="02:00:00:00:00:fe") / IP() / TCP()
    p.time = t
    t += 0.001
    w.write(p)
w.close()
PY
expect() {  # name want_rc args...
    local name=$1 want=$2
    shift 2
    "$VF" "$@" > "$T/out" 2> "$T/err"
    local rc=$?
    if [ "$rc" -ne "$want" ]; then echo "FAIL $name: exit $rc: $(cat "$T/err")"; fail=1; return 1; fi
    echo "ok   $name"
}
expect by-vlan 0 split --by vlan "$T/tap.pcap" --map 101=1,102=2 --out "$T/v" &&
    grep -q "sgm-1.pcap: 30 packets" "$T/out" && grep -q "sgm-2.pcap: 30 packets" "$T/out" &&
    grep -q "4 unmapped" "$T/out" || { echo "FAIL by-vlan counts: $(cat "$T/out")"; fail=1; }
expect check-split-set 0 check --capset "$T/v" --min-flows-per-sgm 1 --json
/usr/bin/python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["flows"] == 30 and r["balance"]["per_sgm"][0]["flows"] == 15' "$T/out" \
    || { echo "FAIL split set flows"; fail=1; }
expect by-mac 0 split --by mac "$T/tap.pcap" --map 02:00:00:00:00:a1=1,02:00:00:00:00:a2=2 --out "$T/m" &&
    grep -q "sgm-2.pcap: 30 packets" "$T/out" || { echo "FAIL by-mac counts"; fail=1; }
cmp -s "$T/v/sgm-1.pcap" "$T/m/sgm-1.pcap" && echo "ok   vlan-and-mac-agree" || { echo "FAIL vlan and mac splits differ"; fail=1; }
expect bad-by 2 split --by color "$T/tap.pcap" --map 1=1 --out "$T/x"
expect interface-unsupported 2 split --by interface "$T/tap.pcap" --map 1=1 --out "$T/x"
expect bad-map 2 split --by vlan "$T/tap.pcap" --map 5000=1 --out "$T/x"
expect bad-mac 2 split --by mac "$T/tap.pcap" --map 02:00=1 --out "$T/x"
expect missing-tap 2 split --by vlan "$T/none.pcap" --map 101=1 --out "$T/x"
grep -q "none.pcap" "$T/err" || { echo "FAIL missing tap not named"; fail=1; }
exit $fail
