#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The terminal is given back as it was, however the monitor ends: q, SIGINT
# (Ctrl-C), SIGTERM (while a prompt is open), SIGHUP. Checked in tmux: the
# alternate screen is left (what was on the pane before is back), the tty
# modes (stty -g) are the same as before, the cursor is visible, and the
# exit status says how it ended (0, 130, 143, 129).
MON=$(realpath "$1"); PY=$2; HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/tmux-lib.sh"

start_server --interval 0.3
start_shell

# run NAME: starts the monitor from the shell with the tty state saved around it
run() {
    tm send-keys -t "$SESS" "clear; stty -g > $T/$1.before; echo PRE-RUN-MARK-$1; $MON --connect $T/s.sock; echo MON-EXIT=\$?; stty -g > $T/$1.after" Enter
    wait_for ' LIVE$' || exit 1
    [ "$(tm display -p -t "$SESS" '#{alternate_on}')" = 1 ] || say_fail "$1: not on the alternate screen while running"
    [ "$(tm display -p -t "$SESS" '#{cursor_flag}')" = 0 ] || say_fail "$1: cursor shown while running"
}

# restored NAME STATUS: the monitor ended with STATUS and left the terminal as it found it
restored() {
    wait_for "^MON-EXIT=$2\$" || return
    wait_for '^SHELL-PROMPT\$ ?$' 5
    [ "$(tm display -p -t "$SESS" '#{alternate_on}')" = 0 ] || say_fail "$1: still on the alternate screen"
    [ "$(tm display -p -t "$SESS" '#{cursor_flag}')" = 1 ] || say_fail "$1: cursor left hidden"
    # (tmux itself leaves the alternate screen's lines on the pane when the
    # window was resized meanwhile; top does the same: not checked then)
    if [ "${3:-}" != resized ]; then
        screen | grep -q "^PRE-RUN-MARK-$1\$" || say_fail "$1: the pane's earlier contents are not back"
        screen | grep -q 'baton-monitor  live' && say_fail "$1: the monitor's screen is left on the pane"
    fi
    cmp -s "$T/$1.before" "$T/$1.after" || say_fail "$1: tty modes changed: $(cat "$T/$1.before") -> $(cat "$T/$1.after")"
    # the shell reads lines with echo again
    tm send-keys -t "$SESS" "echo ECHO-OK-$1" Enter
    wait_for "^SHELL-PROMPT\\\$ echo ECHO-OK-$1\$" 5
    wait_for "^ECHO-OK-$1\$" 5
}

run quit
tm send-keys -t "$SESS" q
restored quit 0

run sigint
tm send-keys -t "$SESS" C-c
restored sigint 130

run sigterm
tm send-keys -t "$SESS" w            # a prompt is open when the signal comes
wait_for '^Weight of SGM 1 \(0-512\): 100_'
kill -TERM "$(monitor_pid)"
restored sigterm 143

run sighup
kill -HUP "$(monitor_pid)"
restored sighup 129

# a terminal resize while running does not end it
run winch
tm resize-window -t "$SESS" -x 100 -y 30
wait_for ' LIVE$'
kill -WINCH "$(monitor_pid)"
sleep 0.3
monitor_pid > /dev/null || say_fail "SIGWINCH ended the monitor"
tm send-keys -t "$SESS" q
restored winch 0 resized
exit $fail
