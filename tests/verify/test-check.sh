#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Black-box: baton-verify check on capture sets crafted by an independent
# oracle (mkcapset.py, scapy) with planted faults; compares its --json with
# the oracle's expected figures, and the exit code with the verdict. Every
# check has a passing and a failing scenario.
set -uo pipefail
VERIFY=$1
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d /tmp/bt-verify-XXXXXX)
trap 'rm -rf "$T"' EXIT
fail=0
SCENARIOS="clean affinity asym failover failover_ok slowfail rebalance corrected mixed balance
imbalance weight0 weight_down loss loss_ok nat nat_ok reuse reuse_idle flaps pingpong rejoin backwards
stalled stalled_ok stalled_given stalled_reused stalled_ok_reused restored restored_uncorrected"
# shellcheck disable=SC2086
/usr/bin/python3 "$HERE/mkcapset.py" --all "$T" $SCENARIOS || { echo "FAIL: oracle"; exit 1; }
# a negative control: the nat set without nat.jsonl is judged as two
# one-way halves per flow, and its planted asymmetry goes unseen (the half
# that moves member is still an affinity violation)
cp -r "$T/nat" "$T/nat_unjoined"
/usr/bin/python3 - "$T/nat_unjoined" <<'PY'
import json, sys
d = sys.argv[1]
c = json.load(open(d + "/capset.json"))
c["files"]["nat"] = False
json.dump(c, open(d + "/capset.json", "w"))
e = json.load(open(d + "/expected.json"))
json.dump({"flows": 84, "symmetry.violations": 0, "affinity.violations": 1, "pass": False,
           "args": e["args"]}, open(d + "/expected.json", "w"))
PY
for sc in $SCENARIOS nat_unjoined; do
    mapfile -t args < <(/usr/bin/python3 -c 'import json,sys; [print(a) for a in json.load(open(sys.argv[1])).get("args", [])]' "$T/$sc/expected.json")
    "$VERIFY" check --capset "$T/$sc" "${args[@]}" --json > "$T/$sc.json" 2> "$T/$sc.err"
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
        v = v[int(k)] if isinstance(v, list) else v[k]
    return v
for k, want in exp.items():
    if k == "args":
        continue
    try:
        if k.endswith("_min"):
            v = get(k[:-4])
            if v < want:
                bad.append(f"{k[:-4]}: want >= {want}, got {v}")
        elif k.endswith("_near"):
            v = get(k[:-5])
            if abs(v - want) > 0.02 * abs(want) + 1e-9:
                bad.append(f"{k[:-5]}: want {want} +- 2%, got {v}")
        elif k.endswith("_len"):
            v = len(get(k[:-4]))
            if v != want:
                bad.append(f"{k[:-4]}: want {want} entries, got {v}")
        else:
            v = get(k)
            if v != want:
                bad.append(f"{k}: want {want}, got {v}")
    except KeyError as e:
        bad.append(f"{k}: missing {e}")
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
# every key the report has is documented in docs/formats.md (section verify)
if /usr/bin/python3 - "$HERE/../../docs/formats.md" "$T/loss.json" "$T/failover.json" <<'PY'
import json, re, sys
doc = open(sys.argv[1]).read()
sec = doc[doc.index("<!-- section: verify"):doc.index("<!-- end: verify -->")]
documented = set(re.findall(r"`([a-z0-9_]+)`", sec)) | set(re.findall(r"\.([a-z0-9_]+)`", sec))
documented |= set(re.findall(r'"([a-z0-9_]+)":', sec))
missing = set()
def walk(o):
    if isinstance(o, dict):
        for k, v in o.items():
            if k not in documented:
                missing.add(k)
            walk(v)
    elif isinstance(o, list):
        for v in o:
            walk(v)
for f in sys.argv[2:]:
    walk(json.load(open(f)))
if missing:
    sys.exit("undocumented keys: " + ", ".join(sorted(missing)))
PY
then echo "ok   keys-documented"; else echo "FAIL keys-documented"; fail=1; fi
# JUnit: one testcase per check, a failure carrying the check's message, a
# check not judged skipped; an unwritable --junit path is bad input (2)
"$VERIFY" check --capset "$T/asym" --junit "$T/asym.xml" > /dev/null 2>&1
rc=$?
if [ $rc -eq 1 ] && /usr/bin/python3 - "$T/asym.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suite = root if root.tag == "testsuite" else root.find("testsuite")
assert suite.get("name") == "baton-verify", suite.attrib
cases = {c.get("name"): c for c in suite.iter("testcase")}
assert sorted(cases) == ["affinity", "balance", "failover", "loss", "symmetry"], sorted(cases)
f = cases["symmetry"].find("failure")
assert f is not None and "saw 5" in f.get("message"), ET.tostring(cases["symmetry"])
assert cases["affinity"].find("failure") is None and cases["affinity"].find("skipped") is None
assert cases["balance"].find("skipped") is not None and cases["loss"].find("skipped") is not None
PY
then echo "ok   junit"; else echo "FAIL junit (exit $rc)"; fail=1; fi
"$VERIFY" check --capset "$T/clean" --junit "$T/no/such/dir/x.xml" > /dev/null 2> "$T/err"
rc=$?
[ $rc -eq 2 ] && grep -q "x.xml" "$T/err" && echo "ok   junit-unwritable" || { echo "FAIL junit unwritable: exit $rc $(cat "$T/err")"; fail=1; }
exit $fail
