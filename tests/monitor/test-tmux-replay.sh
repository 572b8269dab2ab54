#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# --replay on the live screen: paced by the stream's "t" (--speed), p stops
# the replay clock, the end is shown, commands are refused (nothing to send
# them to), bad lines of the file are counted; --ascii draws without block
# characters.
MON=$(realpath "$1"); PY=$2; HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/tmux-lib.sh"

# 16 lines, t = 0..15 s, 4 members; line 6 is not JSON
"$PY" - "$T/rec.jsonl" <<'PYEOF'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(16):
        if i == 6:
            f.write("{broken\n")
            continue
        ev = [{"t": i - 0.5, "event": "sgm_down", "sgm": 2}] if i == 3 else []
        f.write(json.dumps({"schema": 1, "t": float(i), "seq": i,
            "cluster": {"pps": 1000 * (i + 1), "members_up": 3 if i >= 3 else 4, "members_total": 4},
            "sgms": [{"id": k, "state": "down" if (k == 2 and i >= 3) else "up", "weight": 100,
                      "pps": 0 if (k == 2 and i >= 3) else 250 * (i + 1)} for k in range(1, 5)],
            "events": ev}) + "\n")
PYEOF
start_shell
tm send-keys -t "$SESS" "clear; $MON --replay $T/rec.jsonl --speed 4 --ascii; echo MON-EXIT=\$?" Enter
wait_for " REPLAY$" || exit 1
expect_row 0 "^baton-monitor  replay $T/rec.jsonl x4 +t [0-9.]+s  seq [0-9]+  REPLAY$"
wait_for '^! 2 D 100   0   0 '
wait_for '^ +2.500s  sgm_down SGM 2$'
screen | grep -q '[█▁▂▃▄▅▆▇]' && say_fail "--ascii drew block characters"
screen | grep -qE '^  1 U 100  33  33 [#|]' || say_fail "no ASCII share bar"
# p stops the replay clock
tm send-keys -t "$SESS" p
wait_for ' PAUSED REPLAY$'
s1=$(row 0 | grep -oE 'seq [0-9]+'); sleep 1; s2=$(row 0 | grep -oE 'seq [0-9]+')
[ "$s1" = "$s2" ] || say_fail "paused replay moved on: $s1 -> $s2"
tm send-keys -t "$SESS" p
# commands need a live cluster
tm send-keys -t "$SESS" f
wait_for 'commands need a live cluster \(--connect\)'
# the end: the last line is shown and stays
wait_for ' REPLAY ENDED$' 10 && expect_row 0 't 15.000s  seq 15  REPLAY ENDED$'
tm send-keys -t "$SESS" Escape      # clears the message
wait_for '^sort id \| 1 bad line \(line 7: not JSON: col 7'
tm send-keys -t "$SESS" q
wait_for '^MON-EXIT=0$'
exit $fail
