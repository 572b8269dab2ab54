#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# baton-monitor --connect against a real `baton-gateway sim --serve PATH
# --speed 1` (not the scripted server): the rows of the simulated cluster
# appear with traffic; the gateway stopped (SIGSTOP) makes the screen STALE
# and it goes LIVE again when it resumes; f on SGM 2 with confirmation fails
# the member in the gateway (its answer, the row going down, the event on
# screen, sgm_down in the gateway's events.jsonl); the gateway ended makes
# it DISCONNECTED with a growing retry delay (backoff) and nothing crashes;
# a new gateway on the same path (6 members) is picked up by itself.
MON=$(realpath "$1"); PY=$2; GW=$(realpath "$3"); HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/tmux-lib.sh"
GW_PID=
stop_gw() {
    [ -n "$GW_PID" ] || return 0
    kill -CONT "$GW_PID" 2>/dev/null
    kill "$GW_PID" 2>/dev/null
    wait "$GW_PID" 2>/dev/null
    GW_PID=
}
trap 'stop_gw; cleanup' EXIT

# start_gw OUT MEMBERS: a sim serving the socket for up to 60 s of virtual (= wall) time
start_gw() {
    rm -f "$T/gw.sock"
    "$GW" sim --out "$T/$1" --serve "$T/gw.sock" --speed 1 --duration 60s --members "$2" \
        --flows 100000 --cps 1000 --exchanges 50 --interval 100ms --stats-interval 250ms \
        > "$T/$1.log" 2>&1 &
    GW_PID=$!
    local i
    for ((i = 0; i < 100; i++)); do
        [ -S "$T/gw.sock" ] && return 0
        sleep 0.05
    done
    say_fail "the gateway did not start: $(cat "$T/$1.log")"
    exit 1
}

start_gw run1 4
start_shell
tm send-keys -t "$SESS" "clear; $MON --connect $T/gw.sock; echo MON-EXIT=\$?" Enter
key() { tm send-keys -t "$SESS" "$@"; }
# the four members, up, weight 100, and traffic on the header
wait_for ' LIVE$' || exit 1
for id in 1 2 3 4; do wait_for "^  $id U 100 " 5; done
wait_for 'up 4/4' 5
screen | grep -qE '^  1 U 100 +[0-9.]+[KM]? ' || say_fail "no pps on member 1: $(row 6)"

# the gateway stops sending (SIGSTOP): STALE; it resumes: LIVE
kill -STOP "$GW_PID"
wait_for ' STALE [0-9]+s$' 6
kill -CONT "$GW_PID"
wait_for ' LIVE$' 5

# f on SGM 2, confirmed: the gateway fails it, the screen shows it
key Down
key f
wait_for '^Fail SGM 2\? \(y/n\)$'
key y
wait_for 'fail SGM 2: ok' 5
wait_for '^! 2 D 100 ' 5
wait_for '  sgm_down SGM 2$' 5
wait_for 'up 3/4' 5

# the gateway ends: DISCONNECTED, the retry delay grows, no crash
stop_gw
grep -q '"event":"sgm_down","sgm":2' "$T/run1/events.jsonl" ||
    say_fail "the gateway's events.jsonl lacks sgm_down of SGM 2: $(cat "$T/run1/events.jsonl")"
wait_for ' DISCONNECTED \(retry in [0-9.]+s\)$' 5
sleep 2.5
retry=$(screen | sed -nE 's/.* DISCONNECTED \(retry in ([0-9.]+)s\)$/\1/p' | head -1)
seen=0
for ((i = 0; i < 60; i++)); do
    r=$(screen | sed -nE 's/.* DISCONNECTED \(retry in ([0-9.]+)s\)$/\1/p' | head -1)
    # after 2.5 s of failures the delay has doubled past 0.8 s
    if [ -n "$r" ] && /usr/bin/python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) > 0.8 else 1)" "$r"; then
        seen=1; break
    fi
    sleep 0.1
done
[ $seen = 1 ] || say_fail "no backoff: the retry delay stays at ${retry:-?}s"
monitor_pid > /dev/null || say_fail "the monitor ended when the gateway went away"

# a new gateway on the same path: picked up by itself, its 6 members shown
start_gw run2 6
wait_for ' LIVE$' 10
wait_for '^  6 U 100 ' 10
wait_for 'up 6/6' 5
key q
wait_for '^MON-EXIT=0$'
stop_gw
exit $fail
