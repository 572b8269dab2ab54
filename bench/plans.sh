#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Plan runner speed: virtual seconds simulated (and judged) per wall second
# and per CPU second (user + sys: the machine is shared, so wall time depends
# on the others' load), median of N runs, for the 60 s 4-member ~100k pps
# plan on the gateway's own endpoints and co-simulated with tgen (every
# capture at the default 128 bytes a packet of a long plan, whole packets,
# and member captures only), and the 52-member plan; with the
# wall time split between the simulation (capture set written) and the checks.
# The reference is real time (a live run takes sim_s seconds). Capture sets are
# large (~9 GB for the 60 s plans); they go to a temp dir removed after each run.
# usage: bench/plans.sh [BUILD_DIR] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}; N=${2:-3}
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg), commit $(git rev-parse --short HEAD)"
med() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for plan in bench/plans/sim-60s-4m.yaml bench/plans/cosim-60s-4m.yaml bench/plans/cosim-60s-4m-full.yaml \
            bench/plans/cosim-60s-4m-members.yaml bench/plans/sim-52m.yaml; do
    walls=(); cpus=(); sims=(); vers=(); sim=0; size=0
    for _ in $(seq "$N"); do
        tmp=$(mktemp -d)
        json=$(/usr/bin/time -f "%U %S" -o "$tmp.time" "$B/plans/baton-plan" run --json --out "$tmp" "$plan" || true)
        size=$(du -sh "$tmp" | cut -f1)
        rm -rf "$tmp"
        read -r u s < "$tmp.time"; rm -f "$tmp.time"
        read -r sv w sw vw < <(/usr/bin/python3 -c 'import json,sys; p=json.loads(sys.argv[1])["plans"][0]; print(p["sim_s"], p["wall_s"], p.get("sim_wall_s", 0), p.get("verify_wall_s", 0))' "$json")
        sim=$sv; walls+=("$w"); sims+=("$sw"); vers+=("$vw")
        cpus+=("$(/usr/bin/python3 -c 'import sys; print(float(sys.argv[1]) + float(sys.argv[2]))' "$u" "$s")")
    done
    mw=$(printf '%s\n' "${walls[@]}" | med); mc=$(printf '%s\n' "${cpus[@]}" | med)
    ms=$(printf '%s\n' "${sims[@]}" | med); mv=$(printf '%s\n' "${vers[@]}" | med)
    /usr/bin/python3 -c 'import sys; p,s,w,c,sw,vw,n,z=sys.argv[1:]; s,w,c,sw,vw=map(float,(s,w,c,sw,vw)); print(f"{p}: {s:.1f} s simulated; median wall {w:.1f} s ({s/w:.2f}x real time; sim {sw:.1f} s, checks {vw:.1f} s), median CPU {c:.1f} s ({s/c:.2f}x); {n} runs; capture set {z}")' "$plan" "$sim" "$mw" "$mc" "$ms" "$mv" "$N" "$size"
done
