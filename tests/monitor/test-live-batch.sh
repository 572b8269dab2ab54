#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# --connect --batch against the scripted server: frames at --interval, 52
# member rows each, a bad line counted; the socket vanishes mid-line (the
# partial line is counted, frames say "disconnected") and comes back (frames
# say "live" again, no restart needed); --record writes what was received and
# --replay of that file shows the same lines. A socket that never appears
# gives frames that say so, and exit 0.
set -uo pipefail
MON=$1; PY=$2; HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d /tmp/btmon-XXXXXX)
SRV=
cleanup() {
    if [ -n "$SRV" ]; then kill "$SRV" 2>/dev/null; wait "$SRV" 2>/dev/null; fi
    rm -rf "$T"
}
trap cleanup EXIT
fail=0
say_fail() { echo "FAIL: $*"; fail=1; }

"$PY" "$HERE/mon-test-server.py" --socket "$T/s.sock" --interval 0.2 --bad-at 2 --down-at 3 \
    --vanish-at 5 --vanish-for 1.2 > "$T/server.log" 2>&1 &
SRV=$!
for _ in $(seq 100); do [ -S "$T/s.sock" ] && break; sleep 0.05; done
timeout 20 "$MON" --connect "$T/s.sock" --batch --interval 0.5 --count 10 --record "$T/rec.jsonl" \
    > "$T/out" 2> "$T/err"
rc=$?
[ $rc -eq 0 ] || say_fail "exit $rc: $(cat "$T/err")"
frames=$(grep -c '^baton-monitor  ' "$T/out")
[ "$frames" -eq 10 ] || say_fail "$frames frames, want 10"
# every frame with data lists the 52 members
awk '/^baton-monitor  /{if (n && rows != 52) bad++; n++; rows = 0} /^[ !*] +[0-9]+ (up|down) /{rows++}
     END {if (rows != 52) bad++; exit bad > 0}' "$T/out" || say_fail "a frame without 52 member rows"
grep -q '^baton-monitor  .*  live  1 bad line (last: line 3: not JSON' "$T/out" || say_fail "bad line not counted"
grep -q '^!   7 down ' "$T/out" || say_fail "member 7 never shown down"
grep -q '^event 3.500s sgm_down SGM 7$' "$T/out" || say_fail "no sgm_down event"
[ "$(grep -c '^event 3.500s sgm_down SGM 7$' "$T/out")" -eq 1 ] || say_fail "the event was printed twice"
grep -q '  disconnected  2 bad lines (last: line [0-9]*: partial line (connection closed))$' "$T/out" \
    || say_fail "the vanished socket is not shown (or its cut line not counted)"
last=$(grep '^baton-monitor  ' "$T/out" | tail -1)
echo "$last" | grep -q '  live  ' || say_fail "not live again after the server came back: $last"
# what was recorded replays to the same figures
n=$(grep -c '"schema":1' "$T/rec.jsonl")
[ "$n" -ge 8 ] || say_fail "only $n stats lines recorded"
"$MON" --replay "$T/rec.jsonl" --batch > "$T/replay" 2> "$T/replay.err" || say_fail "replay of the record failed"
[ "$(grep -c '^baton-monitor  ' "$T/replay")" -eq "$n" ] || say_fail "replay: not one frame per recorded line"
grep -q 'malformed line skipped (last: line 3: not JSON' "$T/replay.err" || say_fail "the bad line was not recorded: $(cat "$T/replay.err")"
diff <(grep -E '^[ !*] +[0-9]+ ' "$T/out" | tail -52) <(grep -E '^[ !*] +[0-9]+ ' "$T/replay" | tail -52) > /dev/null \
    || say_fail "the replayed last frame differs from the live last frame"

# a socket that is not there: frames say so, nothing crashes, exit 0
timeout 10 "$MON" --connect "$T/none.sock" --batch --interval 0.2 --count 3 > "$T/none" 2>&1
rc=$?
[ $rc -eq 0 ] || say_fail "missing socket: exit $rc"
[ "$(grep -c '^baton-monitor  t -  seq -  members -/- up  policy v-  connecting$' "$T/none")" -eq 3 ] \
    || { say_fail "missing socket frames:"; cat "$T/none"; }

# a reconnect is not live until a line comes on it: a server that sends one
# line, closes, then accepts the reconnect and says nothing (found in
# review: the old figures read "live" for 3 intervals)
cat > "$T/quiet.py" << 'EOF'
import os, socket, sys, time
p = sys.argv[1]
s = socket.socket(socket.AF_UNIX)
s.bind(p)
s.listen(5)
c, _ = s.accept()
c.sendall(b'{"schema":1,"t":5.0,"seq":5,"cluster":{"pps":1.0},"sgms":[{"id":1,"state":"up","weight":100,"pps":1.0}]}\n')
time.sleep(0.3)
c.close()
c2, _ = s.accept()
time.sleep(5)
EOF
"$PY" "$T/quiet.py" "$T/q.sock" &
QS=$!
for _ in $(seq 100); do [ -S "$T/q.sock" ] && break; sleep 0.05; done
timeout 10 "$MON" --connect "$T/q.sock" --batch --interval 0.5 --count 5 > "$T/quiet" 2>&1
kill "$QS" 2>/dev/null; wait "$QS" 2>/dev/null
if grep '^baton-monitor  ' "$T/quiet" | tail -n +2 | grep -q '  live'; then
    say_fail "old figures shown live after a reconnect: $(grep '^baton-monitor  ' "$T/quiet")"
fi
grep -q '^baton-monitor  t 5.000s.*  stale' "$T/quiet" || say_fail "no stale frame after the reconnect: $(cat "$T/quiet")"
exit $fail
