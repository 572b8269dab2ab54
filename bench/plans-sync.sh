#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Sync overhead from 2 to 52 members: the same traffic (10,000 closed-loop TCP
# flows, tgen co-simulated) through groups of 2..52 members, with HyperSync on
# and off side by side; per connection: sync records, sync bytes on the wire,
# and the work the cost model charged (ns), and the ratio on/off of that work.
# usage: bench/plans-sync.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), commit $(git rev-parse --short HEAD)"
printf '%8s %14s %14s %16s %16s %8s\n' members records/conn bytes/conn work_ns/conn work_no_sync ratio
for m in 2 4 8 16 32 52; do
    for sync in true false; do
        sed "s/^  members: .*/  members: $m\n  sync: $sync/; s/^name: .*/name: s$m$sync/" \
            bench/plans/sync-overhead.yaml > "$tmp/p.yaml"
        "$B/plans/baton-plan" run --json --out "$tmp/o" "$tmp/p.yaml" > "$tmp/$sync.json" || true
        rm -rf "$tmp/o"
    done
    /usr/bin/python3 - "$m" "$tmp/true.json" "$tmp/false.json" <<'PY'
import json, sys
on = json.load(open(sys.argv[2]))["plans"][0]["cluster"]
off = json.load(open(sys.argv[3]))["plans"][0]["cluster"]
c = on["conns"] or 1
print("%8s %14.2f %14.1f %16.0f %16.0f %8.2f" % (sys.argv[1], on["sync_records"] / c, on["sync_bytes"] / c,
      on["work_ns_per_conn"], off["work_ns_per_conn"], on["work_ns_per_conn"] / off["work_ns_per_conn"]))
PY
done
