#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# baton-verify against its peers on the same pcap, side by side:
# `baton-verify check --sgm 1=PCAP` vs `tshark -q -z conv,tcp` vs `tcptrace -n`.
# Prints each run's wall time and peak RSS, then medians and ratios.
# Usage: bench/verify.sh [BUILD_DIR] [PACKETS] [FLOWS] [RUNS]
set -euo pipefail
B=${1:-build}
P=${2:-1800000}
F=${3:-150000}
RUNS=${4:-3}
T=$(mktemp -d /tmp/bt-bench-verify-XXXXXX)
trap 'rm -rf "$T"' EXIT
"$B/bench/lib/bench-lib" gen "$T/g.pcap" "$P" "$F"
echo "pcap: $P packets, $F flows, $(du -m "$T/g.pcap" | cut -f1) MB; machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
measure() {  # name command... -> appends "name secs kb" to $T/res
    local name=$1
    shift
    /usr/bin/time -f "%e %M" -o "$T/time" "$@" > /dev/null 2>&1 || true
    echo "$name $(cat "$T/time")" | tee -a "$T/res"
}
for i in $(seq "$RUNS"); do
    measure baton-verify "$B/verify/baton-verify" check --sgm "1=$T/g.pcap" --json
    measure tshark tshark -q -z conv,tcp -r "$T/g.pcap"
    measure tcptrace tcptrace -n "$T/g.pcap"
done
/usr/bin/python3 - "$T/res" <<'PY'
import statistics, sys
r = {}
for line in open(sys.argv[1]):
    n, s, kb = line.split()
    r.setdefault(n, []).append((float(s), int(kb)))
med = {n: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v)) for n, v in r.items()}
b = med["baton-verify"]
for n, (s, kb) in med.items():
    print(f"{n:13s} median {s:7.2f} s  peak RSS {kb/1024:8.1f} MiB  time ratio {s/b[0]:6.1f}x  RSS ratio {kb/b[1]:6.1f}x")
PY
