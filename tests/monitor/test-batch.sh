#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Batch mode against golden files. stats.in holds valid lines, a line that is
# not JSON, one of another schema, a line cut in half, a figure of the wrong
# type, a blank line, figures missing on purpose (shown as "-", never 0),
# unknown keys, a member down, a member joining, and events of each kind.
# Regenerate after an intended change (then read the diff!) with:
#   B=build/monitor/baton-monitor; T=tests/monitor
#   $B --replay $T/stats.in --batch > $T/batch.ok
#   $B --replay $T/stats.in --batch --sort pps > $T/batch-sort-pps.ok
#   $B --replay $T/stats.in --batch --interval 2 --count 2 > $T/batch-interval.ok
set -uo pipefail
MON=$1
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d /tmp/bt-mon-batch-XXXXXX)
trap 'rm -rf "$T"' EXIT
fail=0
golden() {   # golden NAME ARGS...
    local name=$1; shift
    "$MON" --replay "$HERE/stats.in" --batch "$@" > "$T/$name" 2> "$T/$name.err"
    local rc=$?
    [ $rc -eq 0 ] || { echo "FAIL: $name: exit $rc: $(cat "$T/$name.err")"; fail=1; }
    diff -u "$HERE/$name" "$T/$name" || { echo "FAIL: $name differs from the golden file"; fail=1; }
}
golden batch.ok
golden batch-sort-pps.ok --sort pps
golden batch-interval.ok --interval 2 --count 2
grep -q "^baton-monitor: .*stats.in: 4 malformed lines skipped (last: line 8: cluster.pps: not a number)$" "$T/batch.ok.err" \
    || { echo "FAIL: malformed lines not reported: $(cat "$T/batch.ok.err")"; fail=1; }
# absent is never zero: member 3's weight is missing in the second frame
grep -q '^    3 up          -     -  20.0' "$T/batch.ok" || { echo "FAIL: missing weight not shown as -"; fail=1; }
"$MON" --replay "$HERE/stats.in" --batch --count 1 > "$T/one" || fail=1
[ "$(grep -c '^baton-monitor' "$T/one")" -eq 1 ] || { echo "FAIL: --count 1"; fail=1; }
# paced replay: 5 s of stream time at x20 take about 0.25 s, not 0 and not 5
start=$(date +%s%N)
"$MON" --replay "$HERE/stats.in" --batch --speed 20 > "$T/paced" || fail=1
ms=$(( ($(date +%s%N) - start) / 1000000 ))
cmp -s "$T/paced" "$HERE/batch.ok" || { echo "FAIL: paced replay prints other frames"; fail=1; }
[ $ms -ge 200 ] && [ $ms -lt 3000 ] || { echo "FAIL: --speed 20 over 5 s of stream took $ms ms"; fail=1; }
# bad usage and unreadable files: exit 2 with a message (a directory, a
# file with no stats line in it: binary garbage)
mkdir -p "$T/adir"
head -c 4096 /dev/urandom > "$T/garbage"
: > "$T/empty"
printf '\n  \n\t\n' > "$T/blank"
for args in "--replay $T/none.jsonl --batch" "--replay $T/adir --batch" "--replay $T/garbage --batch" \
            "--replay $T/empty --batch" "--replay $T/blank --batch" "--batch" "--replay $HERE/stats.in --batch --count x" \
            "--replay $HERE/stats.in --batch --count 0" "--replay $HERE/stats.in --batch --speed 0" \
            "--replay $HERE/stats.in --batch --interval -1" "--replay $HERE/stats.in --batch --sort x" \
            "--replay $HERE/stats.in --connect /tmp/x.sock" "--replay $HERE/stats.in --record $T/r" \
            "--connect /tmp/x.sock --speed 2" "--replay $HERE/stats.in --count 2" "--replay $HERE/stats.in --batch extra" \
            "--replay $HERE/stats.in --batch --speed 1e-300" "--replay $HERE/stats.in --batch --speed 1e7" \
            "--replay $HERE/stats.in --batch --interval 1e30" "--replay $HERE/stats.in --batch --count +2"; do
    # shellcheck disable=SC2086
    "$MON" $args > "$T/out" 2> "$T/err"
    rc=$?
    [ $rc -eq 2 ] || { echo "FAIL: '$args' exit $rc, want 2"; fail=1; }
    [ -s "$T/err" ] || { echo "FAIL: '$args' gave no message"; fail=1; }
    [ -s "$T/out" ] && { echo "FAIL: '$args' printed on stdout"; fail=1; }
done
grep -q "empty.*the file is empty" <("$MON" --replay "$T/empty" --batch 2>&1) || { echo "FAIL: empty replay message"; fail=1; }
grep -q "blank.*no stats line in 3 lines" <("$MON" --replay "$T/blank" --batch 2>&1) || { echo "FAIL: blank replay message"; fail=1; }
# a line over 1 MiB is a malformed line in a replay as it is live, and the
# replay goes on with the next one
{ printf '{"pad":"'; head -c 1100000 /dev/zero | tr '\0' x; printf '",'; head -n 1 "$HERE/stats.in" | cut -c 2-
  head -n 1 "$HERE/stats.in"; } > "$T/big"
[ "$(head -n 1 "$T/big" | wc -c)" -gt 1048577 ] || { echo "FAIL: the test's long line is short"; fail=1; }
"$MON" --replay "$T/big" --batch > "$T/out" 2> "$T/err"
rc=$?
[ $rc -eq 0 ] && grep -q "1 malformed line skipped (last: line 1: line longer than 1 MiB)" "$T/err" \
    && [ "$(grep -c '^baton-monitor' "$T/out")" -eq 1 ] \
    || { echo "FAIL: long replay line: exit $rc, $(cat "$T/err")"; fail=1; }
# the live screen needs a terminal
"$MON" --replay "$HERE/stats.in" < /dev/null > "$T/out" 2> "$T/err"
rc=$?
[ $rc -eq 2 ] && grep -q "needs a terminal" "$T/err" || { echo "FAIL: no terminal: exit $rc $(cat "$T/err")"; fail=1; }
# blank lines count: a bad line is named by its line in the file (found in
# review: off by the blank lines before it)
printf '\n\n{"schema":1,"t":1}\nnot json\n' > "$T/blank.jsonl"
"$MON" --replay "$T/blank.jsonl" --batch > /dev/null 2> "$T/err"
grep -q "1 malformed line skipped (last: line 4: not JSON" "$T/err" || { echo "FAIL: blank lines: $(cat "$T/err")"; fail=1; }
exit $fail
