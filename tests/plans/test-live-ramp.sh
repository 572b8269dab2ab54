#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# baton-plan run --live of a ramp: (RFC 9411 7.2, connections per second)
# through a device built here whose capacity is limited for real: a Linux
# bridge in a network namespace whose server-to-client side is shaped by a
# token bucket (tc tbf on the bridge port towards the client). Each
# connection sends a known number of bytes that way, so the bucket's rate
# implies a connection rate the search must find:
#   capacity = rate (bytes/s) / server-to-client bytes of one connection,
# the bytes measured on tgen's server port in a first plain run (what the
# traffic is, not what the device does), and the bucket made to hold what
# tgen sends in the bursts of a loaded host:
#   capacity = (rate x 1 s trial + burst) / 1 s / server-to-client bytes,
#   burst = rate x 2 x tgen's longest silence in that first run, at least
#   16 kB (~13 ms of the rate: a quiet host's jitter). A host at load ~9
#   stops tgen for tens of ms (80 ms with the test in a CPU cgroup of 30 ms
#   each 100 ms) and it then sends the flows it owes at once: a bucket of
#   16 kB dropped them from 0.6 x the rate on, and the search found half
#   the capacity;
#  1. a plain live run at a low rate: passes; gives the bytes per connection
#     and tgen's longest silence (run again, up to 3 times, while that is
#     over 125 ms: the measurement is retried, each run must pass);
#  2. the search from capacity/2 to 1.5 x capacity in 3 bisections: the plan
#     passes with live.capacity (tolerance 25 %), the capacity found within
#     0.6..1.15 x the configured capacity, one baton-tgen step per trial in
#     --json ramp.steps with their figures (the lower end clean, the upper
#     end not: server-to-client packets lost, or the rate not held), JUnit
#     one testcase capacity without failure;
#  3. the device dropping everything (the server side off the bridge): the
#     search stops at its lower end, capacity fails, exit 1, within
#     live.timeout;
#  4. RFC 9411 7.5 (concurrent connections): the namespace a router whose
#     nftables rule drops a new connection's SYN while N connections are
#     open (ct count over N); open-loop connections of two 250 ms round
#     trips, opened at 1500/s (the kernel frees a closed connection from the
#     count at most 8 a tick, 2000/s at HZ=250: opened faster, the previous
#     step's closed ones would still count); the search from 2/3 N to 4/3 N
#     finds N (0.85..1.05 x N), the steps above N lose the SYNs over N
#     (skipped without nft).
set -uo pipefail
PLAN=$1 TG=$2 OUT=$3
. "$(dirname "$0")/live-common.sh"
live_init plr
PREFIX=$P
rm -rf "$OUT"
mkdir -p "$OUT"
py() { /usr/bin/python3 -c "$@"; }
show() { py 'import json, sys; d = json.load(open(sys.argv[1]))["plans"][0]; print({k: (v["pass"], v["message"][:200]) for k, v in d["verdicts"].items()}); [print(s) for s in d.get("ramp", {}).get("steps", [])]' "$1"; }

# --- the device: a bridge, its port towards the client shaped
RATE_KBIT=10000                      # tbf rate, kbit/s (1000 bits)
live_bridge
# a bucket of 16 kB (~13 ms of the rate) absorbs tgen's pacing jitter; a
# queue of 20 ms, then drops
if ! $X tc qdisc add dev c0 root tbf rate ${RATE_KBIT}kbit burst 16kb latency 20ms; then
    echo "skip: no tbf qdisc in this kernel"
    exit 77
fi

EAL="--no-huge -m 512 --no-pci -l 0,1 --log-level=lib.eal:error --file-prefix $PREFIX"
TRAFFIC="traffic:
  templates:
    - synth: tcp,req=100,resp=500
  retransmit: {timeout: 50ms, retries: 3}"
LIVE="live:
  client: $C
  server: $S
  eal: $EAL"
run() { # NAME: the report in $T/NAME.json, the exit status in rc
    BATON_TGEN=$TG timeout -k 5 100 "$PLAN" run --live --json --out "$OUT" --junit "$T/$1.xml" \
        "$T/$1.yaml" > "$T/$1.json" 2> "$T/$1.err"
    rc=$?
}

# --- 1. a plain run at a low rate: the bytes one connection sends towards
# the client, and the longest silence between two of tgen's client frames
cat > "$T/plain.yaml" << EOF
name: plain
seed: 3
$TRAFFIC
  cps: 300
  flows: 300
expect:
  loss_pct: 0
  failed_flows: 0
$LIVE
EOF
for try in 1 2 3; do
    run plain
    # server-to-client bytes a connection: what tgen's server port sent, by
    # frame length (what the bucket counts), over the flows; the silence:
    # the longest gap between the time stamps of tgen's client frames
    read -r BPC GAP < <(py 'import struct, sys
def frames(p):
    f = open(p, "rb"); div = 1e9 if f.read(24)[:4] == bytes.fromhex("4d3cb2a1") else 1e6
    while True:
        h = f.read(16)
        if len(h) < 16: return
        s, u, cap, wire = struct.unpack("<IIII", h); f.seek(cap, 1); yield s + u / div, wire
b = sum(w for _, w in frames(sys.argv[1]))
t = [s for s, _ in frames(sys.argv[2])]
print(b / 300, max(y - x for x, y in zip(t, t[1:])))' "$OUT/plain/tgen/port1-tx.pcap" "$OUT/plain/tgen/port0-tx.pcap" 2> /dev/null)
    if [ $rc -eq 0 ] && [ -n "$GAP" ] && json "$T/plain.json" 'd["pass"] and d["tgen"]["flows_completed"] == 300'; then
        ok "plain run through the shaped bridge passes; $BPC bytes a connection towards the client, tgen silent for $GAP s at most"
    else
        bad "plain run (exit $rc, bytes '$BPC'): $(tail -3 "$T/plain.err")"; [ -s "$T/plain.json" ] && show "$T/plain.json"
        exit 1
    fi
    py "import sys; sys.exit($GAP > 0.125)" && break
done
if ! py "import sys; sys.exit($GAP > 0.125)"; then
    bad "tgen was silent for $GAP s in each of 3 plain runs (more than 125 ms: a bucket holding that would be most of the capacity)"
    exit 1
fi
# the bucket: twice the longest silence at the rate, at least 16 kB
BURST=$(py "print(max(16384, round($RATE_KBIT * 1000 / 8 * 2 * $GAP)))")
$X tc qdisc change dev c0 root tbf rate ${RATE_KBIT}kbit burst "$BURST" latency 20ms ||
    { bad "tc qdisc change (burst $BURST)"; exit 1; }
# the capacity the bucket implies over a trial of 1 s, connections per second
CAP=$(py "print(round(($RATE_KBIT * 1000 / 8 + $BURST) / $BPC))")

# --- 2. the search
cat > "$T/search.yaml" << EOF
name: search
seed: 3
$TRAFFIC
ramp:
  find: cps
  from: $((CAP / 2))
  to: $((CAP * 3 / 2))
  trial: 1s
  steps: 3
  tolerance: 25
$LIVE
  capacity: $CAP
EOF
t0=$(date +%s)
run search
took=$(($(date +%s) - t0))
if [ $rc -eq 0 ] && json "$T/search.json" 'd["mode"] == "live" and d["pass"] and
        d["ramp"]["find"] == "cps" and d["ramp"]["capacity"] == '"$CAP"' and
        0.6 * '"$CAP"' <= d["ramp"]["found"] <= 1.15 * '"$CAP"' and
        d["ramp"]["trials"] == 5 == len(d["ramp"]["steps"]) and
        [s["load"] for s in d["ramp"]["steps"][:3]] == ['"$((CAP / 2)).0, $((CAP * 3 / 2)).0"', ('"$((CAP / 2)) + $((CAP * 3 / 2))"') / 2] and
        d["ramp"]["steps"][0]["clean"] and d["ramp"]["steps"][0]["flows_completed"] == d["ramp"]["steps"][0]["flows_started"] > 0 and
        not d["ramp"]["steps"][1]["clean"] and
        (d["ramp"]["steps"][1]["lost_s2c"] > 0 or d["ramp"]["steps"][1]["late_s"] > 0.05) and
        d["ramp"]["steps"][1]["lost_c2s"] == 0 and
        max(s["load"] for s in d["ramp"]["steps"] if s["clean"]) == d["ramp"]["found"] and
        all(not s["clean"] for s in d["ramp"]["steps"] if s["load"] > d["ramp"]["found"]) and
        d["verdicts"]["capacity"]["judged"] and d["verdicts"]["capacity"]["pass"] and
        "(live.capacity)" in d["verdicts"]["capacity"]["message"]'; then
    ok "search through a bucket of $RATE_KBIT kbit/s, burst $BURST bytes (capacity $CAP conn/s): found $(py 'import json; print(json.load(open("'"$T/search.json"'"))["plans"][0]["ramp"]["found"])') in 5 steps, $took s"
else
    bad "search (exit $rc, capacity $CAP, $took s): $(tail -3 "$T/search.err")"; [ -s "$T/search.json" ] && show "$T/search.json"
fi
for k in 0 1 2 3 4; do
    [ -s "$OUT/search/step-$k/client.pcap" ] && [ -s "$OUT/search/step-$k/tgen.json" ] || bad "step-$k: no client.pcap or tgen.json"
done
if tr -d '\n' < "$T/search.xml" | grep -q '<testcase[^>]*name="capacity"' && ! grep -q '<failure' "$T/search.xml"; then
    ok "JUnit: the capacity testcase, no failure"
else
    bad "JUnit: $(head -c 600 "$T/search.xml")"
fi

# --- 3. the device dropping everything
ip -n "$NS" link set s0 nomaster
cp "$T/search.yaml" "$T/dead.yaml"
sed -i 's/^name: search/name: dead/' "$T/dead.yaml"
# bounded: baton-tgen holds as many flows at once as the rate and the
# template need, so flows waiting for answers that never come hold back
# the next ones' starts and a 1 s trial can last long
echo "  timeout: 10s" >> "$T/dead.yaml"
sed -i 's/retries: 3/retries: 1/' "$T/dead.yaml"     # its flows fail sooner
t0=$(date +%s)
run dead
took=$(($(date +%s) - t0))
if [ $rc -eq 1 ] && [ "$took" -lt 30 ] && json "$T/dead.json" 'not d["pass"] and len(d["ramp"]["steps"]) == 1 and
        not d["ramp"]["steps"][0]["clean"] and not d["verdicts"]["capacity"]["pass"] and
        d["ramp"]["steps"][0]["lost_c2s"] > 0 and
        ("lower end" in d["verdicts"]["capacity"]["message"] or "did not finish" in d["verdicts"]["capacity"]["message"]) and
        "flows did not complete" in d["verdicts"]["capacity"]["message"]'; then
    ok "a device dropping everything: the lower end is not carried (its flows did not complete), capacity fails, exit 1 ($took s)"
else
    bad "dead device (exit $rc): $(tail -3 "$T/dead.err")"; [ -s "$T/dead.json" ] && show "$T/dead.json"
fi

# --- 4. concurrent connections through a router limiting them
# (bootstrap.sh installs nftables: without it this part is not run, and the
# test fails rather than pass having checked less)
if ! command -v nft > /dev/null; then
    bad "concurrent connections: no nft (bootstrap.sh installs nftables)"
else
    N=800
    $X tc qdisc del dev c0 root
    $X ip link set c0 nomaster
    $X ip addr add 10.1.0.1/24 dev c0
    $X ip addr add 10.2.0.1/24 dev s0
    $X sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.send_redirects=0
    $X ip route add 16.0.0.0/8 via 10.1.0.2 dev c0
    $X ip route add 48.0.0.0/16 via 10.2.0.2 dev s0
    # tgen's addresses known up front: no packet queued (and dropped) while
    # the router resolves them at a step's start
    $X ip neigh replace 10.1.0.2 lladdr "$(cat "/sys/class/net/$C/address")" dev c0 nud permanent
    $X ip neigh replace 10.2.0.2 lladdr "$(cat "/sys/class/net/$S/address")" dev s0 nud permanent
    # (the chain is not "fwd": an nft keyword)
    $X nft -f - << EOF
table ip baton_limit {
    chain limit_conns {
        type filter hook forward priority 0; policy accept;
        iifname "c0" tcp flags & (syn | ack) == syn ct count over $N counter drop
    }
}
EOF
    cat > "$T/conc.yaml" << EOF
name: conc
seed: 3
traffic:
  mode: open
  templates:
    - synth: tcp,req=100,resp=500,rounds=2,rtt=250ms
  cps: 1500
ramp:
  find: concurrent
  from: $((N * 2 / 3))
  to: $((N * 4 / 3))
  steps: 2
  tolerance: 10
$LIVE
  capacity: $N
  tgen_args: --client-ip 10.1.0.2 --client-gw 10.1.0.1 --server-ip 10.2.0.2 --server-gw 10.2.0.1
EOF
    t0=$(date +%s)
    run conc
    took=$(($(date +%s) - t0))
    if [ $rc -eq 0 ] && json "$T/conc.json" 'd["pass"] and d["ramp"]["find"] == "concurrent" and
            0.85 * '"$N"' <= d["ramp"]["found"] <= 1.05 * '"$N"' and len(d["ramp"]["steps"]) == 4 and
            d["ramp"]["steps"][0]["clean"] and
            all(s["lost_c2s"] >= s["flows_started"] - '"$N"' and s["lost_s2c"] == 0
                for s in d["ramp"]["steps"] if s["load"] > '"$N"') and
            all(s["clean"] == (s["load"] <= '"$N"') for s in d["ramp"]["steps"]) and
            d["verdicts"]["capacity"]["pass"]'; then
        ok "concurrent connections through a router limiting them to $N: found $(py 'import json; print(json.load(open("'"$T/conc.json"'"))["plans"][0]["ramp"]["found"])'), the steps above it lose the SYNs over $N ($took s)"
    else
        bad "concurrent (exit $rc, $took s): $(grep -v TELEMETRY "$T/conc.err" | tail -5)"; [ -s "$T/conc.json" ] && show "$T/conc.json"
    fi
fi
[ -e "/var/run/dpdk/$PREFIX" ] && rm -rf "/var/run/dpdk/$PREFIX"
exit $fail
