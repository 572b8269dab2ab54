#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Gateway core: connection setup with HyperSync vs without (itself with sync
# off is the peer), established-flow pps per core vs members, sync bytes per
# connection vs members, and the sim's end-to-end speed vs real time.
# Usage: bench/gateway.sh [BUILD_DIR]
set -euo pipefail
B=${1:-build}
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
"$B/bench/gateway/bench-gw" setup 1000000
for m in 1 4 16 52; do "$B/bench/gateway/bench-gw" pps 3000000 "$m"; done
"$B/bench/gateway/bench-gw" sync 200000
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
s=$(date +%s.%N)
"$B/gateway/baton-gateway" sim --out "$T/s" --members 4 --flows 20000 --cps 10000 --exchanges 20 --json > "$T/j" 2>/dev/null
e=$(date +%s.%N)
/usr/bin/python3 -c "
import json, sys
d = json.load(open(sys.argv[1])); wall = float(sys.argv[3]) - float(sys.argv[2])
print(f\"sim: {d['rx']} packets, {d['sim_s']:.2f} s virtual in {wall:.2f} s wall: {d['sim_s']/wall:.1f}x real time, {d['rx']/wall/1e6:.2f} Mpps with capture writing\")
" "$T/j" "$s" "$e"
