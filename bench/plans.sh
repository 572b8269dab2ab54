#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Plan runner speed: virtual seconds simulated (and judged) per wall second,
# median of N runs, for the 60 s 4-member ~100k pps plan and the 52-member plan.
# The reference is real time (a live run takes sim_s seconds). Capture sets are
# large (the 60 s plan writes ~8.5 GB); they go to a temp dir removed after each run.
# usage: bench/plans.sh [BUILD_DIR] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}; N=${2:-3}
for plan in bench/plans/sim-60s-4m.yaml bench/plans/sim-52m.yaml; do
    walls=(); sim=0
    for _ in $(seq "$N"); do
        tmp=$(mktemp -d)
        json=$("$B/plans/baton-plan" run --json --out "$tmp" "$plan" || true)
        rm -rf "$tmp"
        read -r s w < <(/usr/bin/python3 -c 'import json,sys; p=json.loads(sys.argv[1])["plans"][0]; print(p["sim_s"], p["wall_s"])' "$json")
        sim=$s; walls+=("$w")
    done
    med=$(printf '%s\n' "${walls[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    /usr/bin/python3 -c 'import sys; s,w=float(sys.argv[2]),float(sys.argv[3]); print(f"{sys.argv[1]}: {s:.1f} s simulated, median wall {w:.1f} s over {sys.argv[4]} runs, {s/w:.2f}x real time")' "$plan" "$sim" "$med" "$N"
done
