#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# baton-tgen offline: tshark (an independent reader) finds no malformed packet
# and no bad checksum, --flows N gives exactly N conversations, runs repeat
# byte for byte, bad input exits 2.
set -uo pipefail
TG=$1
T=$(mktemp -d /tmp/bt-tgen-XXXXXX)
trap 'rm -rf "$T"' EXIT
fail=0
for spec in "tcp,req=200,resp=1400x10" "udp,req=100,resp=500x2" "tcp,req=1,resp=1460x1,rtt=20ms"; do
    d="$T/$(echo "$spec" | tr ',=' '__')"
    "$TG" --synth "$spec" --flows 1000 --cps 5000 --pcap-out "$d" > /dev/null || { echo "FAIL $spec: exit $?"; fail=1; continue; }
    # (UDP payloads of letters look malformed to port-guessing dissectors
    # such as OpenVPN on 1194: for UDP only the checksums are judged)
    malformed="_ws.malformed || "
    case $spec in udp*) malformed="" ;; esac
    for f in client server; do
        bad=$(tshark -r "$d/$f.pcap" -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE -o udp.check_checksum:TRUE \
            -Y "${malformed}ip.checksum.status == \"Bad\" || tcp.checksum.status == \"Bad\" || udp.checksum.status == \"Bad\"" 2>/dev/null | wc -l)
        [ "$bad" -eq 0 ] || { echo "FAIL $spec $f.pcap: $bad bad packets"; fail=1; }
    done
    proto=${spec%%,*}
    n=$(tshark -r "$d/client.pcap" -q -z "conv,$proto" 2>/dev/null | grep -c "<->")
    [ "$n" -eq 1000 ] && echo "ok   $spec: 1000 conversations, checksums good" || { echo "FAIL $spec: $n conversations"; fail=1; }
done
# the checksum check can fail: change a byte of the first packet's TCP
# sequence number (pcap header 24 + record header 16 + Ethernet 14 + IP 20 + 5)
cp "$T/tcp_req_200_resp_1400x10/client.pcap" "$T/corrupt.pcap"
printf '\xa5' | dd of="$T/corrupt.pcap" bs=1 seek=79 conv=notrunc 2>/dev/null
bad=$(tshark -r "$T/corrupt.pcap" -o tcp.check_checksum:TRUE -Y 'tcp.checksum.status == "Bad"' 2>/dev/null | wc -l)
[ "$bad" -ge 1 ] && echo "ok   a corrupted packet is caught" || { echo "FAIL corruption not caught"; fail=1; }
"$TG" --synth tcp --flows 300 --seed 5 --pcap-out "$T/a" > /dev/null
"$TG" --synth tcp --flows 300 --seed 5 --pcap-out "$T/b" > /dev/null
"$TG" --synth tcp --flows 300 --seed 6 --pcap-out "$T/c" > /dev/null
cmp -s "$T/a/client.pcap" "$T/b/client.pcap" && echo "ok   deterministic" || { echo "FAIL not deterministic"; fail=1; }
cmp -s "$T/a/client.pcap" "$T/c/client.pcap" && { echo "FAIL seed ignored"; fail=1; } || echo "ok   seed changes servers"
"$TG" --synth tcp --flows 10 --pcap-out "$T/j" --json 2>/dev/null | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["flows_completed"] == 10 and d["tx_packets"] == 80, d' && echo "ok   json" || { echo "FAIL json"; fail=1; }
for args in "--synth sctp --pcap-out $T/x" "--synth tcp,req=x --pcap-out $T/x" "--synth tcp,resp=2000 --pcap-out $T/x" \
            "--synth tcp --flows 0 --pcap-out $T/x" "--synth tcp --cps -1 --pcap-out $T/x" "--synth tcp" \
            "--synth tcp --clients 10.0.0.0/30 --flows 1000000 --pcap-out $T/x" "--synth tcp --pcap-out /proc/nope/x"; do
    # shellcheck disable=SC2086
    "$TG" $args > /dev/null 2> "$T/err"
    rc=$?
    [ $rc -eq 2 ] && [ -s "$T/err" ] || { echo "FAIL '$args': exit $rc"; fail=1; }
done
echo "bad input checked"
exit $fail
