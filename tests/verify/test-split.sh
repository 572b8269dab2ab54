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
expect interface-needs-pcapng-or-sll2 2 split --by interface "$T/tap.pcap" --map 1=1 --out "$T/x" &&
    grep -q "pcapng" "$T/err" || { echo "FAIL interface on an Ethernet pcap: $(cat "$T/err")"; fail=1; }

# --by interface. Taps written here by hand (struct, not baton's code):
# pcapng with two interfaces named eth1/eth2 (little- and big-endian), two
# sections, the second restarting the interface numbering with eth2 first
# and carrying only eth1 traffic (so ids and names give different splits),
# and a Linux cooked v2 pcap with interface indexes 3 and 5; plus a pcapng
# made by mergecap.
/usr/bin/python3 - "$T" <<'PY'
import struct, sys
d = sys.argv[1]
def frame(i, m, reply):
    # Ethernet / IPv4 / TCP SYN or SYN-ACK of flow i (member m's downlink)
    c, s = bytes([10, 0, 0, i + 1]), bytes([192, 0, 2, 1])
    src, dst = (s, c) if reply else (c, s)
    ports = struct.pack(">HH", 80, 1000 + i) if reply else struct.pack(">HH", 1000 + i, 80)
    tcp = ports + struct.pack(">IIBBHHH", 1, 0, 0x50, 0x12 if reply else 0x02, 8192, 0, 0)
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 40, i, 0, 64, 6, 0, src, dst) + tcp
    return bytes(6) + bytes([2, 0, 0, 0, 0, 0xa0 + m]) + b"\x08\x00" + ip
def opt(code, val):
    pad = (4 - len(val) % 4) % 4
    return struct.pack(E + "HH", code, len(val)) + val + bytes(pad)
def block(t, body):
    n = 12 + len(body)
    return struct.pack(E + "II", t, n) + body + struct.pack(E + "I", n)
def pcapng(path, big):
    global E
    out = b""
    counts = {1: 0, 2: 0}
    E = ">" if big else "<"
    for section in range(2):
        out += block(0x0A0D0D0A, struct.pack(E + "IHHq", 0x1A2B3C4D, 1, 0, -1))
        # interface order differs per section: eth2 first in the second one
        names = ["eth1", "eth2"] if section == 0 else ["eth2", "eth1"]
        for nm in names:
            out += block(1, struct.pack(E + "HHI", 1, 0, 262144) + opt(2, nm.encode()) +
                         opt(9, b"\x09") + opt(0, b""))
        for i in range(20 if section == 0 else 12):
            m = 1 + i % 2 if section == 0 else 1
            ifid = names.index("eth%d" % m)
            for reply in (0, 1):
                f = frame(i + 20 * section, m, reply)
                ts = (1000 + section * 10 + i) * 10**9 + reply * 1000   # ns (if_tsresol 9)
                pad = (4 - len(f) % 4) % 4
                out += block(6, struct.pack(E + "IIIII", ifid, ts >> 32, ts & 0xffffffff, len(f), len(f)) +
                             f + bytes(pad))
                counts[m] += 1
        # a packet block on no mapped interface: a third interface
        out += block(1, struct.pack(E + "HHI", 1, 0, 262144) + opt(2, b"mgmt") + opt(9, b"\x09") + opt(0, b""))
        f = frame(99, 3, 0)
        out += block(6, struct.pack(E + "IIIII", 2, 0, 5, len(f), len(f)) + f + bytes((4 - len(f) % 4) % 4))
    open(path, "wb").write(out)
    return counts
c = pcapng(d + "/tap.pcapng", False)
pcapng(d + "/tap-be.pcapng", True)
open(d + "/ng-counts", "w").write("%d %d\n" % (c[1], c[2]))
# SLL2: protocol, reserved, ifindex, hatype, pkttype, halen, address[8]
E = "<"
out = struct.pack("<IHHiIII", 0xa1b23c4d, 2, 4, 0, 0, 262144, 276)
n = {1: 0, 2: 0}
for i in range(30):
    m = 1 + i // 2 % 2
    f = frame(i, m, i % 2)
    sll = struct.pack(">HHIHBB8s", 0x0800, 0, 3 if m == 1 else 5, 1, 0, 6, f[6:12] + b"\0\0") + f[14:]
    out += struct.pack("<IIII", 2000 + i, 0, len(sll), len(sll)) + sll
    n[m] += 1
out += struct.pack("<IIII", 2100, 0, 10, 10) + bytes(10)   # too short to name an interface
open(d + "/tap-sll2.pcap", "wb").write(out)
open(d + "/sll2-counts", "w").write("%d %d\n" % (n[1], n[2]))
PY
read -r n1 n2 < "$T/ng-counts"
for f in tap.pcapng tap-be.pcapng; do
    expect "by-interface-name $f" 0 split --by interface "$T/$f" --map eth1=1,eth2=2 --out "$T/if-$f" &&
        grep -q "sgm-1.pcap: $n1 packets" "$T/out" && grep -q "sgm-2.pcap: $n2 packets" "$T/out" &&
        grep -q "2 unmapped" "$T/out" || { echo "FAIL by-interface-name $f counts: $(cat "$T/out")"; fail=1; }
    # every flow is on one member (the crafted flows are)
    expect "check-interface-set $f" 0 check --capset "$T/if-$f" --json
done
# tshark reads the hand-made pcapng's first section the same way (an outside
# check of the oracle; tshark 4.0 names the second section's packets by the
# first section's interfaces, against the pcapng spec and libpcap)
got=$(tshark -r "$T/tap.pcapng" -c 41 -T fields -e frame.interface_name 2>/dev/null | sort | uniq -c | awk '{print $2"="$1}' | tr '\n' ' ')
[ "$got" = "eth1=20 eth2=20 mgmt=1 " ] && echo "ok   tshark-agrees-on-interfaces" || { echo "FAIL tshark sees $got"; fail=1; }
# by number: in the second section eth2 is interface 0 and eth1 interface 1,
# so member 2 gets the second section's eth1 traffic: 20 and 20 + 24
[ "$n1 $n2" = "44 20" ] || { echo "FAIL oracle counts $n1 $n2"; fail=1; }
expect by-interface-id 0 split --by interface "$T/tap.pcapng" --map 0=1,1=2 --out "$T/ifn" &&
    grep -q "sgm-1.pcap: 20 packets" "$T/out" && grep -q "sgm-2.pcap: 44 packets" "$T/out" ||
    { echo "FAIL by-interface-id counts: $(cat "$T/out")"; fail=1; }
read -r s1 s2 < "$T/sll2-counts"
expect by-interface-sll2 0 split --by interface "$T/tap-sll2.pcap" --map 3=1,5=2 --out "$T/sll2" &&
    grep -q "sgm-1.pcap: $s1 packets" "$T/out" && grep -q "sgm-2.pcap: $s2 packets" "$T/out" &&
    grep -q "1 unmapped" "$T/out" || { echo "FAIL by-interface-sll2 counts: $(cat "$T/out")"; fail=1; }
expect check-sll2-set 0 check --capset "$T/sll2" --min-flows-per-sgm 1 --json
/usr/bin/python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["flows"] == 30 and r["non_ip"] == 0, r' "$T/out" \
    || { echo "FAIL sll2 set flows"; fail=1; }
# a pcapng written by mergecap (one interface per input) splits back into its inputs
"$VF" split --by vlan "$T/tap.pcap" --map 101=1,102=2 --out "$T/mc" > /dev/null
mergecap -I none -F pcapng -w "$T/merged.pcapng" "$T/mc/sgm-1.pcap" "$T/mc/sgm-2.pcap" "$T/mc/unmapped.pcap"
expect by-interface-mergecap 0 split --by interface "$T/merged.pcapng" --map 0=1,1=2 --out "$T/mc2" &&
    grep -q "sgm-1.pcap: 30 packets" "$T/out" && grep -q "4 unmapped" "$T/out" ||
    { echo "FAIL mergecap counts: $(cat "$T/out")"; fail=1; }
expect mergecap-roundtrip 0 diff "$T/mc/sgm-1.pcap" "$T/mc2/sgm-1.pcap"
expect bad-interface-map 2 split --by interface "$T/tap.pcapng" --map =1 --out "$T/x"
head -c 300 "$T/tap.pcapng" > "$T/cut.pcapng"
expect cut-pcapng 2 split --by interface "$T/cut.pcapng" --map 0=1 --out "$T/x"
expect bad-map 2 split --by vlan "$T/tap.pcap" --map 5000=1 --out "$T/x"
expect bad-mac 2 split --by mac "$T/tap.pcap" --map 02:00=1 --out "$T/x"
expect missing-tap 2 split --by vlan "$T/none.pcap" --map 101=1 --out "$T/x"
grep -q "none.pcap" "$T/err" || { echo "FAIL missing tap not named"; fail=1; }
exit $fail
