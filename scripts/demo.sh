#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The README's main job. When the plan runner exists it runs the quickstart
# plan; until then, the most complete end-to-end job there is: a 4-member
# reference cluster simulated with 2,000 closed-loop TCP conversations, one
# member killed under load, the capture set judged by baton-verify; then the
# same with HyperSync switched off, to show the check catching the fault.
set -uo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
OUT=${OUT:-out/demo}
if [ -x "$B/plans/baton-plan" ] && [ -f plans/quickstart.yaml ]; then
    exec "$B/plans/baton-plan" run --sim --out "$OUT" plans/quickstart.yaml
fi
rm -rf "$OUT"
echo "== 1. A healthy cluster: 4 members, 2000 TCP conversations, member 2 killed at 1.5 s"
"$B/gateway/baton-gateway" sim --members 4 --flows 2000 --fail 2@1.5s --seed 1 --out "$OUT/healthy" || exit 2
"$B/verify/baton-verify" check --capset "$OUT/healthy"
healthy=$?
echo
echo "== 2. The same cluster with HyperSync off (fault injection): the failover check must fail"
"$B/gateway/baton-gateway" sim --members 4 --flows 2000 --fail 2@1.5s --seed 1 --fault no-sync \
    --out "$OUT/no-sync" || exit 2
"$B/verify/baton-verify" check --capset "$OUT/no-sync"
broken=$?
echo
if [ "$healthy" -eq 0 ] && [ "$broken" -eq 1 ]; then
    echo "demo: PASS - the healthy cluster passed every check and the broken one was caught."
    echo "      Capture sets (open them in Wireshark): $OUT/healthy, $OUT/no-sync"
    exit 0
fi
echo "demo: FAIL - healthy cluster exit $healthy (want 0), broken cluster exit $broken (want 1)"
exit 1
