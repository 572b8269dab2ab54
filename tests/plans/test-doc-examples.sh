#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Every ```yaml example of docs/plans.md, put together, must load as a plan;
# and a plan with one field misspelt must not (so the test can fail).
set -u
BIN=$1; DOC=$2; OUT=$3
mkdir -p "$OUT"
/usr/bin/python3 - "$DOC" "$OUT/doc.yaml" <<'PY'
import re, sys
s = open(sys.argv[1]).read()
blocks = re.findall(r'```yaml\n(.*?)```', s, re.S)
assert len(blocks) >= 5, "docs/plans.md lost its examples"
open(sys.argv[2], 'w').write('name: doc\nseed: 1\n' + ''.join(blocks))
PY
"$BIN" check "$OUT/doc.yaml" || { echo "FAIL docs/plans.md examples do not load"; exit 1; }
sed 's/^  cps:/  cpss:/' "$OUT/doc.yaml" > "$OUT/bad.yaml"
"$BIN" check "$OUT/bad.yaml" 2>/dev/null; [ $? -eq 2 ] || { echo "FAIL misspelt field accepted"; exit 1; }
exit 0
