#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# baton-tgen's DPDK backend, black box, on vdevs (no hugepages, no NIC):
#  1. open loop on two net_null ports: the port counters agree with --json,
#     --stats writes JSON lines;
#  1b. two net_ring ports nobody reads: frames refused are tx_dropped, not
#     captured as sent; 1c. two workers' captures merged in time order;
#  2. net_pcap ports: tshark finds no bad checksum and exactly N
#     conversations for --flows N in what port 0 sent;
#  3. closed loop through a memif pair (a perfect device), and through a real
#     device built here: two veth pairs joined by a Linux bridge in a
#     namespace, tgen on net_af_packet on the outer ends: every flow
#     completes; --capture holds what each port sent and received;
#  4. the same with the server side's replies diverted by a static bridge
#     entry to a port nobody reads: every flow fails after its retries;
#  5. port addresses: tgen answers the kernel's ARP and neighbour
#     solicitations and resolves the kernel's MAC as its next hop;
#  6. bad EAL or port setups exit 2 with a message saying what to change.
set -uo pipefail
TG=$1
. "$(dirname "$0")/dpdk-common.sh"
dpdk_init tgdpdk tgd
tg() { # tg PREFIX-SUFFIX EAL-ARGS... -- OPTIONS...
    local pfx=$1
    shift
    timeout -k 2 20 "$TG" "${EAL[@]}" --file-prefix "$P$pfx" "$@"
}
# a watchdog that kills PID after 30 s; its output goes nowhere, so it cannot
# hold the test's stdout open, and unguard ends its sleep too. (Not timeout(1)
# around tgen: timeout forwards a signal to the child and to its process
# group, so tgen would see one SIGINT twice and abort instead of draining.)
guard() { ( exec 1>/dev/null 2>&1; sleep 30; kill -9 "$1" ) & guard_pid=$!; }
unguard() { pkill -P "$guard_pid" sleep 2> /dev/null; kill "$guard_pid" 2> /dev/null; wait "$guard_pid" 2> /dev/null; }

# --- 1. net_null, open loop: port counters, --json, --stats
tg n1 --vdev net_null0 --vdev net_null1 -l 0,1 -- --synth tcp --flows 20000 --rate max --no-rx \
    --json --quiet > "$T/n1.json"
rc=$?
if [ $rc -eq 0 ] && json "$T/n1.json" 'd["backend"] == "dpdk" and d["flows_completed"] == 20000 and
        d["flows_failed"] == 0 and d["tx_packets"] == 9 * 20000 and d["tx_dropped"] == 0 and
        d["ports"][0]["opackets"] == d["tx_client_packets"] == 6 * 20000 and
        d["ports"][1]["opackets"] == d["tx_server_packets"] == 3 * 20000'; then
    ok "net_null rate max: 20000 flows, port counters = --json counts"
else
    bad "net_null rate max (exit $rc)"; show "$T/n1.json" tx_packets tx_client_packets flows_completed ports
fi
# (--no-huge: the mbufs back to back, not one a 4 KiB page, whose header
# lines all fall in one set of the L1 data cache)
if [ $rc -eq 0 ] && json "$T/n1.json" '0 < d["mbuf_stride"] < 4096'; then
    ok "net_null without hugepages: mbufs $(/usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["mbuf_stride"])' "$T/n1.json") bytes apart"
else
    bad "mbufs a page apart without hugepages"; show "$T/n1.json" mbufs mbuf_stride
fi
tg n2 --vdev net_null0 --vdev net_null1 -l 0 -- --synth udp --flows 3000 --cps 2000 --no-rx \
    --stats "$T/n2.jsonl" --json --quiet > "$T/n2.json"
rc=$?
lines=$(wc -l < "$T/n2.jsonl")
# (never faster than the rate; slower only by what a loaded machine adds)
if [ $rc -eq 0 ] && [ "$lines" -ge 2 ] && json "$T/n2.json" 'd["flows_completed"] == 3000 and
        1.4 < d["duration_s"] < 6.0' &&
    /usr/bin/python3 -c 'import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert all(r["schema"] == 1 for r in rows)
assert rows[-1]["tx_packets"] == json.load(open(sys.argv[2]))["tx_packets"]
assert 500 < rows[0]["cps"] < 2500, rows[0]' "$T/n2.jsonl" "$T/n2.json"; then
    ok "net_null paced at 2000 cps on the main lcore: $lines --stats lines, the last one = the summary"
else
    bad "net_null paced (exit $rc, $lines stats lines)"; show "$T/n2.json" flows_completed duration_s
fi

# --- 1b. a port that stops taking frames: two net_ring ports nobody reads
# fill their rings (1023 frames each); what tx_burst then refuses for 1 ms
# is freed and counted, and --capture holds only what the ports took
# (a frame counted tx_dropped must not be in port<p>-tx.pcap as sent: the
# loss check would blame the device for the tester's own drop)
tg r1 --vdev net_ring0 --vdev net_ring1 -l 0 -- --synth tcp --flows 2000 --rate max --no-rx \
    --capture "$T/rcap" --json --quiet > "$T/r1.json"
rc=$?
r0=$(capinfos -c -M "$T/rcap/port0-tx.pcap" 2> /dev/null | awk '/packets:/ {print $NF}')
r1=$(capinfos -c -M "$T/rcap/port1-tx.pcap" 2> /dev/null | awk '/packets:/ {print $NF}')
if [ $rc -eq 0 ] && [ -n "$r0" ] && [ -n "$r1" ] && json "$T/r1.json" "d['tx_dropped'] > 0 and
        d['capture_dropped'] == 0 and $r0 == d['ports'][0]['opackets'] > 0 and
        $r1 == d['ports'][1]['opackets'] > 0 and
        $r0 + $r1 + d['tx_dropped'] == d['tx_packets']"; then
    ok "a full ring: $r0 + $r1 frames sent and captured, the rest tx_dropped and not captured"
else
    bad "a full ring (exit $rc, captured $r0 / $r1)"; show "$T/r1.json" tx_packets tx_dropped capture_dropped ports
fi

# --- 1c. --capture with two workers: each port file is one time-ordered
# merge of the workers' frames (a drain empties one worker's ring after the
# other: written as they come, the file stepped back in time at every turn)
# (-m 512: each worker's four capture rings hold 8192 mbufs each)
timeout -k 2 20 "$TG" --no-huge -m 512 --no-pci --log-level=lib.eal:error --file-prefix "${P}w2" \
    --vdev net_null0 --vdev net_null1 --lcores '0@0,1@(0-1),2@(0-1)' -- --workers 2 --synth tcp --flows 4000 --cps 8000 --no-rx --capture "$T/wcap" --json --quiet > "$T/w2.json"
rc=$?
if [ $rc -eq 0 ] && /usr/bin/python3 - "$T/wcap" "$T/w2.json" <<'PY'
import glob, json, os, struct, sys
d = json.load(open(sys.argv[2]))
assert d["workers"] == 2 and d["capture_dropped"] == 0, d
assert sorted(os.listdir(sys.argv[1])) == ["port0-rx.pcap", "port0-tx.pcap", "port1-rx.pcap", "port1-tx.pcap"]
for name, want in (("port0-tx.pcap", d["tx_client_packets"]), ("port1-tx.pcap", d["tx_server_packets"])):
    b = open(os.path.join(sys.argv[1], name), "rb").read()
    o, n, last = 24, 0, 0
    while o < len(b):
        s, ns, cl, wl = struct.unpack_from("<IIII", b, o)
        t = s * 10**9 + ns
        assert t >= last, (name, n, t, last)
        last, n, o = t, n + 1, o + 16 + cl
    assert n == want, (name, n, want)
PY
then
    ok "--capture with two workers: each port file in time order, every frame, no part files left"
else
    bad "--capture with two workers (exit $rc)"; show "$T/w2.json" workers capture_dropped tx_client_packets
fi

# two workers on two lcores (lcore 2 shares a core): the flows split, none twice
tg n3 --vdev net_null0 --vdev net_null1 --lcores 0@0,1@1,2@1 -- --synth tcp --flows 10001 \
    --rate max --no-rx --workers 2 --json --quiet > "$T/n3.json"
rc=$?
if [ $rc -eq 0 ] && json "$T/n3.json" 'd["workers"] == 2 and d["flows_started"] == d["flows_completed"] == 10001 and
        d["ports"][0]["opackets"] == d["tx_client_packets"] == 6 * 10001'; then
    ok "two workers: 10001 flows between them, each once"
else
    bad "two workers (exit $rc)"; show "$T/n3.json" workers flows_started flows_completed
fi
# SIGINT: no new flow, the active ones finish, then the summary
"$TG" "${EAL[@]}" --file-prefix "${P}n4" --vdev net_null0 \
    --vdev net_null1 -l 0,1 -- --synth tcp,rtt=100ms --duration 60s --cps 500 --no-rx --json --quiet \
    --stats "$T/n4.jsonl" > "$T/n4.json" &
tgpid=$!
guard $tgpid
wait_line "$T/n4.jsonl" || bad "SIGINT: no --stats line from tgen within 15 s"
kill -INT $tgpid
wait $tgpid
rc=$?
unguard
if [ $rc -eq 0 ] && json "$T/n4.json" 'd["interrupted"] and 0 < d["flows_started"] < 2000 and
        d["flows_completed"] == d["flows_started"] and d["flows_active"] == 0 and d["duration_s"] < 5'; then
    ok "SIGINT: stopped, drained, summarized ($(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["flows_completed"])' "$T/n4.json") flows completed)"
else
    bad "SIGINT (exit $rc)"; show "$T/n4.json" interrupted flows_started flows_completed flows_active duration_s
fi
# twice: the active flows are aborted (rate max: they sit on its round robin)
"$TG" "${EAL[@]}" --file-prefix "${P}n6" --vdev net_null0 --vdev net_null1 -l 0,1 -- --synth tcp,resp=1000x2000 \
    --flows 100M --rate max --no-rx --json --quiet --stats "$T/n6.jsonl" > "$T/n6.json" &
tgpid=$!
guard $tgpid
wait_line "$T/n6.jsonl" || bad "SIGINT twice: no --stats line from tgen within 15 s"
kill -INT $tgpid
sleep 0.1
kill -INT $tgpid
wait $tgpid
rc=$?
unguard
if [ $rc -eq 0 ] && json "$T/n6.json" 'd["interrupted"] and d["flows_aborted"] > 0 and d["flows_active"] == 0 and
        d["flows_started"] == d["flows_completed"] + d["flows_aborted"]'; then
    ok "SIGINT twice: the active flows aborted, counted"
else
    bad "SIGINT twice (exit $rc)"; show "$T/n6.json" flows_started flows_completed flows_aborted
fi
# the live status line on a terminal (script gives it one)
script -qec "$TG ${EAL[*]} --file-prefix ${P}n5 --vdev net_null0 --vdev net_null1 -l 0,1 -- --synth tcp \
    --flows 2000 --cps 2000 --no-rx" /dev/null > "$T/n5.tty" 2>&1
if grep -q $'\r\033\[Ktx .*pps .*bps | rx .* | active [0-9]* | cps .* | done [0-9]* failed 0' "$T/n5.tty" &&
    grep -q "flows started 2000, completed 2000" "$T/n5.tty"; then
    ok "live status on a terminal, then the summary"
else
    bad "live status: $(tr '\r' '\n' < "$T/n5.tty" | tail -3)"
fi

# --- 2. net_pcap: checksums and conversations as tshark reads them
for spec in "tcp,req=200,resp=1400x3" "udp,req=100,resp=500x2"; do
    proto=${spec%%,*}
    d="$T/pcap-$proto"
    mkdir -p "$d"
    tg "p$proto" --vdev "net_pcap0,tx_pcap=$d/c.pcap" --vdev "net_pcap1,tx_pcap=$d/s.pcap" -l 0 -- \
        --synth "$spec" --flows 1000 --cps 50000 --json --quiet > "$d/j.json"
    rc=$?
    malformed="_ws.malformed || "
    [ "$proto" = udp ] && malformed=""   # (letters on odd UDP ports look malformed to guessers)
    nbad=0
    for f in c s; do
        n=$(tshark -r "$d/$f.pcap" -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE \
            -o udp.check_checksum:TRUE -Y "${malformed}ip.checksum.status == \"Bad\" || tcp.checksum.status == \"Bad\" || udp.checksum.status == \"Bad\"" \
            2> /dev/null | wc -l)
        nbad=$((nbad + n))
    done
    conv=$(tshark -r "$d/c.pcap" -q -z "conv,$proto" 2> /dev/null | grep -c "<->")
    pk=$(tshark -r "$d/c.pcap" 2> /dev/null | wc -l)
    if [ $rc -eq 0 ] && [ "$nbad" -eq 0 ] && [ "$conv" -eq 1000 ] &&
        json "$d/j.json" "d['tx_client_packets'] == $pk"; then
        ok "net_pcap $spec: 1000 conversations, $pk client packets, no bad checksum"
    else
        bad "net_pcap $spec: exit $rc, $nbad bad, $conv conversations, $pk packets"
    fi
done

# --- 3. closed loop: a memif pair in the process is a perfect device (what
# port 0 sends arrives on port 1 and back)
tg m1 --vdev "net_memif0,role=server,socket=$T/memif.sock,id=0" \
    --vdev "net_memif1,role=client,socket=$T/memif.sock,id=0" -l 0,1 -- --synth tcp --flows 2000 \
    --cps 10000 --mode closed --json --quiet > "$T/m1.json"
rc=$?
# (a preempted worker may time a packet out before it sees the answer: then
# the retransmission arrives too, every one counted)
if [ $rc -eq 0 ] && json "$T/m1.json" 'd["flows_completed"] == 2000 and d["flows_failed"] == 0 and
        d["rx_matched"] == d["tx_packets"] == 9 * 2000 + d["retransmits"] and
        d["ports"][1]["ipackets"] == d["tx_client_packets"]'; then
    ok "closed loop through a memif pair: 2000 flows completed"
else
    bad "closed loop through a memif pair (exit $rc)"; show "$T/m1.json" flows_completed rx_matched tx_packets retransmits
fi
# through a bridge in a namespace
X="ip netns exec $NS"
ip netns add "$NS" || { bad "ip netns add"; exit 1; }
$X ip link add tg0 type veth peer name a0
$X ip link add tg1 type veth peer name b0
$X ip link add c0 type veth peer name c1
$X ip link add br0 type bridge
for i in a0 b0 c0; do $X ip link set "$i" master br0; done
$X sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
# only the interface that holds an address answers ARP for it (tgen's
# af_packet ports are kernel interfaces too)
$X sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2
for i in lo tg0 tg1 a0 b0 c0 c1 br0; do $X ip link set "$i" up; done
for i in tg0 tg1 a0 b0; do $X ethtool -K "$i" tx off rx off tso off gso off gro off > /dev/null 2>&1; done
AFP=(--vdev net_af_packet0,iface=tg0 --vdev net_af_packet1,iface=tg1 -l 0,1)
$X timeout -k 2 20 "$TG" "${EAL[@]}" --file-prefix "${P}c1" "${AFP[@]}" -- --synth tcp,req=200,resp=1400x3 \
    --flows 1000 --cps 5000 --mode closed --capture "$T/cap" --json --quiet > "$T/c1.json"
rc=$?
cnt() { tshark -r "$1" 2> /dev/null | wc -l; }
if [ $rc -eq 0 ] && json "$T/c1.json" 'd["flows_completed"] == 1000 and d["flows_failed"] == 0 and
        d["retransmits"] == 0 and d["rx_matched"] == d["tx_packets"] == 12000 and d["lat_samples"] > 0'; then
    ok "closed loop through a bridge (af_packet): 1000 flows completed, every packet matched"
else
    bad "closed loop through a bridge (exit $rc)"; show "$T/c1.json" flows_completed flows_failed rx_matched tx_packets retransmits
fi
c0tx=$(cnt "$T/cap/port0-tx.pcap"); c1rx=$(cnt "$T/cap/port1-rx.pcap"); c1tx=$(cnt "$T/cap/port1-tx.pcap")
if json "$T/c1.json" "d['capture_dropped'] == 0 and $c0tx == d['tx_client_packets'] and
        $c1tx == d['tx_server_packets'] and $c1rx == d['ports'][1]['ipackets']"; then
    ok "--capture: port0-tx $c0tx, port1-tx $c1tx, port1-rx $c1rx packets, as counted"
else
    bad "--capture: port0-tx $c0tx, port1-tx $c1tx, port1-rx $c1rx"; show "$T/c1.json" tx_client_packets tx_server_packets capture_dropped ports
fi

# --- 4. server replies dropped: the bridge sends frames for the client MAC
# to c0, whose peer nobody reads
$X bridge fdb replace 02:00:00:00:00:01 dev c0 master static sticky
$X timeout -k 2 20 "$TG" "${EAL[@]}" --file-prefix "${P}c2" "${AFP[@]}" -- --synth tcp,req=200,resp=1400x3 \
    --flows 300 --cps 5000 --mode closed --rto 20ms --retries 2 --json --quiet > "$T/c2.json"
rc=$?
if [ $rc -eq 1 ] && json "$T/c2.json" 'd["flows_completed"] == 0 and d["flows_failed"] == 300 and
        d["retransmits"] == 2 * 300 and d["tx_client_packets"] == 300 and d["tx_server_packets"] == 3 * 300'; then
    ok "server replies dropped: 300 flows failed after 2 retries each, exit 1"
else
    bad "server replies dropped (exit $rc)"; show "$T/c2.json" flows_completed flows_failed retransmits tx_client_packets tx_server_packets
fi
$X bridge fdb del 02:00:00:00:00:01 dev c0 master static

# --- 5. port addresses: ARP and neighbour discovery with the kernel on br0
$X sysctl -qw net.ipv6.conf.br0.disable_ipv6=0
# (a fixed MAC: a bridge's own follows its ports' unless set)
$X ip link set br0 address 02:00:00:00:99:01
$X ip addr add 10.99.0.1/24 dev br0
$X ip -6 addr add fd00:99::1/64 dev br0 nodad
brmac=$($X cat /sys/class/net/br0/address)
tg0mac=$($X cat /sys/class/net/tg0/address)
$X timeout -k 2 20 "$TG" "${EAL[@]}" --file-prefix "${P}a1" "${AFP[@]}" -- --synth udp --flows 100 --cps 40 \
    --client-ip 10.99.0.2 --client-ip fd00:99::2 --client-gw 10.99.0.1 \
    --server-ip fd00:99::3 --server-gw fd00:99::1 --json --quiet --stats "$T/a1.jsonl" > "$T/a1.json" &
tgpid=$!
wait_line "$T/a1.jsonl" || bad "port addresses: no --stats line from tgen within 15 s"   # running: next hops resolved
# (the kernel learned tgen's MAC from its ARP request: forget it) a datagram
# from the kernel to each of tgen's addresses makes it ask
$X ip neigh flush dev br0
$X bash -c 'echo x > /dev/udp/10.99.0.2/9; echo x > /dev/udp/fd00:99::2/9' 2> /dev/null
sleep 0.3
n4=$($X ip neigh show 10.99.0.2 dev br0 | grep -c "lladdr $tg0mac")
n6=$($X ip -6 neigh show fd00:99::2 dev br0 | grep -c "lladdr $tg0mac")
wait $tgpid
rc=$?
if [ $rc -eq 0 ] && [ "$n4" -eq 1 ] && [ "$n6" -eq 1 ] && json "$T/a1.json" "d['ports'][0]['next_hop_mac'] == '$brmac' and
        d['ports'][1]['next_hop_mac'] == '$brmac' and
        d['ports'][0]['mac'] == '$tg0mac' and d['arp_replies'] >= 1 and d['nd_replies'] >= 1"; then
    ok "port addresses: the kernel learned tgen's MAC by ARP and ND; tgen resolved the next hop $brmac by ARP (port 0) and ND (port 1)"
else
    bad "port addresses (exit $rc, kernel neigh v4 $n4 v6 $n6, br0 $brmac)"; show "$T/a1.json" ports arp_replies nd_replies
fi
$X timeout -k 2 20 "$TG" "${EAL[@]}" --file-prefix "${P}a2" "${AFP[@]}" -- --synth udp --flows 10 \
    --client-ip 10.99.0.2 --client-gw 10.99.0.77 --quiet > /dev/null 2> "$T/a2.err"
rc=$?
if [ $rc -eq 2 ] && grep -q "next hop 10.99.0.77 did not answer ARP" "$T/a2.err"; then
    ok "an unanswered next hop exits 2 and says so"
else
    bad "unanswered next hop: exit $rc: $(cat "$T/a2.err")"
fi

# --- 6. bad setups exit 2 with a message
check2() { # NAME PHRASE ARGS...
    local name=$1 phrase=$2
    shift 2
    tg "b$name" "$@" > /dev/null 2> "$T/err"
    local rc=$?
    if [ $rc -eq 2 ] && grep -q -- "$phrase" "$T/err"; then
        ok "exit 2: $name"
    else
        bad "$name: exit $rc: $(tail -2 "$T/err")"
    fi
}
check2 one-port "1 DPDK port: give two" --vdev net_null0 -l 0 -- --synth tcp --no-rx
check2 lcores "give -l 0-2" --vdev net_null0 --vdev net_null1 -l 0 -- --synth tcp --workers 2 --no-rx
check2 mbufs "not enough mbufs for the requested flows" --vdev net_null0 --vdev net_null1 -l 0 -- \
    --synth tcp --mode closed --concurrency 100000 --flows 100000 --mbufs 8192
check2 memory "raise -m" --vdev net_null0 --vdev net_null1 -l 0 -- --synth tcp --mode closed \
    --concurrency 1000000 --flows 1000000
check2 eal "EAL arguments" --bogus-eal-flag --vdev net_null0 -- --synth tcp
check2 offline-flag "offline options" --vdev net_null0 --vdev net_null1 -- --synth tcp --pcap-out "$T/x"
check2 bad-option "unknown" --vdev net_null0 --vdev net_null1 -- --synth tcp --frobnicate
exit $fail
