#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The live screen on 80x24, driven in tmux against the scripted server: the
# member rows, a member going down and its event line, the off-share and
# down markers, a bad line counted, each sort order, scrolling 52 members,
# help, pause, resizing (wider, too small, back), q.
MON=$(realpath "$1"); PY=$2; HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/tmux-lib.sh"

start_server --interval 0.3 --down-at 4 --bad-at 2
start_shell
tm send-keys -t "$SESS" "clear; $MON --connect $T/s.sock; echo MON-EXIT=\$?" Enter
wait_for ' LIVE$' || exit 1
wait_for '^  1 U 100 ' || exit 1
expect_row 0 "^baton-monitor  live $T/s.sock +t [0-9.]+s  seq [0-9]+  LIVE$"
expect_row 1 '^pps [0-9.]+[KM] +Gbps [0-9.]+ +conns [0-9.]+K +cps [0-9.]+K +sync [0-9.]+ Mbps +up 5[12]/52 +policy v1$'
expect_row 2 '^pps +.* max +[0-9.]+M$'
expect_row 3 '^ ID S   W EXP ACT SHR  PPS Mbps CONN/BKUP  CPS TX pps/Mb RX pps/Mb CORR DROP CPU$'
# rows 4..17: members 1..14, every column filled, 80 columns wide
for i in $(seq 1 14); do
    expect_row $((i + 3)) "^[ !*] ?$i [UD] 100 .* 2[34]0/0.98  238/0.97 +[0-9]+ +[0-9]+  4[0-6]$"
done
[ "$(row 4 | wc -L)" -eq 80 ] || say_fail "a member row is not 80 columns: '$(row 4)'"
# a member going down, its event line, and the off-share marker
wait_for '^! 7 D 100   0   0 ' || exit 1
wait_for '^ +[0-9.]+s  sgm_down SGM 7$'
expect_row 18 '^─ events \(1\) ─+ rows 1-14 of 52 ─+$'
screen | grep -qE '^\* 9 U 100 .*  10K ' || say_fail "SGM 9 (half its share) not marked *"
screen | grep -qE '^  8 U 100 2\.0 2\.0 ' || say_fail "SGM 8 (on its share) marked"
# and in colour: down red, off its share yellow, on its share plain
tm capture-pane -p -e -t "$SESS" > "$T/colour"
grep -qF $'\e[31m! 7 D 100' "$T/colour" || say_fail "the down member's row is not red"
grep -qF $'\e[33m* 9 U 100' "$T/colour" || say_fail "the off-share member's row is not yellow"
grep -qE $'\e\\[3[13]m  8 U' "$T/colour" && say_fail "SGM 8 coloured"
wait_for '^sort id \| 1 bad line \(line 3: not JSON: col 4: invalid token'
# sorting
tm send-keys -t "$SESS" s
wait_for '^sort pps' && { expect_row 4 '^ 52 U'; expect_row 5 '^ 51 U'; }
tm send-keys -t "$SESS" s
wait_for '^sort off-share' && expect_row 4 '^\* 9 U'
tm send-keys -t "$SESS" s
wait_for '^sort conns' && expect_row 4 '^ 52 U'
tm send-keys -t "$SESS" s
wait_for '^sort cpu' && expect_row 4 '^  6 U'
tm send-keys -t "$SESS" s
wait_for '^sort state' && { expect_row 4 '^! 7 D'; expect_row 5 '^  1 U'; }
tm send-keys -t "$SESS" s
wait_for '^sort id' && expect_row 4 '^  1 U'
# scrolling 52 members on 24 rows
tm send-keys -t "$SESS" End
wait_for ' rows 39-52 of 52 ' && { expect_row 4 '^ 39 U'; expect_row 17 '^ 52 U'; }
tm send-keys -t "$SESS" PPage
wait_for ' rows 25-38 of 52 ' && expect_row 4 '^ 25 U'
tm send-keys -t "$SESS" NPage
wait_for ' rows 39-52 of 52 '
tm send-keys -t "$SESS" Home
wait_for ' rows 1-14 of 52 '
for _ in $(seq 20); do tm send-keys -t "$SESS" Down; done
wait_for ' rows 8-21 of 52 ' && expect_row 4 '^  8 U'
for _ in $(seq 20); do tm send-keys -t "$SESS" Up; done
wait_for ' rows 1-14 of 52 '
# help, any key closes it
tm send-keys -t "$SESS" '?'
wait_for '^Keys \(any key closes this help\)$' && screen | grep -q 'CONN/BKUP  connections it owns' \
    || say_fail "help incomplete"
tm send-keys -t "$SESS" x
wait_for ' rows 1-14 of 52 '
# pause freezes the figures; p again resumes
tm send-keys -t "$SESS" p
wait_for ' PAUSED LIVE$'
s1=$(row 0 | grep -oE 'seq [0-9]+'); sleep 1; s2=$(row 0 | grep -oE 'seq [0-9]+')
[ "$s1" = "$s2" ] || say_fail "paused screen changed: $s1 -> $s2"
tm send-keys -t "$SESS" p
sleep 1
s3=$(row 0 | grep -oE 'seq [0-9]+')
[ "$s3" != "$s2" ] || say_fail "p did not resume ($s3)"
# resize: wider and taller, too small, back (SIGWINCH)
tm resize-window -t "$SESS" -x 120 -y 40
wait_for ' rows 1-30 of 52 ' && { expect_row 3 '^ ID STATE     W EXP ACT SHARE +PPS'; expect_row 10 '^! 7 DOWN    100'; }
[ "$(row 0 | wc -L)" -eq 120 ] || say_fail "title not 120 columns wide after resize"
tm resize-window -t "$SESS" -x 70 -y 20
wait_for '^terminal 70x20: baton-monitor needs 80x24$'
tm resize-window -t "$SESS" -x 80 -y 24
wait_for ' rows 1-14 of 52 ' && expect_row 3 '^ ID S   W EXP'
# q quits with 0
tm send-keys -t "$SESS" q
wait_for '^MON-EXIT=0$'
exit $fail
