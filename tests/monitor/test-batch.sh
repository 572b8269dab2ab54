#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Batch mode against a golden file. stats.in holds valid lines, a line that
# is not JSON, one of another schema, and figures missing on purpose (shown
# as "-", never 0). Regenerate after an intended change with:
#   build/monitor/baton-monitor --replay tests/monitor/stats.in --batch > tests/monitor/batch.ok
set -uo pipefail
MON=$1
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d /tmp/bt-mon-XXXXXX)
trap 'rm -rf "$T"' EXIT
fail=0
"$MON" --replay "$HERE/stats.in" --batch > "$T/out" 2> "$T/err" || { echo "FAIL: exit $?"; fail=1; }
diff -u "$HERE/batch.ok" "$T/out" || fail=1
grep -q "2 malformed lines skipped" "$T/err" || { echo "FAIL: malformed lines not reported: $(cat "$T/err")"; fail=1; }
"$MON" --replay "$HERE/stats.in" --batch --count 1 > "$T/one" || fail=1
[ "$(grep -c '^baton-monitor' "$T/one")" -eq 1 ] || { echo "FAIL: --count 1"; fail=1; }
for args in "--replay $T/none.jsonl --batch" "--batch" "--replay $HERE/stats.in" "--replay $HERE/stats.in --batch --count x" "--connect /tmp/x.sock"; do
    # shellcheck disable=SC2086
    "$MON" $args > /dev/null 2>&1
    rc=$?
    [ $rc -eq 2 ] || { echo "FAIL: '$args' exit $rc, want 2"; fail=1; }
done
exit $fail
