#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The commands of the live screen (DESIGN.md contract 3), end to end against
# the scripted server: each asks for confirmation, anything but y cancels and
# sends nothing; a confirmed one reaches the server as the documented JSON,
# its reply (ok or refused) is shown, and its effect comes back in the stats.
# Then the socket vanishes (server killed): the screen says DISCONNECTED,
# commands are refused locally, and it reconnects when the server is back.
MON=$(realpath "$1"); PY=$2; HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/tmux-lib.sh"

LOG=$T/commands.jsonl
: > "$LOG"
start_server --interval 0.25 --log "$LOG"
start_shell
tm send-keys -t "$SESS" "clear; $MON --connect $T/s.sock; echo MON-EXIT=\$?" Enter
wait_for '^  1 U 100 ' || exit 1
key() { tm send-keys -t "$SESS" "$@"; }

# f on SGM 3, answered n: cancelled, nothing sent
key Down Down
key f
wait_for '^Fail SGM 3\? \(y/n\)$'
key n
wait_for '^sort id \| cancelled'
sleep 0.5
[ ! -s "$LOG" ] || say_fail "a cancelled command reached the server: $(cat "$LOG")"
# f, y: sent, ok, member 3 down, its event
key f
wait_for '^Fail SGM 3\? \(y/n\)$'
key y
wait_for '^sort id \| fail SGM 3: ok'
wait_for '^! 3 D 100   0   0 '
wait_for '  sgm_down SGM 3$'
# r, y
key r
wait_for '^Restore SGM 3\? \(y/n\)$'
key y
wait_for '^sort id \| restore SGM 3: ok'
wait_for '^  3 U 100 '
wait_for '  sgm_up SGM 3$'
# w: 250, Enter, y
key w
wait_for '^Weight of SGM 3 \(0-512\): 100_'
key 2 5 0
wait_for '^Weight of SGM 3 \(0-512\): 250_'
key Enter
wait_for '^Set the weight of SGM 3 to 250\? \(y/n\)$'
key y
wait_for '^sort id \| weight SGM 3 250: ok'
wait_for '^  3 U 250 '
wait_for '  weight SGM 3 -> 250$'
# w 0: the server refuses; the reason is shown
key w 0 Enter
wait_for '^Set the weight of SGM 3 to 0\? \(y/n\)$'
key y
wait_for '^sort id \| weight SGM 3 0: refused: weight 0: use fail'
# a: the first free id is suggested; Esc cancels; then Enter, a weight, y adds it
key a
wait_for '^Add member, SGM id \(1-64\): 53_'
key Escape
wait_for '^sort id \| cancelled'
key a
wait_for '^Add member, SGM id \(1-64\): 53_'
key Enter
wait_for '^Weight of the new SGM 53 \(0-512\): 100_'
key 5 0 Enter
wait_for '^Add SGM 53 with weight 50\? \(y/n\)$'
key y
wait_for '^sort id \| add SGM 53 weight 50: ok'
wait_for '  sgm_join SGM 53 weight 50$'
key End
wait_for '^ 53 U  50 ' && wait_for ' rows 40-53 of 53 '
# what the server received, in order
want='{"cmd": "fail", "id": 1, "sgm": 3}
{"cmd": "restore", "id": 2, "sgm": 3}
{"cmd": "weight", "id": 3, "sgm": 3, "weight": 250}
{"cmd": "weight", "id": 4, "sgm": 3, "weight": 0}
{"cmd": "add", "id": 5, "sgm": 53, "weight": 50}'
[ "$(cat "$LOG")" = "$want" ] || { say_fail "the server received:"; cat "$LOG"; }

# the socket vanishes: no crash, DISCONNECTED, commands refused locally
stop_server
wait_for ' DISCONNECTED \(retry in [0-9.]+s\)$'
key Home f
wait_for '^Fail SGM 1\? \(y/n\)$'
key y
wait_for '^sort id \| fail SGM 1: not sent, not connected'
monitor_pid > /dev/null || say_fail "the monitor ended when the socket vanished"
# the server comes back (a new cluster): the monitor reconnects by itself
start_server --interval 0.25 --log "$LOG"
wait_for ' LIVE$' 10
wait_for '^ 52 U|rows 1-14 of 52'
key q
wait_for '^MON-EXIT=0$'
exit $fail
