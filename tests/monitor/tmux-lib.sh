# SPDX-License-Identifier: BSD-3-Clause
# Helpers for the tmux-driven tests (sourced). Each test gets its own tmux
# server (-L), its own session, socket and temp dir; a trap removes them all.
# Needs MON (baton-monitor), PY (python3), HERE (this directory).
set -uo pipefail
T=$(mktemp -d /tmp/btmon-XXXXXX)
TSOCK="btmon-$$-$(basename "$0" .sh)"
SESS=mon
SRV_PID=
fail=0

tm() { tmux -L "$TSOCK" "$@"; }
cleanup() {
    tm kill-server 2>/dev/null
    if [ -n "$SRV_PID" ]; then kill "$SRV_PID" 2>/dev/null; wait "$SRV_PID" 2>/dev/null; fi
    rm -rf "$T"
}
trap cleanup EXIT

say_fail() { echo "FAIL: $*"; fail=1; }
screen() { tm capture-pane -p -t "$SESS"; }
row() { screen | sed -n "$(($1 + 1))p"; }   # row N of the pane, 0-based

# wait_for REGEX [SECONDS]: until a line of the pane matches (grep -E)
wait_for() {
    local re=$1 limit=${2:-10} i
    for ((i = 0; i < limit * 20; i++)); do
        screen | grep -qE -- "$re" && return 0
        sleep 0.05
    done
    say_fail "waited ${limit}s for /$re/; the pane shows:"
    screen | sed 's/^/    |/'
    return 1
}

# expect_row N REGEX: row N of the pane matches
expect_row() {
    local got
    got=$(row "$1")
    echo "$got" | grep -qE -- "$2" || say_fail "row $1 is '$got', want /$2/"
}

start_server() {
    rm -f "$T/s.sock"
    "$PY" "$HERE/mon-test-server.py" --socket "$T/s.sock" "$@" >> "$T/server.log" 2>&1 &
    SRV_PID=$!
    local i
    for ((i = 0; i < 100; i++)); do
        [ -S "$T/s.sock" ] && return 0
        sleep 0.05
    done
    say_fail "the test server did not start: $(cat "$T/server.log")"
    exit 1
}

stop_server() {
    kill "$SRV_PID" 2>/dev/null
    wait "$SRV_PID" 2>/dev/null
    SRV_PID=
}

# An interactive shell in an 80x24 pane, with a prompt the tests can wait for.
start_shell() {
    tm -f /dev/null new-session -d -s "$SESS" -x 80 -y 24 \
        "env -i TERM=\$TERM PATH=/usr/bin:/bin HOME=$T LANG=C.UTF-8 PS1='SHELL-PROMPT\$ ' bash --norc --noprofile"
    tm set-option -t "$SESS" status off
    wait_for 'SHELL-PROMPT\$' 5
}

# The monitor's PID: the child of the pane's shell.
monitor_pid() {
    pgrep -P "$(tm display -p -t "$SESS" '#{pane_pid}')" baton-monitor
}
