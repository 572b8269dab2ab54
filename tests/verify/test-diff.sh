#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# baton-verify diff against an independent oracle (mkdiff.py, scapy), against
# the reference cluster before/after a failover, and on bad input.
set -uo pipefail
VF=$1
GW=$2
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d /tmp/bt-diff-XXXXXX)
trap 'rm -rf "$T"' EXIT
fail=0
check() {  # name want_rc python-assertion args...
    local name=$1 want=$2 assertion=$3
    shift 3
    "$VF" diff --json "$@" > "$T/out.json" 2> "$T/err"
    local rc=$?
    if [ "$rc" -ne "$want" ]; then
        echo "FAIL $name: exit $rc, want $want: $(cat "$T/err")"
        fail=1
        return
    fi
    if [ -n "$assertion" ] && ! /usr/bin/python3 -c "
import json, sys
r = json.load(open(sys.argv[1]))
if not eval(sys.argv[2]):
    sys.exit('assertion failed: ' + sys.argv[2] + ' in ' + json.dumps({k: v for k, v in r.items() if not k.endswith('_flows')}))
" "$T/out.json" "$assertion"; then
        echo "FAIL $name"
        fail=1
        return
    fi
    echo "ok   $name"
}
/usr/bin/python3 "$HERE/mkdiff.py" "$T" || exit 1
check identical 0 "r['identical'] == 10 and r['same']" "$T/a.pcap" "$T/a.pcap"
check oracle 1 "r['only_in_a'] == 1 and r['only_in_b'] == 1 and r['changed'] == 2 and r['moved'] == 0 and r['identical'] == 7 and r['only_in_a_flows'][0]['tuple'].startswith('tcp 10.9.0.3:')" "$T/a.pcap" "$T/b.pcap"
check tolerance 1 "r['changed'] == 1" --tolerance-packets 5 --tolerance-bytes 200 "$T/a.pcap" "$T/b.pcap"
check retrans-counted 1 "any(c['b']['retransmissions'] == 2 for c in r['changed_flows'])" "$T/a.pcap" "$T/b.pcap"
# deltas are B minus A, per direction: flow 5 sent its 64-byte segment twice more
check deltas 1 "[(c['delta']['packets_fwd'], c['delta']['bytes_fwd'], c['delta']['packets_rev'], c['delta']['retransmissions']) for c in r['changed_flows'] if c['a']['tuple'].startswith('tcp 10.9.0.5:')] == [(2, 128, 0, 2)] and [c['delta']['rsts'] for c in r['changed_flows'] if c['a']['tuple'].startswith('tcp 10.9.0.7:')] == [1]" "$T/a.pcap" "$T/b.pcap"
# timing: compared only with --tolerance-time; flow 9 paused 500 ms in B
check time-not-compared 1 "r['changed'] == 2" "$T/a.pcap" "$T/b.pcap"
check time-tolerance-exceeded 1 "r['changed'] == 3 and any(c['a']['tuple'].startswith('tcp 10.9.0.9:') and 499 < c['delta']['max_gap_ms'] < 501 for c in r['changed_flows'])" --tolerance-time 100ms "$T/a.pcap" "$T/b.pcap"
check time-tolerance-met 1 "r['changed'] == 2" --tolerance-time 600ms "$T/a.pcap" "$T/b.pcap"
check time-identical 0 "r['same']" --tolerance-time 0 "$T/a.pcap" "$T/a.pcap"
"$VF" diff "$T/a.pcap" "$T/b.pcap" > "$T/text" 2>&1
grep -q "^  delta fwd +2 pkts +128 B" "$T/text" && grep -q "^- tcp 10.9.0.3:" "$T/text" && grep -q "^+ tcp 10.9.0.11:" "$T/text" &&
    echo "ok   text" || { echo "FAIL text output: $(cat "$T/text")"; fail=1; }
"$GW" sim --out "$T/before" --flows 400 --seed 3 > /dev/null
"$GW" sim --out "$T/after" --flows 400 --seed 3 --fail 2@0.5s > /dev/null
check capset-same 0 "r['flows_a'] == 400" "$T/before" "$T/before"
check capset-failover 1 "r['moved'] > 0 and r['only_in_a'] == 0 and r['only_in_b'] == 0" "$T/before" "$T/after"
check capset-ignore-members 1 "r['moved'] == 0 and r['changed'] > 0" --ignore-members "$T/before" "$T/after"
# every key of the diff report is documented in docs/formats.md (section verify)
"$VF" diff --json "$T/a.pcap" "$T/b.pcap" > "$T/d.json" 2> /dev/null
"$VF" diff --json "$T/before" "$T/after" > "$T/d2.json" 2> /dev/null
/usr/bin/python3 - "$HERE/../../docs/formats.md" "$T/d.json" "$T/d2.json" <<'PY' && echo "ok   keys-documented" || { echo "FAIL keys-documented"; fail=1; }
import json, re, sys
doc = open(sys.argv[1]).read()
sec = doc[doc.index("<!-- section: verify"):doc.index("<!-- end: verify -->")]
documented = set(re.findall(r"`([a-z0-9_]+)`", sec)) | set(re.findall(r'"([a-z0-9_]+)":', sec))
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
# frames it cannot read are counted, and a link type it cannot read at all
# is bad input (two such captures are not "the same")
/usr/bin/python3 - "$T" <<'PY'
import struct, sys
def pcap(path, link, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, link))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1, i, len(fr), len(fr)) + fr)
arp = b"\xff" * 6 + b"\x02" * 6 + b"\x08\x06" + bytes(28)
pcap(sys.argv[1] + "/arp.pcap", 1, [arp, arp])
pcap(sys.argv[1] + "/wpan.pcap", 195, [bytes(20)])
PY
check non-ip-counted 0 "r['same'] and r['flows_a'] == 0 and r['packets_a'] == 2 and r['non_ip_a'] == 2 and r['non_ip_b'] == 2" "$T/arp.pcap" "$T/arp.pcap"
check ip-counted 0 "r['packets_a'] == r['packets_b'] > 0 and r['non_ip_a'] == 0" "$T/a.pcap" "$T/a.pcap"
"$VF" diff "$T/wpan.pcap" "$T/wpan.pcap" > /dev/null 2> "$T/err"
rc=$?
[ $rc -eq 2 ] && grep -q "wpan.pcap: unsupported link type 195" "$T/err" && echo "ok   unsupported link" \
    || { echo "FAIL unsupported link: exit $rc $(cat "$T/err")"; fail=1; }
# bad input
for args in "$T/a.pcap" "$T/a.pcap $T/missing.pcap" "--tolerance-packets x $T/a.pcap $T/a.pcap" "--tolerance-time soon $T/a.pcap $T/a.pcap" "$T/a.pcap $T"; do
    # shellcheck disable=SC2086
    "$VF" diff $args > /dev/null 2> "$T/err"
    rc=$?
    if [ $rc -ne 2 ]; then echo "FAIL bad input '$args': exit $rc"; fail=1; else echo "ok   bad input: $(head -c 80 "$T/err")"; fi
done
exit $fail
