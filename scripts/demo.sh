#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The README's main job (./bootstrap.sh demo): runs the quickstart plan (a
# healthy 4-member cluster, one member killed under load, every check must
# pass), then two fault plans (a broken cluster the checks must catch).
set -uo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
OUT=${OUT:-out/demo}
PLAN="$B/plans/baton-plan"
if [ ! -x "$PLAN" ]; then
    echo "demo: $PLAN is missing; build with the plans part enabled (meson setup $B; ninja -C $B)" >&2
    exit 2
fi
rm -rf "$OUT"; mkdir -p "$OUT"
echo "== 1. A healthy cluster: 4 members, 2000 TCP conversations, member 2 killed at 1.5 s."
echo "      Every check must pass (docs/plans.md explains each line)."
echo
"$PLAN" run --sim --junit "$OUT/quickstart.xml" --out "$OUT" plans/quickstart.yaml
healthy=$?
echo "== 2. Broken clusters (fault injection): each plan passes only if the named check catches the fault."
echo
"$PLAN" run --sim --junit "$OUT/faults.xml" --out "$OUT" plans/faults/asymmetric.yaml plans/faults/ignore-weights.yaml
faults=$?
echo
if [ "$healthy" -eq 0 ] && [ "$faults" -eq 0 ]; then
    echo "demo: PASS - the healthy cluster passed every check, and each broken one was caught."
    echo "      Capture sets (open them in Wireshark): $OUT/<plan name>/; JUnit: $OUT/*.xml"
    exit 0
fi
echo "demo: FAIL - quickstart exit $healthy, fault plans exit $faults (want 0 and 0)"
exit 1
