#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# baton-tgen's DPDK backend in a lab built here (root, a network namespace):
# two veth pairs joined by a Linux bridge, tgen on net_af_packet on the
# outer ends.
#  1. closed loop with two worker lcores: each port has two queues
#     (qpairs=2), the kernel spreads frames over them by its own hash, so
#     about half arrive at the worker that does not own the flow and are
#     steered to the owner (rx_steered): every flow completes, v4 TCP and
#     v6 UDP;
#  2. the next hops are kept fresh: the kernel's bridge is port 0's IPv4
#     and port 1's IPv6 next hop; its MAC changes during the run; tgen's
#     periodic ARP / neighbour solicitation learns the new one and every
#     packet from then on goes to it (--capture); with --neigh-refresh 0
#     every packet keeps going to the old one (the check can fail);
#  3. a gratuitous ARP from the next hop at a new MAC is followed at once.
set -uo pipefail
TG=$1
. "$(dirname "$0")/dpdk-common.sh"
dpdk_init tglab tgl

X="ip netns exec $NS"
ip netns add "$NS" || { bad "ip netns add"; exit 1; }
$X ip link add tg0 type veth peer name a0
$X ip link add tg1 type veth peer name b0
$X ip link add br0 type bridge
for i in a0 b0; do $X ip link set "$i" master br0; done
$X sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
$X sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2
for i in lo tg0 tg1 a0 b0 br0; do $X ip link set "$i" up; done
for i in tg0 tg1 a0 b0; do $X ethtool -K "$i" tx off rx off tso off gso off gro off > /dev/null 2>&1; done

# --- 1. closed loop, two workers, frames steered to the flow's owner
# (lcores 1 and 2 share a core: CI has two)
for spec in "tcp,req=200,resp=1400x3" "udp,req=100,resp=300x2,v6"; do
    n=600
    # (-m 512: the capture rings of two workers hold 2 x 4 x 8192 mbufs)
    $X timeout -k 2 30 "$TG" --no-huge -m 512 --no-pci --log-level=lib.eal:error \
        --file-prefix "${P}w" --lcores 0@0,1@1,2@1 \
        --vdev net_af_packet0,iface=tg0,qpairs=2 --vdev net_af_packet1,iface=tg1,qpairs=2 -- \
        --workers 2 --synth "$spec" --flows $n --cps 3000 --mode closed --capture "$T/wcap" \
        --json --quiet > "$T/w.json"
    rc=$?
    # (--capture: what one worker received for the other is captured by
    # the one that received it, with a reference of its own)
    r0=$(tshark -r "$T/wcap/port0-rx.pcap" 2> /dev/null | wc -l)
    r1=$(tshark -r "$T/wcap/port1-rx.pcap" 2> /dev/null | wc -l)
    if [ $rc -eq 0 ] && json "$T/w.json" "d['workers'] == 2 and d['flows_completed'] == $n and
            d['flows_failed'] == 0 and d['rx_matched'] >= d['tx_packets'] and
            d['rx_steered'] > d['rx_packets'] / 5 and d['steer_dropped'] == 0 and
            d['capture_dropped'] == 0 and $r0 == d['ports'][0]['ipackets'] and
            $r1 == d['ports'][1]['ipackets']"; then
        ok "closed loop, 2 workers, $spec: $n flows completed, $(show "$T/w.json" rx_steered rx_packets), rx captures $r0 + $r1"
    else
        bad "closed loop, 2 workers, $spec (exit $rc, rx captures $r0 $r1)"; show "$T/w.json" flows_completed flows_failed rx_matched tx_packets rx_steered steer_dropped retransmits capture_dropped ports
    fi
    rm -rf "$T/wcap"
done

# --- 2. next hops refreshed: the bridge is the next hop, its MAC moves
$X sysctl -qw net.ipv6.conf.br0.disable_ipv6=0
$X ip addr add 10.99.0.1/24 dev br0
$X ip -6 addr add fd00:99::1/64 dev br0 nodad
old=02:00:00:00:99:01 new=02:00:00:00:99:02
for refresh in 200ms 0; do
    $X ip link set br0 address $old
    rm -rf "$T/cap" "$T/r.jsonl"
    $X timeout -k 2 30 "$TG" "${EAL[@]}" --file-prefix "${P}r" -l 0,1 \
        --vdev net_af_packet0,iface=tg0 --vdev net_af_packet1,iface=tg1 -- --synth udp --flows 100 \
        --cps 50 --client-ip 10.99.0.2 --client-gw 10.99.0.1 --server-ip fd00:99::3 \
        --server-gw fd00:99::1 --neigh-refresh $refresh --capture "$T/cap" --stats "$T/r.jsonl" \
        --json --quiet > "$T/r.json" &
    pid=$!
    wait_line "$T/r.jsonl" || bad "refresh $refresh: no --stats line within 15 s"
    sleep 0.5
    $X ip link set br0 address $new
    wait $pid
    rc=$?
    # the destination MACs of the generated (UDP) packets, runs of the same
    for p in 0 1; do
        tshark -r "$T/cap/port$p-tx.pcap" -Y udp -T fields -e eth.dst 2> /dev/null | uniq > "$T/runs$p"
    done
    if [ "$refresh" = 0 ]; then
        if [ $rc -eq 0 ] && [ "$(cat "$T/runs0" "$T/runs1" | sort -u)" = "$old" ] &&
            json "$T/r.json" "d['neigh_requests'] == 0 and d['ports'][0]['next_hop_changes'] == 0 and
                d['ports'][1]['next_hop_mac'] == '$old'"; then
            ok "--neigh-refresh 0: every packet to the old MAC (nothing asked again)"
        else
            bad "--neigh-refresh 0 (exit $rc): $(cat "$T/runs0" | tr '\n' ' ')"; show "$T/r.json" neigh_requests ports
        fi
    elif [ $rc -eq 0 ] && [ "$(cat "$T/runs0")" = "$old"$'\n'"$new" ] &&
        [ "$(cat "$T/runs1")" = "$old"$'\n'"$new" ] &&
        json "$T/r.json" "d['neigh_requests'] >= 6 and all(p['next_hop_mac'] == '$new' and
            p['next_hop_changes'] == 1 for p in d['ports'])"; then
        ok "next hops refreshed (ARP on port 0, ND on port 1): $old, then $new only"
    else
        bad "refresh (exit $rc): port 0 $(tr '\n' ' ' < "$T/runs0"), port 1 $(tr '\n' ' ' < "$T/runs1")"
        show "$T/r.json" neigh_requests ports
    fi
done

# --- 3. a gratuitous ARP from the next hop with a new MAC (a cluster
# member taking the address over) is followed without asking
$X ip link set br0 address $old
garp=02:00:00:00:99:03
rm -rf "$T/cap" "$T/r.jsonl"
$X timeout -k 2 30 "$TG" "${EAL[@]}" --file-prefix "${P}g" -l 0,1 \
    --vdev net_af_packet0,iface=tg0 --vdev net_af_packet1,iface=tg1 -- --synth udp --flows 100 \
    --cps 50 --client-ip 10.99.0.2 --client-gw 10.99.0.1 --neigh-refresh 0 --capture "$T/cap" \
    --stats "$T/r.jsonl" --json --quiet > "$T/g.json" &
pid=$!
wait_line "$T/r.jsonl" || bad "gratuitous ARP: no --stats line within 15 s"
sleep 0.5
# an ARP request for its own address from 10.99.0.1 at $garp, broadcast on br0
$X /usr/bin/python3 - "$garp" <<'PY'
import socket, sys
mac = bytes.fromhex(sys.argv[1].replace(":", ""))
ip = socket.inet_aton("10.99.0.1")
arp = b"\x00\x01\x08\x00\x06\x04\x00\x01" + mac + ip + b"\x00" * 6 + ip
frame = b"\xff" * 6 + mac + b"\x08\x06" + arp + b"\x00" * 18
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("br0", 0))
s.send(frame)
PY
wait $pid
rc=$?
tshark -r "$T/cap/port0-tx.pcap" -Y udp -T fields -e eth.dst 2> /dev/null | uniq > "$T/runs0"
if [ $rc -eq 0 ] && [ "$(cat "$T/runs0")" = "$old"$'\n'"$garp" ] &&
    json "$T/g.json" "d['neigh_requests'] == 0 and d['ports'][0]['next_hop_mac'] == '$garp' and
        d['ports'][0]['next_hop_changes'] == 1"; then
    ok "gratuitous ARP from the next hop: $old, then $garp only (nothing asked)"
else
    bad "gratuitous ARP (exit $rc): $(tr '\n' ' ' < "$T/runs0")"; show "$T/g.json" neigh_requests ports
fi
exit $fail
