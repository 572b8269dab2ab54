#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# baton-plan run --live through an external device built here: two veth
# pairs whose inner ends a Linux bridge joins in a network namespace (the
# device), baton-tgen on net_af_packet on the outer ends (the way
# tests/tgen/test-dpdk.sh builds its device).
#  1. a healthy device: the plan passes; --json says mode live, the member
#     checks not applicable (no member captures), loss judged from the
#     link captures, the run: hook ran at its time with its environment;
#     the capture set holds client.pcap and server.pcap with every packet
#     tgen counted; JUnit marks the member checks skipped;
#  2. the device broken (the server side taken off the bridge): the plan
#     fails with failed_flows and loss (and only the figures that follow
#     from them), exit 1;
#  3. a run: hook breaks the device during the run: a plan expecting
#     exactly failed_flows and loss to fail passes;
#  4. member captures given (live.sgm, as a lab tap would): the member
#     checks are judged;
#  5. a run: hook longer than its timeout is killed and fails the run check;
#     live.timeout stops a run that would go on (SIGINT: tgen drains);
#  6. the namespace as a router (IP forwarding) instead of a bridge, tgen's
#     port addresses and next hops given by live.tgen_args: the plan passes;
#  7. the reference cluster as the device (baton-gateway live between the
#     inner ends, 4 members): a run: hook fails member 2 over its socket
#     under load, a last one stops it; the members are judged from its
#     capture set (live.capset): the plan passes with affinity, symmetry
#     and failover judged and flows affected; with the no-sync fault the
#     flows member 2 owned fail and so does the plan (exit 1).
set -uo pipefail
PLAN=$1 TG=$2 OUT=$3 GW=${4:-}
. "$(dirname "$0")/live-common.sh"
live_init pll
rm -rf "$OUT"
mkdir -p "$OUT"
show() { /usr/bin/python3 -c 'import json, sys; d = json.load(open(sys.argv[1]))["plans"][0]; print({k: (v["pass"], v["judged"], v["message"][:90]) for k, v in d["verdicts"].items()}); print({k: d["tgen"].get(k) for k in ("flows_started", "flows_completed", "flows_failed", "flows_aborted", "retransmits")})' "$1"; }

# --- the device
live_bridge
break_device() { ip -n "$NS" link set s0 nomaster; }
mend_device() { ip -n "$NS" link set s0 master br0; }

EAL="--no-huge -m 512 --no-pci -l 0,1 --log-level=lib.eal:error"
# The plans that must pass allow loss_pct 0.5: DPDK 22.11's af_packet does
# not count the frames its kernel ring dropped (no PACKET_STATISTICS; its
# imissed stays 0), so on a loaded 2-core CI machine one frame lost in the
# tester's own rx ring, or in the veth's backlog, looks like the bridge's
# loss (seen once in ~6,000 frames). The broken device loses 100 %, so the
# check still has to fail there.
# plan NAME EXTRA-YAML: a small closed-loop plan (500 flows in 1 s)
plan() {
    cat > "$T/$1.yaml" << EOF
name: $1
seed: 7
traffic:
  templates:
    - synth: tcp,req=200,resp=1400x3
  cps: 500
  flows: 500
  retransmit: {timeout: 20ms, retries: 2}
$2
EOF
}
run() { # NAME ARGS...: the report in $T/NAME.json, the exit status in rc
    local name=$1
    shift
    BATON_TGEN=$TG timeout -k 5 60 "$PLAN" run --live --json --out "$OUT" --junit "$T/$name.xml" "$@" \
        "$T/$name.yaml" > "$T/$name.json" 2> "$T/$name.err"
    rc=$?
}

# --- 1. a healthy device, the ports given by flags
plan healthy "events:
  - at: 300ms
    run: echo \"\$BATON_T \$BATON_MODE \$BATON_CLIENT_PORT \$BATON_SERVER_PORT\" > \$BATON_OUT/hook.txt
    status: 0
expect:
  loss_pct: 0.5
  failed_flows: 0
  cps: 100
  latency_p99: 100ms"
run healthy --client-port "$C" --server-port "$S" --eal "$EAL --file-prefix $P-1"
H=$OUT/healthy
if [ $rc -eq 0 ] && json "$T/healthy.json" 'd["mode"] == "live" and d["pass"] and d["sim_s"] is None and
        d["live"]["client_port"] == "'"$C"'" and d["live"]["tgen_exit"] == 0 and
        all(not d["verdicts"][c]["applicable"] and not d["verdicts"][c]["judged"]
            for c in ("affinity", "symmetry", "failover", "balance")) and
        d["checks"]["affinity"]["applicable"] is False and
        all(d["verdicts"][c]["judged"] and d["verdicts"][c]["pass"]
            for c in ("loss", "failed_flows", "cps", "rsts", "latency", "run")) and
        d["tgen"]["flows_completed"] == 500 and d["tgen"]["backend"] == "dpdk"'; then
    ok "healthy device: the plan passes live; member checks not applicable, loss/failed_flows/cps/rsts/latency/run judged"
else
    bad "healthy device (exit $rc): $(tail -3 "$T/healthy.err")"; [ -s "$T/healthy.json" ] && show "$T/healthy.json"
fi
# the hook: at 0.3 s of the traffic (within 0.2 s), with its environment
if read -r t mode cp sp < "$H/hook.txt" && [ "$mode" = live ] && [ "$cp" = "$C" ] && [ "$sp" = "$S" ] &&
    /usr/bin/python3 -c "import sys; sys.exit(0 if 0.3 <= $t < 0.5 else 1)"; then
    ok "run: hook at t=$t s of the traffic, BATON_MODE=live, the ports in its environment"
else
    bad "run: hook: $(cat "$H/hook.txt" 2> /dev/null)"
fi
cnt() { tshark -r "$1" 2> /dev/null | wc -l; }
if command -v tshark > /dev/null; then
    nc=$(cnt "$H/client.pcap"); ns=$(cnt "$H/server.pcap")
    # each link: what tgen sent on that port and what it received there
    if /usr/bin/python3 -c "import json, sys
t = json.load(open('$H/tgen.json'))
sys.exit(0 if $nc == t['tx_client_packets'] + t['ports'][0]['ipackets'] - json.load(open('$T/healthy.json'))['plans'][0]['live']['foreign_client'] and $ns == t['tx_server_packets'] + t['ports'][1]['ipackets'] - json.load(open('$T/healthy.json'))['plans'][0]['live']['foreign_server'] and $nc == $ns >= 6000 else 1)"; then
        ok "client.pcap $nc and server.pcap $ns packets: both directions of each link, as tgen counted"
    else
        bad "link captures: client.pcap $nc, server.pcap $ns"
    fi
fi
if tr -d '\n' < "$T/healthy.xml" | grep -q '<testcase[^>]*name="affinity"[^>]*>[[:space:]]*<skipped message="not applicable' &&
    grep -q 'name="loss"' "$T/healthy.xml" && ! grep -q '<failure' "$T/healthy.xml"; then
    ok "JUnit: member checks skipped (not applicable), no failure"
else
    bad "JUnit: $(head -c 600 "$T/healthy.xml")"
fi

# --- 2. the device broken before the run: the server side off the bridge
break_device
plan broken "expect:
  loss_pct: 0
  failed_flows: 0
live:
  client: $C
  server: $S
  eal: $EAL"
run broken
mend_device
if [ $rc -eq 1 ] && json "$T/broken.json" 'not d["pass"] and d["live"]["tgen_exit"] == 1 and
        not d["verdicts"]["failed_flows"]["pass"] and not d["verdicts"]["loss"]["pass"] and
        d["verdicts"]["rsts"]["pass"] and d["tgen"]["flows_failed"] == 500 and
        "100.000% loss client-to-server" in d["verdicts"]["loss"]["message"]'; then
    ok "broken device: failed_flows and loss fail (100% client-to-server), exit 1 (live: section, EAL file prefix added)"
else
    bad "broken device (exit $rc): $(tail -3 "$T/broken.err")"; [ -s "$T/broken.json" ] && show "$T/broken.json"
fi

# --- 3. a run: hook breaks the device under load; the plan expects exactly that
plan hook-breaks "events:
  - at: 400ms
    run: ip -n $NS link set s0 nomaster
    status: 0
expect:
  loss_pct: 0
  failed_flows: 0
expect_fail: [failed_flows, loss]
live:
  client: $C
  server: $S
  eal: $EAL"
run hook-breaks
mend_device
if [ $rc -eq 0 ] && json "$T/hook-breaks.json" 'd["pass"] and 100 < d["tgen"]["flows_completed"] < 500 and
        d["tgen"]["flows_failed"] > 0 and d["verdicts"]["failed_flows"]["expected_fail"] and
        d["verdicts"]["run"]["pass"]'; then
    ok "a run: hook breaks the device at 0.4 s: failed_flows and loss fail as expected, the plan passes"
else
    bad "hook breaks the device (exit $rc): $(tail -3 "$T/hook-breaks.err")"; [ -s "$T/hook-breaks.json" ] && show "$T/hook-breaks.json"
fi

# --- 4. member captures from a "lab tap": one member that saw every packet
# of the healthy run's client link
cp "$H/client.pcap" "$T/tap-sgm1.pcap"
plan members "expect:
  loss_pct: 0.5
  min_flows_per_sgm: 100
live:
  client: $C
  server: $S
  eal: $EAL
  sgm: {1: tap-sgm1.pcap}"
run members
if [ $rc -eq 0 ] && json "$T/members.json" 'd["pass"] and d["sgms"] == 1 and d["live"]["member_captures"] == 1 and
        all(d["verdicts"][c]["applicable"] and d["verdicts"][c]["judged"]
            for c in ("affinity", "symmetry", "failover", "balance"))'; then
    ok "member captures given (live.sgm): affinity, symmetry, failover, balance judged"
else
    bad "member captures (exit $rc): $(tail -3 "$T/members.err")"; [ -s "$T/members.json" ] && show "$T/members.json"
fi

# --- 5. a hook past its timeout; a run past live.timeout
cat > "$T/bounded.yaml" << EOF
name: bounded
traffic:
  templates:
    - synth: tcp,rounds=2,rtt=100ms
  cps: 200
  duration: 60s
events:
  - at: 100ms
    run: sleep 30
    timeout: 300ms
live:
  client: $C
  server: $S
  eal: $EAL
  timeout: 2s
EOF
t0=$(date +%s)
run bounded
took=$(($(date +%s) - t0))
if [ $rc -eq 1 ] && [ "$took" -lt 20 ] && json "$T/bounded.json" 'not d["verdicts"]["run"]["pass"] and
        "timed out after 0.300 s (killed)" in d["verdicts"]["run"]["message"] and
        d["tgen"]["interrupted"] and d["tgen"]["stopped_by_bound"] and
        0 < d["tgen"]["flows_started"] < 1000 and not d["verdicts"]["complete"]["pass"] and
        "of 12000 flows started" in d["verdicts"]["complete"]["message"]' &&
        grep -q '<testcase classname="bounded" name="complete"' "$T/bounded.xml"; then
    ok "a hook past its timeout killed (run fails); live.timeout 2s stopped a 60 s run by SIGINT, complete fails (${took} s in all)"
else
    bad "bounded (exit $rc, $took s): $(tail -3 "$T/bounded.err")"; [ -s "$T/bounded.json" ] && show "$T/bounded.json"
fi

# --- 6. a router instead of a bridge: IP forwarding in the namespace, tgen
# answering ARP for its port addresses and resolving the router as its next
# hop on each side (live.tgen_args); TTLs and MACs change on the way, which
# loss ignores
$X ip link set c0 nomaster
$X ip link set s0 nomaster
$X ip addr add 10.1.0.1/24 dev c0
$X ip addr add 10.2.0.1/24 dev s0
$X sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.send_redirects=0
$X ip route add 16.0.0.0/8 via 10.1.0.2 dev c0
$X ip route add 48.0.0.0/16 via 10.2.0.2 dev s0
plan routed "expect:
  loss_pct: 0.5
  failed_flows: 0
live:
  client: $C
  server: $S
  eal: $EAL
  tgen_args: --client-ip 10.1.0.2 --client-gw 10.1.0.1 --server-ip 10.2.0.2 --server-gw 10.2.0.1"
run routed
if [ $rc -eq 0 ] && json "$T/routed.json" 'd["pass"] and d["tgen"]["flows_completed"] == 500 and
        d["verdicts"]["loss"]["judged"] and d["verdicts"]["loss"]["pass"] and
        d["tgen"]["ports"][0]["next_hop_mac"] == "'"$($X cat /sys/class/net/c0/address)"'"'; then
    ok "a router (IP forwarding): the plan passes, loss judged through TTL and MAC rewriting, tgen's next hop the router's MAC"
else
    bad "router (exit $rc): $(tail -3 "$T/routed.err")"; [ -s "$T/routed.json" ] && show "$T/routed.json"
fi

# --- 7. the reference cluster as the device
if [ -n "$GW" ] && command -v socat > /dev/null; then
    $X ip addr flush dev c0
    $X ip addr flush dev s0
    $X sysctl -qw net.ipv4.ip_forward=0
    for fault in "" no-sync; do
        name=cluster${fault:+-$fault}
        rm -rf "$T/gw" "$T/gw.sock"
        # shellcheck disable=SC2086
        $X timeout 60 "$GW" live --client-if c0 --server-if s0 --members 4 --out "$T/gw" \
            --serve "$T/gw.sock" ${fault:+--fault $fault} --json > "$T/$name-gw.json" 2> "$T/$name-gw.err" &
        gw=$!
        for _ in $(seq 50); do [ -S "$T/gw.sock" ] && break; sleep 0.1; done
        # flows of 150 rounds (~0.1 s each): some are on member 2 when it fails
        cat > "$T/$name.yaml" << EOF
name: $name
seed: 7
traffic:
  templates:
    - synth: tcp,req=200,resp=1400x2,rounds=150
  cps: 200
  flows: 200
  retransmit: {timeout: 50ms, retries: 4}
events:
  - at: 500ms
    run: 'echo ''{"id": 1, "cmd": "fail", "sgm": 2}'' | socat -t 2 - UNIX-CONNECT:$T/gw.sock'
    status: 0
  - at: 3s
    run: kill -TERM $gw; for i in \$(seq 100); do [ -s $T/gw/capset.json ] && exit 0; sleep 0.05; done; exit 1
    status: 0
expect:
  loss_pct: 3
  failed_flows: 0
live:
  client: $C
  server: $S
  eal: $EAL --file-prefix $P-7
  capset: $T/gw
EOF
        run "$name"
        wait "$gw"
        if [ -z "$fault" ]; then
            if [ $rc -eq 0 ] && json "$T/$name.json" 'd["pass"] and d["tgen"]["flows_failed"] == 0 and
                    all(d["verdicts"][c]["judged"] and d["verdicts"][c]["pass"] for c in ("affinity", "symmetry", "failover")) and
                    d["checks"]["failover"]["affected"] >= 1' &&
                /usr/bin/python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); sys.exit(0 if d["promoted"] >= 1 else 1)' "$T/$name-gw.json" &&
                grep -q '"sgm_down"' "$T/gw/events.jsonl"; then
                ok "through baton-gateway live, member 2 failed by a hook: the plan passes, members judged from its capture set ($(/usr/bin/python3 -c 'import json, sys; f = json.load(open(sys.argv[1]))["plans"][0]["checks"]["failover"]; print(f["affected"], "affected,", f["lost"], "lost, max gap", f["max_gap_ms"], "ms")' "$T/$name.json"))"
            else
                bad "through baton-gateway live (exit $rc): $(tail -3 "$T/$name.err") $(cat "$T/$name-gw.err")"; [ -s "$T/$name.json" ] && show "$T/$name.json"
            fi
        elif [ $rc -eq 1 ] && json "$T/$name.json" 'not d["pass"] and d["tgen"]["flows_failed"] >= 1 and not d["verdicts"]["failed_flows"]["pass"]'; then
            ok "through baton-gateway live --fault no-sync: member 2's flows fail, so does the plan (exit 1)"
        else
            bad "through baton-gateway live --fault no-sync (exit $rc): $(tail -3 "$T/$name.err")"; [ -s "$T/$name.json" ] && show "$T/$name.json"
        fi
    done
else
    echo "skip 7: no baton-gateway given or no socat"
fi
exit $fail
