#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The README's main job: the quickstart plan on the simulated cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
if [ -x "$B/plans/baton-plan" ] && [ -f plans/quickstart.yaml ]; then
    exec "$B/plans/baton-plan" run --sim --out "${OUT:-out/quickstart}" plans/quickstart.yaml
fi
echo "demo: baton-plan is not built yet; nothing to run" >&2
exit 1
