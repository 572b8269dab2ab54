#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# libbaton benchmarks: parse+hash throughput and the bucket table's balance
# and disruption. Usage: bench/lib.sh [BUILD_DIR]
set -euo pipefail
B=${1:-build}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
"$B/bench/lib/bench-lib" gen "$T/g.pcap" 1000000 150000
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
for i in 1 2 3; do "$B/bench/lib/bench-lib" parse "$T/g.pcap"; done
for nb in 16384 65536 262144; do "$B/bench/lib/bench-lib" dist $nb; done
