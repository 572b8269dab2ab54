#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A fault plan with its fault taken out must fail: the checks its expect_fail
# names pass on a healthy cluster (so the plan's expect_fail is wrong, exit 1),
# which shows it is the fault, not the plan's shape, that fails them.
set -u
BIN=$1; OUT=$2; PLAN=$3
rm -rf "$OUT"; mkdir -p "$OUT"
fail=0
name=$(basename "$PLAN" .yaml)
grep -q '^  faults: \[' "$PLAN" || { echo "FAIL $PLAN has no cluster faults: line"; exit 1; }
checks=$(sed -n 's/^expect_fail: \[\(.*\)\]$/\1/p' "$PLAN" | tr -d ' ' | tr ',' ' ')
[ -n "$checks" ] || { echo "FAIL $PLAN has no expect_fail: [...] line"; exit 1; }
sed "s/^name: .*/name: $name-off/; /^  faults: \[/d" "$PLAN" > "$OUT/off.yaml"
"$BIN" run --sim --out "$OUT/o" "$OUT/off.yaml" > "$OUT/off.txt" 2>&1; rc=$?
[ $rc -eq 1 ] || { echo "FAIL $name without its fault: exit $rc, want 1"; cat "$OUT/off.txt"; fail=1; }
for c in $checks; do
    grep -Eq "^  $c +pass " "$OUT/off.txt" \
        || { echo "FAIL $name without its fault: check $c did not pass"; grep -E "^  $c " "$OUT/off.txt"; fail=1; }
done
[ $fail -eq 0 ] || exit 1
echo "ok: $name without its fault fails (expect_fail [$checks] all pass)"
rm -rf "$OUT"
