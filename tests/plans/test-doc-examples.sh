#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Every ```yaml example of docs/plans.md is a whole plan and must load
# (baton-plan check); the same plans with one field misspelt must not (so
# the test can fail).
set -u
BIN=$1; DOC=$2; OUT=$3
rm -rf "$OUT"; mkdir -p "$OUT"
/usr/bin/python3 - "$DOC" "$OUT" <<'PY'
import re, sys
s = open(sys.argv[1]).read()
blocks = re.findall(r'```yaml\n(.*?)```', s, re.S)
assert len(blocks) >= 10, "docs/plans.md lost its examples"
for i, b in enumerate(blocks):
    assert b.startswith('name: '), "example %d is not a whole plan: %r" % (i + 1, b[:40])
    open('%s/doc%02d.yaml' % (sys.argv[2], i + 1), 'w').write(b)
PY
# the profile the by-path example names
printf 'templates:\n  - synth: tcp\ncps: 100\n' > "$OUT/web-profile.yaml"
# the lab captures the live: example names (they must be readable to load)
mkdir -p "$OUT/lab/tap"
: > "$OUT/lab/sgm-1.pcap"
: > "$OUT/lab/sgm-2.pcap"
fail=0
for f in "$OUT"/doc*.yaml; do
    "$BIN" check "$f" >/dev/null || { echo "FAIL $f (from docs/plans.md) does not load"; fail=1; }
done
n=0
for f in $(grep -l '^  cps:' "$OUT"/doc*.yaml); do
    sed 's/^  cps:/  cpss:/' "$f" > "$OUT/bad.yaml"
    "$BIN" check "$OUT/bad.yaml" 2>/dev/null; [ $? -eq 2 ] || { echo "FAIL misspelt field accepted in $f"; fail=1; }
    n=$((n + 1))
done
[ $n -ge 2 ] || { echo "FAIL no example with a cps field to misspell"; fail=1; }
[ $fail -eq 0 ] && echo "ok: $(ls "$OUT"/doc*.yaml | wc -l) examples load"
exit $fail
