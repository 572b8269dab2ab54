#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# expect_fail and determinism: the same plan with a fault must fail (exit 1)
# unless expect_fail names exactly the checks that fail; two runs of a plan
# with one seed write identical capture sets; --json is one object on stdout.
set -u
BIN=$1; OUT=$2; PLAN=$3
rm -rf "$OUT"; mkdir -p "$OUT"
fail=0
sed "s/^name: .*/name: healthy/" "$PLAN" > "$OUT/healthy.yaml"
# a broken cluster: weights ignored (fault injection) under the same plan
brk() { sed "s/^name: .*/name: $1/; s/^  weights:.*/&\n  faults: [ignore-weights]/" "$PLAN" > "$OUT/$1.yaml"; }
brk broken
brk caught; echo "expect_fail: [balance]" >> "$OUT/caught.yaml"
brk wronglist; echo "expect_fail: [balance, failover]" >> "$OUT/wronglist.yaml"
sed "s/^name: .*/name: notbroken/" "$PLAN" > "$OUT/notbroken.yaml"
echo "expect_fail: [balance]" >> "$OUT/notbroken.yaml"
run() { "$BIN" run --out "$OUT/o" "$OUT/$1.yaml" >"$OUT/$1.txt" 2>&1; echo $?; }
[ "$(run healthy)" = 0 ] || { echo "FAIL healthy plan did not pass"; fail=1; }
[ "$(run broken)" = 1 ] || { echo "FAIL ignore-weights cluster passed without expect_fail"; fail=1; }
[ "$(run caught)" = 0 ] || { echo "FAIL ignore-weights with expect_fail [balance] did not pass"; cat "$OUT/caught.txt"; fail=1; }
[ "$(run wronglist)" = 1 ] || { echo "FAIL expect_fail naming a check that passed (failover) still passed"; fail=1; }
[ "$(run notbroken)" = 1 ] || { echo "FAIL expect_fail on a healthy cluster passed"; fail=1; }
# JUnit: the caught fault's failing check is a passing case; the uncaught one a failure saying what was expected
"$BIN" run --junit "$OUT/broken.xml" --out "$OUT/o" "$OUT/broken.yaml" >/dev/null
grep -q '<failure[^>]*message="balance: expected to pass, it failed' "$OUT/broken.xml" || { echo "FAIL junit failure message"; fail=1; }
"$BIN" run --junit "$OUT/caught.xml" --out "$OUT/o" "$OUT/caught.yaml" >/dev/null
grep -q '<failure' "$OUT/caught.xml" && { echo "FAIL junit of a caught fault has a failure"; fail=1; }
grep -q 'name="balance"' "$OUT/caught.xml" || { echo "FAIL junit lacks the balance case"; fail=1; }
# determinism
"$BIN" run --out "$OUT/a" "$OUT/healthy.yaml" >/dev/null && "$BIN" run --out "$OUT/b" "$OUT/healthy.yaml" >/dev/null
if ! diff -r "$OUT/a/healthy" "$OUT/b/healthy" >/dev/null; then echo "FAIL two runs of one seed differ"; fail=1; fi
ls "$OUT/a/healthy"/*.pcap >/dev/null 2>&1 || { echo "FAIL no pcaps in capture set"; fail=1; }
sed "s/^seed: .*/seed: 999/" "$OUT/healthy.yaml" > "$OUT/seed2.yaml"
"$BIN" run --out "$OUT/c" "$OUT/seed2.yaml" >/dev/null
diff -r "$OUT/a/healthy" "$OUT/c/healthy" >/dev/null 2>&1 && { echo "FAIL another seed gave the same capture set"; fail=1; }
# --json: exactly one object on stdout
"$BIN" run --json --out "$OUT/j" "$OUT/healthy.yaml" > "$OUT/j.json"
/usr/bin/python3 -c "
import json,sys; d=json.load(open(sys.argv[1])); assert d['schema'] == 1, d.keys(); p=d['plans'][0]
assert set(['name','file','pass','sgms','checks','tgen','sim_s','wall_s','sim_wall_s','verify_wall_s']) <= set(p), p.keys()
assert p['pass'] is True and p['sgms'] >= 1
" "$OUT/j.json" || { echo "FAIL --json"; fail=1; }
# a plan file whose name is not UTF-8 keeps its "file" in --json (jansson
# refuses such a string: the key was dropped)
cp "$OUT/healthy.yaml" "$OUT/h"$'\xff'".yaml"
"$BIN" run --json --out "$OUT/k" "$OUT/h"$'\xff'".yaml" > "$OUT/k.json"
/usr/bin/python3 -c "
import json,sys
p=json.load(open(sys.argv[1]))['plans'][0]; assert p['file'].endswith('/h?.yaml') and p['pass'] is True, p.get('file')
" "$OUT/k.json" || { echo "FAIL --json of a plan named in other bytes than UTF-8"; fail=1; }
[ $fail -eq 0 ] && echo "ok: expect_fail semantics, determinism, --json"
# passed: the capture sets go (a failure keeps them for a look)
[ $fail -eq 0 ] && rm -rf "$OUT"
exit $fail
