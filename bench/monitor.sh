#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# baton-monitor's CPU cost at 1 Hz with 52 members (goal: under 1 % of a
# core), side by side with a peer doing the same job for processes: top
# refreshing once a second. Each run starts the scripted stats server
# (tests/monitor/mon-test-server.py, 52 members, one line a second) and, in a
# private tmux server, three 80x24 panes: the live screen (--connect), batch
# mode (--batch --interval 1 > /dev/null) and `top -d 1`; after a warm-up it
# reads each one's utime+stime (/proc/PID/stat) over DURATION seconds.
# Also prints the in-process cost per line (bench-mon_render).
# Usage: bench/monitor.sh [BUILD_DIR] [DURATION_S] [RUNS]
set -euo pipefail
B=$(realpath "${1:-build}")
DUR=${2:-60}
RUNS=${3:-3}
HERE=$(cd "$(dirname "$0")/.." && pwd)
MON=$B/monitor/baton-monitor
T=$(mktemp -d /tmp/bt-bench-monitor-XXXXXX)
L="bt-bench-monitor-$$"
SRV=
cleanup() {
    tmux -L "$L" kill-server 2>/dev/null || true
    if [ -n "$SRV" ]; then kill "$SRV" 2>/dev/null || true; wait "$SRV" 2>/dev/null || true; fi
    rm -rf "$T"
}
trap cleanup EXIT
TCK=$(getconf CLK_TCK)
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $DUR s per run, $RUNS runs"
"$B/bench/monitor/bench-mon_render" 20000
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
for r in $(seq "$RUNS"); do
    /usr/bin/python3 "$HERE/tests/monitor/mon-test-server.py" --socket "$T/s.sock" --interval 1 \
        --members 52 > "$T/server.log" 2>&1 &
    SRV=$!
    for _ in $(seq 100); do [ -S "$T/s.sock" ] && break; sleep 0.05; done
    tmux -L "$L" -f /dev/null new-session -d -s b -x 80 -y 24 -n live "exec env LANG=C.UTF-8 $MON --connect $T/s.sock"
    tmux -L "$L" new-window -d -t b:1 -n batch "exec $MON --connect $T/s.sock --batch --interval 1 > /dev/null"
    tmux -L "$L" new-window -d -t b:2 -n top "exec top -d 1"
    sleep 3   # warm-up: connected, first lines drawn
    # each pane's command is exec'd: the pane's process is the program itself
    declare -A pid t0
    for w in live batch top; do
        pid[$w]=$(tmux -L "$L" display -p -t "b:$w" '#{pane_pid}')
        grep -qE "^[0-9]+ \((baton-monitor|top)\)" "/proc/${pid[$w]}/stat" \
            || { echo "pane $w runs $(cut -d' ' -f2 "/proc/${pid[$w]}/stat"), not the program" >&2; exit 1; }
        t0[$w]=$(ticks "${pid[$w]}")
    done
    w0=$(date +%s%N)
    sleep "$DUR"
    w1=$(date +%s%N)
    for w in live batch top; do
        echo "$w $(( $(ticks "${pid[$w]}") - ${t0[$w]} )) $(( (w1 - w0) / 1000000 ))" >> "$T/res"
    done
    tail -3 "$T/res" | awk -v tck="$TCK" -v r="$r" '{printf "run %d  %-6s %5d ticks in %6.1f s = %.3f %% of a core\n", r, $1, $2, $3/1000, 100*$2/tck/($3/1000)}'
    tmux -L "$L" kill-server
    kill "$SRV"; wait "$SRV" 2>/dev/null || true
    SRV=
done
/usr/bin/python3 - "$T/res" "$TCK" <<'PY'
import statistics, sys
tck = int(sys.argv[2])
r = {}
for line in open(sys.argv[1]):
    n, ticks, ms = line.split()
    r.setdefault(n, []).append(100 * int(ticks) / tck / (int(ms) / 1000))
med = {n: statistics.median(v) for n, v in r.items()}
names = {"live": "baton-monitor (screen)", "batch": "baton-monitor --batch", "top": "top -d 1 (peer)"}
for n in ("live", "batch", "top"):
    print(f"{names[n]:24s} median {med[n]:.3f} % of a core"
          + (f"   top / this: {med['top'] / med[n]:.1f}x" if n != "top" and med[n] > 0 else ""))
print("goal: under 1 % of a core at 1 Hz with 52 members:",
      "met" if max(med["live"], med["batch"]) < 1 else "NOT met")
PY
