#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Plans on tgen traffic, end to end through baton-plan: the capture set is
# complete and the same for one seed (and not for another); the tgen checks
# (cps, latency, rsts, failed_flows), run hooks and the capacity search each
# fail when they should, and expect_fail then passes the plan only when
# exactly those fail; --json carries tgen's summary; JUnit says what was
# expected and seen.
set -u
BIN=$1; OUT=$2
rm -rf "$OUT"; mkdir -p "$OUT"
fail=0
base() { # name, extra lines
    cat > "$OUT/$1.yaml" <<YAML
name: $1
seed: ${SEED:-3}
cluster:
  members: 3
traffic:
  templates:
    - synth: tcp,req=100,resp=800x2,rounds=2
  cps: 2000
  flows: 800
$2
YAML
}
run() { "$BIN" run --out "$OUT/o" --junit "$OUT/$1.xml" "$OUT/$1.yaml" >"$OUT/$1.txt" 2>&1; echo $?; }
want() { # plan, exit status
    r=$(run "$1")
    if [ "$r" = "$2" ]; then echo "ok   $1: exit $r"; else echo "FAIL $1: exit $r, want $2"; cat "$OUT/$1.txt"; fail=1; fi
}
base healthy "expect:
  failed_flows: 0
  cps: 1900
  latency_p99: 1ms"
want healthy 0
for f in capset.json client.pcap server.pcap sgm-1.pcap sgm-2.pcap sgm-3.pcap events.jsonl; do
    [ -e "$OUT/o/healthy/$f" ] || { echo "FAIL capture set lacks $f"; fail=1; }
done
# every packet on the links was delivered to a member (each crosses the distributor once)
n_sgm=0; for i in 1 2 3; do n_sgm=$((n_sgm + $(tshark -r "$OUT/o/healthy/sgm-$i.pcap" 2>/dev/null | wc -l))); done
n_cl=$(tshark -r "$OUT/o/healthy/client.pcap" 2>/dev/null | wc -l)
[ "$n_sgm" -gt 0 ] && [ "$n_sgm" = "$n_cl" ] || { echo "FAIL members saw $n_sgm packets, the client link $n_cl"; fail=1; }
# determinism, and another seed gives other bytes
cp -r "$OUT/o/healthy" "$OUT/first"
run healthy >/dev/null
diff -r "$OUT/first" "$OUT/o/healthy" >/dev/null || { echo "FAIL two runs of one seed differ"; fail=1; }
SEED=4 base healthy "expect:
  failed_flows: 0"
run healthy >/dev/null
diff -r "$OUT/first" "$OUT/o/healthy" >/dev/null 2>&1 && { echo "FAIL another seed gave the same capture set"; fail=1; }
# a figure the cluster cannot meet fails the plan, and expect_fail catches exactly it
base slowcps "expect:
  cps: 1M"
want slowcps 1
grep -q 'cps: expected to pass, it failed: connections per second: expected at least 1000000' "$OUT/slowcps.xml" \
    || { echo "FAIL junit of cps lacks expected/seen"; fail=1; }
base slowcps-caught "expect:
  cps: 1M
expect_fail: [cps]"
want slowcps-caught 0
base latency "expect:
  latency_p99: 10us
expect_fail: [latency]"
want latency 0
base latency-wrong "expect:
  latency_p99: 10us
  failed_flows: 0
expect_fail: [latency, failed_flows]"
want latency-wrong 1
# naming a check the plan does not judge: refused at load (it could never fail)
base latency-unjudged "expect_fail: [latency]"
want latency-unjudged 2
grep -q "expect_fail: 'latency' is not judged by this plan" "$OUT/latency-unjudged.txt" \
    || { echo "FAIL unjudged expect_fail not named"; fail=1; }
# flows that fail: a policy dropping every TCP packet from 50 ms on
base dropped "events:
  - at: 50ms
    policy:
      rules:
        - {name: all, action: drop, proto: tcp}
expect:
  failed_flows: 0
expect_fail: [failed_flows]"
want dropped 0
# flows still stuck in retransmissions when the run ends count as not
# completed: the same drop-all policy, cut by sim.duration before any flow
# runs out of retries, must fail failed_flows (and passes nothing else)
base stuck "sim:
  duration: 1s
events:
  - at: 50ms
    policy:
      rules:
        - {name: all, action: drop, proto: tcp}
expect:
  failed_flows: 0"
want stuck 1
grep -q 'still unfinished when the run ended' "$OUT/stuck.txt" || { echo "FAIL stuck flows not named"; fail=1; }
# nothing reaches the server side (a policy dropping all TCP from the start):
# both link captures still exist and loss is judged (100 %), not skipped for
# a missing server.pcap
base blackhole "sim:
  duration: 1s
events:
  - at: 0s
    policy:
      rules:
        - {name: all, action: drop, proto: tcp}
expect:
  failed_flows: 0
  loss_pct: 0
expect_fail: [loss, failed_flows]"
want blackhole 0
[ -e "$OUT/o/blackhole/server.pcap" ] || { echo "FAIL blackhole: no server.pcap"; fail=1; }
grep -q "loss .*FAIL .*100.000% loss client-to-server" "$OUT/blackhole.txt" \
    || { echo "FAIL blackhole: loss not judged 100 %: $(grep loss "$OUT/blackhole.txt")"; fail=1; }
# an event the cluster would refuse (member 2 failed twice) is a bad plan:
# exit 2 before anything runs, naming the file, the event's line:col and why
base twice "events:
  - {at: 50ms, fail: 2}
  - {at: 60ms, fail: 2}"
want twice 2
grep -q "twice.yaml:[0-9]*:[0-9]*: events.fail: member 2 is already down here" \
    "$OUT/twice.txt" || { echo "FAIL refused event not named: $(cat "$OUT/twice.txt")"; fail=1; }
[ -e "$OUT/o/twice" ] && { echo "FAIL twice: the refused plan ran"; fail=1; }
# the same on the gateway's own endpoints (no traffic: section)
printf 'name: twice-sim\ncluster:\n  members: 3\nevents:\n  - {at: 50ms, fail: 2}\n  - {at: 60ms, fail: 2}\n' \
    > "$OUT/twice-sim.yaml"
want twice-sim 2
grep -q "twice-sim.yaml:6:[0-9]*: events.fail: member 2 is already down here" \
    "$OUT/twice-sim.txt" || { echo "FAIL refused event (sim) not named: $(cat "$OUT/twice-sim.txt")"; fail=1; }
# reject answers with RSTs: unexpected RSTs over 0.001 %
base rejected "events:
  - at: 50ms
    policy:
      rules:
        - {name: all, action: reject, proto: tcp}
expect:
  failed_flows: 0
expect_fail: [rsts, failed_flows]"
want rejected 0
# run hooks: a timeout fails the plan; a wrong status fails it; any status is reported
base hook-timeout "events:
  - {at: 10ms, run: 'sleep 10', timeout: 200ms}"
want hook-timeout 1
grep -q 'timed out after 0.200 s' "$OUT/hook-timeout.txt" || { echo "FAIL timeout not reported"; fail=1; }
base hook-status "events:
  - {at: 10ms, run: 'exit 2', status: 0}
expect_fail: [run]"
want hook-status 0
base hook-any "events:
  - {at: 10ms, run: 'echo hook-output; exit 5'}"
want hook-any 0
grep -q "exit 5" "$OUT/hook-any.txt" || { echo "FAIL exit status not reported"; fail=1; }
# a hook's output goes to stderr: --json stays one object
"$BIN" run --json --out "$OUT/o" "$OUT/hook-any.yaml" > "$OUT/j.json" 2>/dev/null
/usr/bin/python3 -c "
import json,sys; d=json.load(open(sys.argv[1])); p=d['plans'][0]
assert p['pass'] is True
t=p['tgen']; assert t['flows_completed'] == 800 and 'lat_p99_ns' in t and 'rsts_seen' in t, t
assert p['verdicts']['run']['judged'] and 'exit 5' in p['verdicts']['run']['message']
assert p['cluster']['conns'] == 800, p['cluster']
" "$OUT/j.json" || { echo "FAIL --json"; fail=1; }
# a member failing under load: healthy with HyperSync, caught without it
PLANS_DIR=$(dirname "$0")/../../plans
sed 's/^name: .*/name: fail-nosync/; s/^  members: 4/  members: 4\n  faults: [no-sync]/' \
    "$PLANS_DIR/conformance/tgen-member-fail.yaml" > "$OUT/fail-nosync.yaml"
echo "expect_fail: [failover, failed_flows]" >> "$OUT/fail-nosync.yaml"
want fail-nosync 0
grep -q "failover .*FAIL .*lost" "$OUT/fail-nosync.txt" || { echo "FAIL no-sync failover not caught"; fail=1; }
# the capacity search fails with a tolerance it cannot meet
cat > "$OUT/ramp.yaml" <<YAML
name: ramp
seed: 1
cluster:
  members: 2
  sync: false
  cost: {pkt: 20us, setup: 100us, sync: 50us, cores: 1, queue: 512}
traffic:
  templates:
    - synth: tcp,req=100,resp=500
ramp: {find: cps, from: 1k, to: 20k, trial: 300ms, steps: 6, tolerance: 0.01}
expect_fail: [capacity]
YAML
want ramp 0
grep -q "capacity.*expected the configured capacity" "$OUT/ramp.txt" || { echo "FAIL capacity message"; fail=1; }
# its --json: sim_s is every trial's virtual time, tgen the trial at the load found
"$BIN" run --out "$OUT/o" --json "$OUT/ramp.yaml" > "$OUT/ramp.json" 2> /dev/null
/usr/bin/python3 - "$OUT/ramp.json" <<'PY' || { echo "FAIL ramp --json: $(head -c 600 "$OUT/ramp.json")"; fail=1; }
import json, sys
p = json.load(open(sys.argv[1]))["plans"][0]
n, found, sim = p["ramp"]["trials"], p["ramp"]["found"], p["sim_s"]
assert n >= 6, n
# 300 ms trials (+ drain; a trial that cannot carry its load stops early):
# more than the clean trial at the load found, less than n whole ones
assert 0.45 <= sim <= 2.3 * n, (n, sim)
assert p["sim_wall_s"] > 0 and p["verify_wall_s"] == 0, p
want = found * 0.3                                          # flows started in a 300 ms trial
assert abs(p["tgen"]["flows_started"] - want) <= 0.05 * want + 2, (p["tgen"]["flows_started"], want)
PY
[ $fail -eq 0 ] && echo "ok: tgen plans end to end"
# passed: the capture sets go (a failure keeps them for a look)
[ $fail -eq 0 ] && rm -rf "$OUT"
exit $fail
