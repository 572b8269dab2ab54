#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# libbaton benchmarks: per-packet cost of parse + flow key + hash + bucket
# lookup on one core, and the bucket table's balance, disruption and build
# time next to Maglev and hash mod n. Usage: bench/lib.sh [BUILD_DIR] [RUNS]
# Needs a build with bench/lib (any: meson builds the benchmarks, never runs
# them as tests). Figures go to docs/benchmarks.md (section lib).
set -euo pipefail
B=${1:-build}
RUNS=${2:-3}
BIN="$B/bench/lib/bench-lib"
[ -x "$BIN" ] || { echo "lib.sh: $BIN not built (ninja -C $B)" >&2; exit 2; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "commit: $(git -C "$(dirname "$0")/.." rev-parse --short HEAD 2>/dev/null || echo '?')"
"$BIN" gen "$T/g.pcap" 1000000 150000

# Each run prints the median of 5 passes per stage; the table below is the
# median over RUNS runs of those (CPU time of the thread, and wall time).
for i in $(seq "$RUNS"); do
    "$BIN" parse "$T/g.pcap" 5 2>/dev/null > "$T/out$i"
    tail -n +3 "$T/out$i" > "$T/run$i"
done
head -1 "$T/out1"
printf '%-31s %10s %10s %10s %10s   (median of %d runs)\n' stage cpu_ns/pkt cpu_Mpps wall_ns/pkt wall_Mpps "$RUNS"
nstages=$(wc -l < "$T/run1")
for s in $(seq "$nstages"); do
    name=$(sed -n "${s}p" "$T/run1" | cut -c1-31)
    med() { # column $1 of stage $s over the runs
        for i in $(seq "$RUNS"); do sed -n "${s}p" "$T/run$i" | cut -c32- | awk -v c="$1" '{print $c}'; done |
            sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'
    }
    printf '%-31s %10s %10s %10s %10s\n' "$name" "$(med 1)" "$(med 2)" "$(med 3)" "$(med 4)"
done
echo
for nb in 16384 65536 262144; do
    "$BIN" dist "$nb"
    echo
done
