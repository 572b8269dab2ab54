#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Every bad plan must exit 2 with file:line:col and the offending field named;
# a good plan must load (exit 0), so the check can tell them apart.
set -u
BIN=$1; DIR=$2; GOOD=$3
fail=0
expect() { # file, text the message must contain
    out=$("$BIN" check "$DIR/$1" 2>&1); rc=$?
    if [ $rc -ne 2 ]; then echo "FAIL $1: exit $rc, want 2 ($out)"; fail=1; return; fi
    # (a regex: the glob [0-9]* would take one digit and then anything)
    [[ $out =~ "$DIR/$1:"[0-9]+:[0-9]+": " ]] || { echo "FAIL $1: no file:line:col in: $out"; fail=1; return; }
    case "$out" in *"$2"*) echo "ok   $1: $out";; *) echo "FAIL $1: '$2' not in: $out"; fail=1;; esac
}
expect unknown-top-field.yaml "unknown field 'foo'"
expect unknown-cluster-field.yaml "unknown field 'colour' in cluster"
expect fail-out-of-range.yaml "events.fail"
expect unknown-check.yaml "'speed' is not a check"
expect bad-cps.yaml "traffic.cps"
expect flows-fraction.yaml "traffic.flows: '2.5' is not a whole number"
expect event-no-at.yaml "needs 'at'"
expect no-name.yaml "needs a name"
expect name-path.yaml "name: '../escaped' must be a file name"
expect name-empty.yaml "name: '' must be a file name"
expect bad-expect.yaml "unknown field 'nonsense' in expect"
expect bad-yaml.yaml "did not find expected"
expect empty.yaml "empty plan"
expect add-wrong-id.yaml "events.add: 7 is out of range 5..5"
# events the cluster would refuse when their time comes: bad plans before any runs
expect fail-twice.yaml "events.fail: member 2 is already down here"
expect restore-up.yaml "events.restore: member 2 is up here"
expect add-past-64.yaml "events.add: the group has 64 members here, the most it can have"
expect weight-missing.yaml "set_weight needs 'weight: W'"
expect two-actions.yaml "exactly one action"
expect traffic-profile-extra.yaml "with 'profile: PATH' give no other field"
expect traffic-profile-missing.yaml "traffic.profile: cannot read"
expect tgen-unknown-field.yaml "unknown field 'colour' in traffic"
expect policy-legacy.yaml "'policy' needs tgen traffic"
expect policy-bad-rule.yaml "policy.rules[].src"
expect run-empty.yaml "events.run: an empty command"
expect run-bad-timeout.yaml "events.timeout"
expect run-short-timeout.yaml "events.timeout: give 1ms..1h"
expect status-without-run.yaml "events.status: goes with run"
expect events-out-of-order.yaml "events go in time order"
expect expect-cps-legacy.yaml "expect.cps: a tgen figure"
expect sim-legacy.yaml "sim.snaplen: a setting of the co-simulation with tgen: needs tgen traffic"
expect bad-latency.yaml "expect.latency_p99"
expect unknown-sim-field.yaml "unknown field 'speed' in sim"
expect bad-snaplen.yaml "sim.snaplen"
expect ramp-no-find.yaml "ramp: needs 'find"
expect ramp-bad-find.yaml "ramp.find"
expect ramp-to-below.yaml "ramp.to: must be above"
expect expect-fail-twice.yaml "named twice"
expect bad-synth.yaml "must start with tcp or udp"
expect ramp-with-events.yaml "a capacity search runs the traffic alone"
expect ramp-with-expect.yaml "expect.latency_p99: a ramp: judges its capacity alone"
expect ramp-expect-fail.yaml "expect_fail: 'failed_flows' is not judged by a plan with a ramp:"
expect traffic-pairs.yaml "traffic: 100 flows need more client address x port pairs"
expect loss-without-links.yaml "expect.loss_pct: loss is judged from the link captures"
expect live-unknown-field.yaml "unknown field 'colour' in live"
expect live-bad-port.yaml "live.client: 'veth0 veth1': give an interface name"
expect live-sgm-missing.yaml "live.sgm: cannot read '$DIR/no-such-tap.pcap'"
expect live-bad-timeout.yaml "live.timeout: give 1s..24h"
expect live-bad-eal.yaml "live.eal: '-m 512': one argument an item"
# a tgen profile by path, relative to the plan's directory, loads; an error
# inside the profile names the profile's file:line:col
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/p"
printf 'templates:\n  - synth: tcp\ncps: 10\n' > "$tmp/p/web.yaml"
printf 'name: byref\ntraffic:\n  profile: p/web.yaml\n' > "$tmp/plan.yaml"
"$BIN" check "$tmp/plan.yaml" >/dev/null || { echo "FAIL a plan with traffic: {profile: PATH} did not load"; fail=1; }
printf 'templates:\n  - synth: tcp\ncps: -1\n' > "$tmp/p/web.yaml"
out=$("$BIN" check "$tmp/plan.yaml" 2>&1); rc=$?
case "$rc:$out" in 2:*"$tmp/p/web.yaml:3:6: cps"*) echo "ok   profile error: $out";; *) echo "FAIL profile error: rc $rc: $out"; fail=1;; esac
"$BIN" check "$GOOD" >/dev/null || { echo "FAIL a good plan did not load: $GOOD"; fail=1; }
# --help is no error: the usage on stdout, exit 0 (bad usage: stderr, exit 2)
for h in "--help" "run --help" "check -h"; do
    # shellcheck disable=SC2086
    out=$("$BIN" $h 2>/dev/null); rc=$?
    [ $rc -eq 0 ] && [[ $out == usage:* ]] || { echo "FAIL '$h': exit $rc, stdout '$out'"; fail=1; }
done
out=$("$BIN" run --bogus 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] && [[ $out == *usage:* ]] || { echo "FAIL bad usage: exit $rc '$out'"; fail=1; }
# a plan that cannot run after all (here its capture set directory is a file)
# is reported as an error, and the plans around it still run and are reported
printf 'name: ok1\ntraffic: {flows: 20, cps: 1000, exchanges: 1}\n' > "$tmp/ok1.yaml"
printf 'name: ok2\ntraffic: {flows: 20, cps: 1000, exchanges: 1}\n' > "$tmp/ok2.yaml"
printf 'name: ok3\ntraffic: {flows: 20, cps: 1000, exchanges: 1}\n' > "$tmp/ok3.yaml"
mkdir "$tmp/oe" && : > "$tmp/oe/ok2"
"$BIN" run --out "$tmp/oe" --json --junit "$tmp/j.xml" "$tmp/ok1.yaml" "$tmp/ok2.yaml" "$tmp/ok3.yaml" \
    > "$tmp/r.json" 2> "$tmp/r.err"
rc=$?
if [ $rc -eq 2 ] && grep -q "ok2.yaml: .*ok2/client.pcap: cannot create" "$tmp/r.err" &&
   /usr/bin/python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
got = [(p["name"], p["pass"], "error" in p) for p in r["plans"]]
sys.exit(got != [("ok1", True, False), ("ok2", False, True), ("ok3", True, False)])' "$tmp/r.json" &&
   grep -q '<testsuite name="ok3"' "$tmp/j.xml" && grep -q 'name="plan".*' "$tmp/j.xml" &&
   grep -q '<failure message="[^"]*ok2/client.pcap: cannot create' "$tmp/j.xml"; then
    echo "ok   a plan that could not run is an error; the others run and are reported"
else
    echo "FAIL plan error mid-run: rc $rc: $(cat "$tmp/r.err") $(head -c 300 "$tmp/r.json")"; fail=1
fi
"$BIN" run --out "$tmp/oe" "$tmp/ok1.yaml" "$tmp/ok2.yaml" > "$tmp/r.txt" 2>&1
grep -q "plan ok2 .*ERROR, not judged" "$tmp/r.txt" && grep -q "a plan could NOT RUN" "$tmp/r.txt" \
    || { echo "FAIL plan error mid-run, text: $(cat "$tmp/r.txt")"; fail=1; }
# --live refuses what needs a cluster or a simulation, before anything runs
live2() { # file, text the message must contain, more args
    local f=$1 want=$2
    shift 2
    out=$("$BIN" run --live "$@" "$f" 2>&1); rc=$?
    case "$rc:$out" in 2:*"$want"*) echo "ok   --live $(basename "$f"): $out";;
        *) echo "FAIL --live $f: exit $rc, want 2 and '$want': $out"; fail=1;; esac
}
live2 "$DIR/live-member-event.yaml" "live-member-event.yaml:10:5: events: 'fail' at 0.050 s: member events need a live cluster; use run: hooks to act on an external device"
live2 "$GOOD" "--live needs tgen traffic"
printf 'name: live-ok\ntraffic:\n  templates:\n    - synth: tcp\nlive:\n  client: lo\n' > "$tmp/live.yaml"
live2 "$tmp/live.yaml" "--live: no server port: give --server-port SPEC or live.server"
live2 "$tmp/live.yaml" "no such network interface" --client-port bt-none$$ --server-port lo
live2 "$tmp/live.yaml" "the client and server ports are both 'lo'" --client-port lo --server-port lo
live2 "$tmp/live.yaml" "the server port is PCI and the client port a vdev" --client-port lo --server-port 0000:3b:00.0
out=$("$BIN" run --client-port lo "$GOOD" 2>&1); rc=$?
case "$rc:$out" in 2:*"go with --live"*) echo "ok   --client-port without --live: $out";; *) echo "FAIL --client-port without --live: $rc $out"; fail=1;; esac
"$BIN" frobnicate 2>/dev/null; [ $? -eq 2 ] || { echo "FAIL bad usage must exit 2"; fail=1; }
# what a run needs is checked before any plan runs: the templates' pcaps, a
# name of its own for each plan (its capture set's directory), a name that
# fits in a path, a JUnit file that can be written
refused() { # label, text the message must contain, args...
    local label=$1 want=$2
    shift 2
    out=$("$BIN" "$@" 2>&1); rc=$?
    case "$rc:$out" in 2:*"$want"*) echo "ok   $label: $out";;
        *) echo "FAIL $label: exit $rc, want 2 and '$want': $out"; fail=1;; esac
}
printf 'name: nopcap\ntraffic:\n  templates:\n    - pcap: %s/none.pcap\n' "$tmp" > "$tmp/nopcap.yaml"
refused "check, missing template pcap" "$tmp/nopcap.yaml:4:7: pcap: $tmp/none.pcap: No such file" check "$tmp/nopcap.yaml"
refused "run, missing template pcap" "$tmp/nopcap.yaml:4:7: pcap:" run --out "$tmp/o" "$GOOD" "$tmp/nopcap.yaml"
# in a profile by path: the profile's place, after the plan's
printf 'templates:\n  - pcap: none.pcap\n' > "$tmp/p/bad.yaml"
printf 'name: byref2\ntraffic:\n  profile: p/bad.yaml\n' > "$tmp/byref2.yaml"
refused "check, missing template pcap in a profile" "$tmp/byref2.yaml:3:3: traffic: $tmp/p/bad.yaml:2:5: pcap: $tmp/p/none.pcap: No such file" check "$tmp/byref2.yaml"
cp "$GOOD" "$tmp/twin.yaml"
refused "two plans of one name" "$tmp/twin.yaml: name '" run --out "$tmp/o" "$GOOD" "$tmp/twin.yaml"
printf 'name: %s\n' "$(printf 'n%.0s' $(seq 200))" > "$tmp/long.yaml"
refused "a 200-character name" "long.yaml:1:7: name: 200 characters, at most 128" check "$tmp/long.yaml"
refused "--junit into a missing directory" "--junit $tmp/none/x.xml: No such file" run --out "$tmp/o" --junit "$tmp/none/x.xml" "$GOOD"
[ -e "$tmp/o" ] && { echo "FAIL a refused run wrote its --out: $(ls "$tmp/o")"; fail=1; }
exit $fail
