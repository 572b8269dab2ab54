#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# baton-tgen's DPDK backend against its peers, side by side in one run:
#  1. one worker lcore, two net_null ports, a small TCP template replayed over
#     1M flows at max rate, vs `dpdk-testpmd --forward-mode=txonly` on the
#     same vdevs and lcores, --txpkts the template's mean frame size (tgen
#     pps / testpmd pps, goal >= 0.7); and testpmd --txonly-multi-flow (a
#     new source address per packet, its IP checksum computed) for scale;
#  2. the kernel path: tgen on net_af_packet over veths vs
#     `tcpreplay --topspeed` of the same packets (the offline backend's
#     client.pcap + server.pcap, split back by tcpprep) on the same veths
#     (pps ratio, goal >= 1.5), tcpreplay also with --preload-pcap (its
#     best wall rate: no file reads while it sends; its CPU time then counts
#     the preload); and tgen on net_af_xdp for comparison;
#  3. state per concurrent flow (the engine's figure, and the peak RSS with
#     1M concurrent flows minus that with 1000, per flow; goal <= 64 bytes),
#     1M concurrent flows with -m 1024 (3M flows, 1M at a time).
# Medians of RUNS runs. Needs root (a network namespace for 2).
# Usage: bench/tgen.sh [BUILD_DIR] [RUNS] [PARTS]   (PARTS: e.g. 1 or 13; default 123)
set -euo pipefail
B=${1:-build}
RUNS=${2:-3}
PARTS=${3:-123}
TG=$B/tgen/baton-tgen
T=$(mktemp -d /tmp/bt-bench-tgen-XXXXXX)
NS=bt-bench-tgen-$$
P=bttgb$$
trap 'ip netns del "$NS" 2> /dev/null || true; rm -rf "$T" /var/run/dpdk/"$P"*' EXIT
EAL=(--no-huge -m 1024 --no-pci --log-level=lib.eal:error -l 0,1)
NULLS=(--vdev net_null0 --vdev net_null1)
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg); DPDK $(pkg-config --modversion libdpdk 2> /dev/null)"
pyget() { /usr/bin/python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }

# --- 1. net_null: tgen vs testpmd txonly
TPL=tcp,req=10,resp=10x1   # frames of 54 and 64 bytes
# testpmd's packets as long as the template's on average (net_null does
# not read them either way; testpmd writes 42 bytes of headers)
TXPKTS=$("$TG" --synth "$TPL" --flows 10 --json --quiet | /usr/bin/python3 -c \
    'import json, sys; d = json.loads(sys.stdin.read()); print(round(d["tx_bytes"] / d["tx_packets"]))')
touch "$T/res"
# testpmd_run NAME ARGS...: appends "NAME wall cpu" (Mpps) to $T/res
testpmd_run() {
    local name=$1
    shift
    dpdk-testpmd "${EAL[@]}" --file-prefix "${P}tp" "${NULLS[@]}" -- --forward-mode=txonly \
        --txpkts="$TXPKTS" --total-num-mbufs=8192 --stats-period 1 "$@" < /dev/null > "$T/tp.out" 2>&1 &
    local tpid=$!
    sleep 6
    # the forwarding thread's CPU time (ticks), read just before it stops
    local cpu=0 t
    for t in /proc/$tpid/task/*; do
        [ "$(cat "$t/comm")" = rte-worker-1 ] && cpu=$(awk '{print $14 + $15}' "$t/stat")
    done
    kill -INT $tpid
    wait $tpid || true
    # wall: per period Tx-pps of port 0 + port 1, the median after the first
    # period; CPU: packets sent / the forwarding thread's CPU seconds
    /usr/bin/python3 - "$T/tp.out" "$cpu" "$(getconf CLK_TCK)" "$name" >> "$T/tpres" <<'PY'
import re, statistics, sys
txt = open(sys.argv[1]).read()
v = [int(x) for x in re.findall(r"Tx-pps:\s+(\d+)", txt)]
s = [v[i] + v[i + 1] for i in range(0, len(v) - 1, 2)][1:]
pk = int(re.findall(r"Accumulated forward statistics.*?TX-packets:\s+(\d+)", txt, re.S)[0])
print(sys.argv[4], statistics.median(s), pk / (int(sys.argv[2]) / int(sys.argv[3])))
PY
}
for i in $(seq "$RUNS"); do
    [[ $PARTS == *1* ]] || break
    : > "$T/tpres"
    testpmd_run single
    testpmd_run multi --txonly-multi-flow
    read -r _ tp tpc < <(grep '^single' "$T/tpres")
    read -r _ tpm tpmc < <(grep '^multi' "$T/tpres")
    "$TG" "${EAL[@]}" --file-prefix "${P}tg" "${NULLS[@]}" -- --synth "$TPL" --flows 1000000 \
        --rate max --no-rx --json --quiet > "$T/tg.json"
    tg=$(pyget "$T/tg.json" 'd["tx_pps"]')
    tgc=$(pyget "$T/tg.json" 'd["tx_packets"] / d["worker_cpu_s"]')
    echo "null $tg $tp" >> "$T/res"
    echo "nullcpu $tgc $tpc" >> "$T/res"
    echo "nullmf $tg $tpm" >> "$T/res"
    echo "nullmfcpu $tgc $tpmc" >> "$T/res"
    awk -v i="$i" -v a="$tg" -v b="$tgc" -v c="$tp" -v d="$tpc" -v e="$tpm" -v f="$tpmc" -v l="$TXPKTS" 'BEGIN {
        printf "run %d: net_null: tgen %.2f Mpps (%.2f per CPU second of its worker), testpmd txonly --txpkts=%d %.2f Mpps (%.2f), --txonly-multi-flow %.2f (%.2f)\n",
            i, a / 1e6, b / 1e6, l, c / 1e6, d / 1e6, e / 1e6, f / 1e6 }'
done

# --- 2. kernel path: veths, tgen on net_af_packet vs tcpreplay --topspeed.
# Two pairs (vA-pA, vB-pB), both tools sending on vA and vB: what one port
# sends lands on a peer nobody reads (with one pair, tgen's own socket on
# the other end would receive it, a cost tcpreplay does not have)
if [[ $PARTS == *2* ]]; then
ip netns add "$NS"
X="ip netns exec $NS"
$X ip link add vA type veth peer name pA
$X ip link add vB type veth peer name pB
$X sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
for i in vA pA vB pB; do $X ip link set "$i" up; done
KOPTS=(--synth tcp --flows 100000 --rate max --seed 7)
"$TG" "${KOPTS[@]}" --pcap-out "$T/k" --quiet   # the same packets, offline
mergecap -F pcap -w "$T/k/all.pcap" "$T/k/client.pcap" "$T/k/server.pcap"
tcpprep --cidr=16.0.0.0/8 -i "$T/k/all.pcap" -o "$T/k/all.cache"
AFP=framecnt=4096,blocksz=65536
# tcpreplay is one thread the scheduler puts on either core; tgen's worker
# lcore may run on either too (EAL pins lcores to one CPU by default: on a
# shared machine that alone decides the wall figures)
KEAL=(--no-huge -m 1024 --no-pci --log-level=lib.eal:error --lcores '0@0,1@(0-1)')
for i in $(seq "$RUNS"); do
    $X /usr/bin/time -f "%U %S" -o "$T/tr.cpu" tcpreplay --topspeed --intf1=vA --intf2=vB \
        --cachefile="$T/k/all.cache" "$T/k/all.pcap" > "$T/tr.out" 2>&1
    tr=$(sed -n 's/.*Rated: .* \([0-9.]*\) pps.*/\1/p' "$T/tr.out")
    trn=$(sed -n 's/.*Actual: \([0-9]*\) packets.*/\1/p' "$T/tr.out")
    trc=$(awk -v n="$trn" '{print n / ($1 + $2)}' "$T/tr.cpu")
    $X /usr/bin/time -f "%U %S" -o "$T/trk.cpu" tcpreplay --preload-pcap --topspeed --intf1=vA \
        --intf2=vB --cachefile="$T/k/all.cache" "$T/k/all.pcap" > "$T/trk.out" 2>&1
    trk=$(sed -n 's/.*Rated: .* \([0-9.]*\) pps.*/\1/p' "$T/trk.out")
    trkn=$(sed -n 's/.*Actual: \([0-9]*\) packets.*/\1/p' "$T/trk.out")
    trkc=$(awk -v n="$trkn" '{print n / ($1 + $2)}' "$T/trk.cpu")
    [ "$trn" = "$trkn" ] || echo "tcpreplay sent $trn and $trkn packets" >&2
    $X "$TG" "${KEAL[@]}" --file-prefix "${P}ka" --vdev "net_af_packet0,iface=vA,$AFP" \
        --vdev "net_af_packet1,iface=vB,$AFP" -- "${KOPTS[@]}" --no-rx --json --quiet > "$T/ka.json"
    ka=$(pyget "$T/ka.json" 'd["tx_pps"] if d["tx_dropped"] == 0 else 0')
    kac=$(pyget "$T/ka.json" 'd["tx_packets"] / d["worker_cpu_s"]')
    echo "kernel $ka $tr" >> "$T/res"
    echo "kernelcpu $kac $trc" >> "$T/res"
    echo "kernelpre $ka $trk" >> "$T/res"
    echo "kernelprecpu $kac $trkc" >> "$T/res"
    # (and net_af_xdp on the same veths, copy mode: not the issue's PMD, for comparison)
    $X "$TG" "${KEAL[@]}" --file-prefix "${P}kx" --vdev net_af_xdp0,iface=vA --vdev net_af_xdp1,iface=vB \
        -- "${KOPTS[@]}" --no-rx --json --quiet > "$T/kx.json" 2> /dev/null
    kx=$(pyget "$T/kx.json" 'd["tx_pps"] if d["tx_dropped"] == 0 else 0')
    echo "kernelxdp $kx $tr" >> "$T/res"
    printf 'run %d: veth: tgen on net_af_packet %.0f pps (%.0f per CPU second), tcpreplay --topspeed %.0f pps (%.0f), with --preload-pcap %.0f pps (%.0f)\n' \
        "$i" "$ka" "$kac" "$tr" "$trc" "$trk" "$trkc"
done
fi

# --- 3. state per concurrent flow; 1M concurrent flows with -m 1024
for c in 1000 1000000; do
    [[ $PARTS == *3* ]] || break
    /usr/bin/time -f "%M" -o "$T/rss.$c" "$TG" "${EAL[@]}" --file-prefix "${P}st" "${NULLS[@]}" -- \
        --synth tcp --flows 3000000 --concurrency "$c" --rate max --no-rx --stats "$T/st.$c" \
        --json --quiet > "$T/st.$c.json"
done
/usr/bin/python3 - "$T" <<'PY'
import json, statistics, sys
t = sys.argv[1]
r = {}
for line in open(t + "/res"):
    k, a, b = line.split()
    r.setdefault(k, []).append((float(a), float(b)))
for k, name, peer in (("null", "net_null, 1 worker", "testpmd txonly"),
                      ("nullcpu", "net_null, per CPU second of the worker", "testpmd txonly"),
                      ("nullmf", "net_null, 1 worker", "testpmd txonly --txonly-multi-flow"),
                      ("nullmfcpu", "net_null, per CPU second of the worker", "testpmd txonly --txonly-multi-flow"),
                      ("kernel", "veth, net_af_packet", "tcpreplay --topspeed"),
                      ("kernelcpu", "veth, per CPU second (user+sys)", "tcpreplay --topspeed"),
                      ("kernelpre", "veth, net_af_packet", "tcpreplay --topspeed --preload-pcap"),
                      ("kernelprecpu", "veth, per CPU second (user+sys)", "tcpreplay --topspeed --preload-pcap"),
                      ("kernelxdp", "veth, net_af_xdp", "tcpreplay --topspeed")):
    if k not in r:
        continue
    a = statistics.median(x[0] for x in r[k])
    b = statistics.median(x[1] for x in r[k])
    print(f"{name}: tgen {a/1e6:.3f} Mpps, {peer} {b/1e6:.3f} Mpps, ratio {a/b:.2f} (medians of {len(r[k])})")
import os
if not os.path.exists(f"{t}/rss.1000000"):
    sys.exit(0)
rss = {c: int(open(f"{t}/rss.{c}").read().split()[-1]) for c in (1000, 1000000)}
j = {c: json.load(open(f"{t}/st.{c}.json")) for c in (1000, 1000000)}
peak = max([json.loads(l)["flows_active"] for l in open(t + "/st.1000000")] + [0])
per = (rss[1000000] - rss[1000]) * 1024 / (1000000 - 1000)
print(f"state per concurrent flow: engine {j[1000000]['state_bytes_per_flow']} bytes; "
      f"RSS {rss[1000]/1024:.0f} MiB at 1000 concurrent, {rss[1000000]/1024:.0f} MiB at 1M: {per:.0f} bytes per flow")
print(f"1M concurrent (-m 1024): peak active {peak} (per-second samples), {j[1000000]['flows_completed']} completed, "
      f"{j[1000000]['tx_pps']/1e6:.3f} Mpps (1000 concurrent: {j[1000]['tx_pps']/1e6:.3f} Mpps)")
PY
