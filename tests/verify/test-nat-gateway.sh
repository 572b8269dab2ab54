#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# verify across hide-NAT on the reference cluster (baton-gateway sim with a
# NAT pool): the translated halves are joined (as many flows as the cluster
# made connections, no loss), a cluster without its correction layer shows
# asymmetry across the translation, and after a failover the loss verify
# finds between the links equals the cluster's own drop count; diff joins
# the halves as check does.
set -uo pipefail
VF=$1
GW=$2
T=$(mktemp -d /tmp/bt-vnat-XXXXXX)
trap 'rm -rf "$T"' EXIT
fail=0
printf 'cluster:\n  members: 3\n  nat:\n    pool: 198.51.100.0/28\n' > "$T/c.yaml"
run() {  # name want_rc python-assertion check-args... (r: verify's report, g: the sim's --json)
    local name=$1 want=$2 assertion=$3
    shift 3
    "$VF" check "$@" --json > "$T/r.json" 2> "$T/err"
    local rc=$?
    if [ $rc -ne "$want" ]; then
        echo "FAIL $name: exit $rc, want $want: $(cat "$T/err")"
        fail=1
        return
    fi
    if /usr/bin/python3 -c '
import json, sys
r = json.load(open(sys.argv[1])); g = json.load(open(sys.argv[2]))
if not eval(sys.argv[3]):
    sys.exit("assertion failed: " + sys.argv[3] + " flows %d loss %s symmetry %d" % (r["flows"],
             {k: r["loss"][k] for k in ("c2s", "s2c", "unmatched_out")}, r["symmetry"]["violations"]))
' "$T/r.json" "$T/g.json" "$assertion"; then echo "ok   $name"; else echo "FAIL $name"; fail=1; fi
}
"$GW" sim --config "$T/c.yaml" --out "$T/ok" --flows 300 --seed 2 --json > "$T/g.json" 2> /dev/null
run nat-joined 0 "r['flows'] == g['nat_conns'] == 300 and r['loss']['c2s']['lost'] == 0 and r['loss']['s2c']['lost'] == 0 and r['loss']['unmatched_out'] == 0 and r['loss']['c2s']['in'] > 0" \
    --capset "$T/ok" --max-loss-pct 0
"$GW" sim --config "$T/c.yaml" --out "$T/nc" --flows 300 --seed 2 --fault no-correction --json > "$T/g.json" 2> /dev/null
run nat-no-correction 1 "r['flows'] == 300 and r['symmetry']['violations'] > 0 and not r['symmetry']['pass']" \
    --capset "$T/nc"
"$GW" sim --config "$T/c.yaml" --out "$T/fo" --flows 300 --seed 2 --fail 2@0.5s --json > "$T/g.json" 2> /dev/null
run nat-failover-loss 0 "r['loss']['c2s']['lost'] + r['loss']['s2c']['lost'] == g['rx'] - g['tx'] > 0 and r['loss']['unmatched_out'] == 0 and r['failover']['lost'] == 0" \
    --capset "$T/fo"
# diff joins the halves too: before/after a failover, the same 300 flows
"$VF" diff --json "$T/ok" "$T/ok" > "$T/d.json" 2> "$T/err"; rc1=$?
"$VF" diff --json "$T/ok" "$T/fo" > "$T/d2.json" 2> "$T/err"; rc2=$?
if [ $rc1 -eq 0 ] && [ $rc2 -eq 1 ] && /usr/bin/python3 -c '
import json, sys
a = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2]))
assert a["same"] and a["flows_a"] == 300, a["flows_a"]
assert b["flows_a"] == b["flows_b"] == 300 and b["only_in_a"] == b["only_in_b"] == 0 and b["moved"] > 0, \
    {k: v for k, v in b.items() if not k.endswith("_flows")}
' "$T/d.json" "$T/d2.json"; then echo "ok   nat-diff"; else echo "FAIL nat-diff (exit $rc1 $rc2)"; fail=1; fi
exit $fail
