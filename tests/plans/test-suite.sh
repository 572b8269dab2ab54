#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Runs plans in sim mode; all must pass (exit 0). Keeps the JUnit file under
# the build dir and checks it holds one testsuite per plan, with no failures.
set -u
BIN=$1; OUT=$2; shift 2
rm -rf "$OUT"; mkdir -p "$OUT"
"$BIN" run --sim --junit "$OUT/junit.xml" --out "$OUT" "$@"; rc=$?
[ $rc -eq 0 ] || { echo "FAIL: baton-plan exit $rc"; exit 1; }
n=$(grep -c '<testsuite ' "$OUT/junit.xml")
[ "$n" -eq $# ] || { echo "FAIL: $n testsuites in junit.xml, want $#"; exit 1; }
grep -q '<failure' "$OUT/junit.xml" && { echo "FAIL: failure in junit.xml"; exit 1; }
# A plan that passed leaves its JUnit file; its capture set (hundreds of MB
# for some plans, GBs for the suite) goes, so CI's disk holds only what
# failed (kept above for a look).
find "$OUT" -mindepth 1 -maxdepth 1 -type d -exec rm -rf {} +
exit 0
