#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# baton-verify against its peers on the same pcap, side by side:
# `baton-verify check --sgm 1=PCAP` (its default: a reader thread beside the
# checks on 2+ CPUs; and `--threads 1`) vs `tshark -q -z conv,tcp` vs
# `tcptrace -n`. Prints each run's wall time, CPU time (user + system) and
# peak RSS, then medians and ratios (peer / baton-verify, for each of its two
# modes), the machine, load and commit.
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
echo "commit $(git -C "$(dirname "$0")" rev-parse --short HEAD 2>/dev/null || echo '?'), load before: $(cut -d' ' -f1-3 /proc/loadavg)"
measure() {  # name command... -> appends "name wall_s kb cpu_s" to $T/res
    local name=$1
    shift
    /usr/bin/time -f "%e %M %U %S" -o "$T/time" "$@" > /dev/null 2>&1 || true
    read -r wall kb usr sys < "$T/time"
    echo "$name $wall $kb $(awk -v u="$usr" -v s="$sys" 'BEGIN { print u + s }')" | tee -a "$T/res"
}
for i in $(seq "$RUNS"); do
    measure baton-verify "$B/verify/baton-verify" check --sgm "1=$T/g.pcap" --json
    measure baton-verify-1t "$B/verify/baton-verify" check --sgm "1=$T/g.pcap" --json --threads 1
    measure tshark tshark -q -z conv,tcp -r "$T/g.pcap"
    measure tcptrace tcptrace -n "$T/g.pcap"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 - "$T/res" <<'PY'
import statistics, sys
r = {}
for line in open(sys.argv[1]):
    n, s, kb, cpu = line.split()
    r.setdefault(n, []).append((float(s), int(kb), float(cpu)))
med = {n: tuple(statistics.median(x[i] for x in v) for i in range(3)) for n, v in r.items()}
for base in ("baton-verify", "baton-verify-1t"):
    b = med[base]
    print(f"ratios against {base}:")
    for n, (s, kb, cpu) in med.items():
        print(f"{n:15s} median wall {s:7.2f} s  cpu {cpu:7.2f} s  peak RSS {kb/1024:8.1f} MiB  "
              f"ratios: wall {s/b[0]:6.1f}x  cpu {cpu/b[2]:6.1f}x  RSS {kb/b[1]:6.1f}x")
PY
