#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Black-box: baton-verify check on capture sets crafted by an independent
# oracle (mkcapset.py, scapy) with planted faults; compares its --json with
# the oracle's expected figures, and the exit code with the verdict.
set -uo pipefail
VERIFY=$1
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d /tmp/bt-verify-XXXXXX)
trap 'rm -rf "$T"' EXIT
fail=0
for sc in clean affinity asym failover slowfail rebalance corrected mixed balance imbalance; do
    /usr/bin/python3 "$HERE/mkcapset.py" "$sc" "$T/$sc" || { echo "FAIL $sc: oracle"; fail=1; continue; }
    "$VERIFY" check --capset "$T/$sc" --json > "$T/$sc.json" 2> "$T/$sc.err"
    rc=$?
    if ! /usr/bin/python3 - "$T/$sc/expected.json" "$T/$sc.json" "$rc" "$sc" <<'PY'
import json, sys
exp = json.load(open(sys.argv[1]))
try:
    got = json.load(open(sys.argv[2]))
except Exception as e:
    sys.exit(f"{sys.argv[4]}: stdout is not one JSON object: {e}")
rc = int(sys.argv[3])
bad = []
def get(path):
    v = got
    for k in path.split("."):
        v = v[k]
    return v
for k, want in exp.items():
    if k.endswith("_min"):
        v = get(k[:-4])
        if v < want:
            bad.append(f"{k[:-4]}: want >= {want}, got {v}")
        continue
    v = get(k)
    if v != want:
        bad.append(f"{k}: want {want}, got {v}")
if rc != (0 if exp["pass"] else 1):
    bad.append(f"exit code {rc}, want {0 if exp['pass'] else 1}")
if bad:
    sys.exit(f"{sys.argv[4]}: " + "; ".join(bad))
PY
    then
        fail=1
        cat "$T/$sc.err"
    else
        echo "ok   $sc"
    fi
done
exit $fail
