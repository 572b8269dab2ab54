#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Gateway core benchmarks (docs/benchmarks.md, gateway section), in CPU time
# on one core, each figure the median of 5 runs inside bench-gw, runs with
# and without sync alternating (the peer is the cluster itself with sync
# off): connection setup with HyperSync vs without at 2, 4 and 52 members;
# established-flow and whole-conversation packets per second through
# distributor + member + sync vs members; sync bytes per connection and
# sync traffic 2..52 members; balance and bucket moves 2..52 members; the
# sim's end-to-end speed.
# Usage: bench/gateway.sh [BUILD_DIR]   (a release build: meson setup -Dbuildtype=release)
set -euo pipefail
B=${1:-build}
G=$B/bench/gateway/bench-gw
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "commit: $(git -C "$(dirname "$0")/.." rev-parse --short HEAD 2>/dev/null || echo unknown); build: $(meson introspect --buildoptions "$B" 2>/dev/null | /usr/bin/python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="buildtype"][0])' 2>/dev/null || echo unknown)"
for m in 2 4 52; do "$G" setup 200000 "$m"; done
for m in 1 4 16 52; do "$G" pps 1000000 "$m"; done
for m in 2 4 16 52; do "$G" mix 20000 "$m"; done
"$G" sync 20000
"$G" balance 500000
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# Each run's 1.5 GB capture set is removed before the next: left in the page
# cache, its writeback lands on the next run as seconds of sys time.
for r in 1 2 3; do
    /usr/bin/time -f "%U %S %e" -o "$T/time$r" "$B/gateway/baton-gateway" sim --out "$T/s$r" --members 4 \
        --flows 20000 --cps 10000 --exchanges 20 --json > "$T/j$r" 2>/dev/null
    rm -rf "$T/s$r"
done
/usr/bin/python3 - "$T" <<'PY'
import json, statistics, sys
t = sys.argv[1]
runs = []
for r in (1, 2, 3):
    d = json.load(open(f"{t}/j{r}"))
    u, s, e = map(float, open(f"{t}/time{r}").read().split())
    runs.append((d["rx"], d["sim_s"], u + s, e))
rx, sim = runs[0][0], runs[0][1]
cpu = statistics.median(x[2] for x in runs)
wall = statistics.median(x[3] for x in runs)
print(f"sim: 4 members, 20000 conversations, {rx} packets, {sim:.2f} s virtual; median of 3: "
      f"{cpu:.2f} s CPU ({sim / cpu:.1f}x real time, {rx / cpu / 1e6:.2f} Mpps), {wall:.2f} s wall "
      f"({sim / wall:.1f}x), writing the capture set")
PY
