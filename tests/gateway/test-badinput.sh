#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# baton-gateway: bad usage and bad input exit 2 with a message naming the
# option and value, or the file and the position (line:col, packet).
set -uo pipefail
GW=$1
fail=0
# every case's --out lies in this scratch directory, which no refused case may
# write into (checked at the end)
X=$(mktemp -d /tmp/bt-gwbad-x.XXXXXX)
T=/tmp/bt-gwbad-$$.d
trap 'kill $SRV 2>/dev/null; rm -rf "$X" "$T" /tmp/bt-gwbad-$$ /tmp/bt-gwbad-$$.yaml' EXIT
SRV=
expect2() {
    local want=$1
    shift
    "$GW" "$@" > /dev/null 2> /tmp/bt-gwbad-$$
    local rc=$?
    if [ $rc -ne 2 ] || ! grep -qF -- "$want" /tmp/bt-gwbad-$$; then
        echo "FAIL: $* -> exit $rc: $(cat /tmp/bt-gwbad-$$) (wanted '$want')"
        fail=1
    fi
}
expect2 "usage"
expect2 "unknown command" explode
expect2 "--out DIR is required" sim
expect2 "--members '0'" sim --out "$X/x" --members 0
expect2 "--members '65'" sim --out "$X/x" --members 65
expect2 "--weights" sim --out "$X/x" --members 3 --weights 1,2
expect2 "--weights" sim --out "$X/x" --members 2 --weights 1,600
expect2 "--weights" sim --out "$X/x" --members 1 --weights 1,2
expect2 "--mode 'sideways'" sim --out "$X/x" --mode sideways
expect2 "--fail" sim --out "$X/x" --fail 2
expect2 "--fail" sim --out "$X/x" --fail 2@soon
expect2 "no such member" sim --out "$X/x" --members 2 --fail 3@1s
expect2 "--restore '2'" sim --out "$X/x" --restore 2
expect2 "--fault 'gremlins'" sim --out "$X/x" --fault gremlins
expect2 "--cps" sim --out "$X/x" --cps -5
# the option fuzzing review: taken before (strtoul/strtoull signs, spaces and
# a trailing comma; a rate whose flow times do not fit in ns, or inf)
expect2 "--weights '1,2,': more weights" sim --out "$X/x" --members 2 --weights 1,2,
expect2 "--weights '+1,2'" sim --out "$X/x" --members 2 --weights +1,2
expect2 "--weights '1,-0'" sim --out "$X/x" --members 2 --weights 1,-0
expect2 "--members '+2'" sim --out "$X/x" --members +2
expect2 "--members ' 2'" sim --out "$X/x" --members " 2"
expect2 "--seed ' 5'" sim --out "$X/x" --seed " 5"
expect2 "--fail '+1@1s'" sim --out "$X/x" --fail +1@1s
expect2 "--cps '1e-300': must be a rate 0.001..1e9" sim --out "$X/x" --cps 1e-300
expect2 "--cps '1e308k'" sim --out "$X/x" --cps 1e308k
expect2 "--dead '2h': must be a duration of at most 1h" sim --out "$X/x" --dead 2h
expect2 "--detect-delay '1.8e10s'" sim --out "$X/x" --detect-delay 1.8e10s
expect2 "--fail '2@1e9s': expected ID@TIME with ID 1..64 and TIME at most 1h" sim --out "$X/x" --fail 2@1e9s
expect2 "--join '3@2h'" sim --out "$X/x" --join 3@2h
expect2 "--weight '1=5@1e9s'" sim --out "$X/x" --weight 1=5@1e9s
expect2 "--interval '1e9s'" sim --out "$X/x" --interval 1e9s --exchanges 2
expect2 "open over 1000000 s: at most 1h" sim --out "$X/x" --flows 1001 --cps 0.001
expect2 "cannot create" sim --out /proc/nope/x --flows 10
# the parser in gateway_core (gw_opts.c): a '=' in --join was cut and what
# followed it dropped (exit 0: a join at 1 s with weight 100); getopt's own
# words named the program "sim"
expect2 "--join '5=7@1s': bad member" sim --out "$X/x" --join 5=7@1s
expect2 "--join '5@1s=7': bad member" sim --out "$X/x" --join 5@1s=7
expect2 "baton-gateway: unknown or ambiguous option '--bogus'" sim --out "$X/x" --bogus
expect2 "baton-gateway: option '--flows' needs a value" sim --out "$X/x" --flows
expect2 "baton-gateway: option '--json=1' takes no value" sim --out "$X/x" --json=1
expect2 "--pcap-in: a directory path of 4090 bytes is too long" sim --out "$X/x" --pcap-in "$(printf 'a%.0s' $(seq 4090))"
printf 'cluster:\n  members: 2\n  colour: blue\n' > /tmp/bt-gwbad-$$.yaml
expect2 "bt-gwbad-$$.yaml:3:3: unknown field 'colour'" sim --out "$X/x" --config /tmp/bt-gwbad-$$.yaml
expect2 "nonexistent.yaml" sim --out "$X/x" --config /nonexistent.yaml
printf 'cluster:\n  members: 2\n' > /tmp/bt-gwbad-$$.yaml
expect2 "--config given twice" sim --out "$X/x" --config /tmp/bt-gwbad-$$.yaml --config /tmp/bt-gwbad-$$.yaml
expect2 "--max-gap goes with a replay" sim --out "$X/x" --flows 10 --max-gap 5s
# the run went on to it (1e5 s: 7 s of CPU, 115 MB of stats.jsonl)
expect2 "--duration 100000 s: at most 1h without --serve" sim --out "$X/x" --flows 10 --duration 1e5s
# cluster flags override the file wherever they stand (before it too)
mkdir -p "$T"
for order in before after; do
    if [ $order = before ]; then args=(--members 3 --mode user --config /tmp/bt-gwbad-$$.yaml)
    else args=(--config /tmp/bt-gwbad-$$.yaml --members 3 --mode user); fi
    "$GW" sim --out "$T/ord-$order" --flows 20 "${args[@]}" > /dev/null 2>&1
    /usr/bin/python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); sys.exit(not (len(m["members"]) == 3 and m["mode"] == "user"))' \
        "$T/ord-$order/capset.json" || { echo "FAIL: flags $order --config not kept"; fail=1; }
done
rm -rf "$T"
# cluster files: every problem with its file:line:col
bad_config() {
    local want=$1
    printf '%b' "$2" > /tmp/bt-gwbad-$$.yaml
    expect2 "bt-gwbad-$$.yaml:$want" sim --out "$X/x" --config /tmp/bt-gwbad-$$.yaml
    expect2 "bt-gwbad-$$.yaml:$want" check-config /tmp/bt-gwbad-$$.yaml
}
bad_config "3:31: policy.rules[].payload: PCRE2" 'policy:\n  rules:\n    - {action: drop, payload: "a[b"}\n'
bad_config "3:27: policy.rules[].src: '10.0.0.300/8'" 'policy:\n  rules:\n    - {action: drop, src: 10.0.0.300/8}\n'
bad_config "3:29: policy.rules[].dport: '90-80'" 'policy:\n  rules:\n    - {action: drop, dport: 90-80}\n'
bad_config "3:7: policy.rules[0]: a rule needs an action" 'policy:\n  rules:\n    - {dport: 80}\n'
# a rule's name past 31 bytes was cut to fit, silently (exit 0)
bad_config "3:14: policy.rules[].name: 'a-name-of-thirty-two-bytes-12345' is 32 bytes: at most 31" 'policy:\n  rules:\n    - {name: a-name-of-thirty-two-bytes-12345, action: drop}\n'
bad_config "2:12: policy.default: 'maybe'" 'policy:\n  default: maybe\n'
bad_config "2:8: cluster.cost.pkt: give a unit" 'cost:\n  pkt: 500\n'
bad_config "2:9: cluster.nat.pool: '2001:db8::/64' is not an IPv4 prefix" 'nat:\n  pool: 2001:db8::/64\n'
bad_config "1:13: cluster.dead_timer: at least two heartbeats" 'dead_timer: 5ms\n'
bad_config "1:10: cluster.faults: 'gremlins'" 'faults: [gremlins]\n'
bad_config "1:1: empty cluster file" ''
bad_config "3:1: unknown field 'colour' beside 'cluster:'" 'cluster:\n  members: 2\ncolour: blue\n'
expect2 "usage: baton-gateway check-config" check-config
# --help is help, not a file name (it said "--help: No such file or directory")
"$GW" check-config --help > /tmp/bt-gwbad-$$ 2>&1 && grep -q "^usage: baton-gateway check-config" /tmp/bt-gwbad-$$ ||
    { echo "FAIL: check-config --help: $(cat /tmp/bt-gwbad-$$)"; fail=1; }
# captures: not a capture, a damaged record, a link type the sim does not replay
mkdir -p "$T"
echo "not a pcap" > "$T/junk.pcap"
/usr/bin/python3 - "$T" <<'PY'
import struct, sys
d = sys.argv[1]
hdr = struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)
eth = b'\x00' * 12 + b'\x08\x00' + b'\x45' + b'\x00' * 19
open(d + '/good.pcap', 'wb').write(hdr + struct.pack('<IIII', 0, 0, len(eth), len(eth)) + eth)
# the second record claims 1000 bytes and has 4
open(d + '/damaged.pcap', 'wb').write(hdr + struct.pack('<IIII', 0, 0, len(eth), len(eth)) + eth +
                                      struct.pack('<IIII', 1, 0, 1000, 1000) + b'abcd')
raw = struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 101)
open(d + '/raw.pcap', 'wb').write(raw)
PY
expect2 "junk.pcap" sim --out "$T/o" --client-pcap "$T/junk.pcap" --server-pcap "$T/good.pcap"
expect2 "damaged.pcap: packet" sim --out "$T/o" --client-pcap "$T/good.pcap" --server-pcap "$T/damaged.pcap"
expect2 "raw.pcap: link type" sim --out "$T/o" --client-pcap "$T/raw.pcap" --server-pcap "$T/good.pcap"
expect2 "needs both --client-pcap and --server-pcap" sim --out "$T/o" --client-pcap "$T/good.pcap"
expect2 "client.pcap" sim --out "$T/o" --pcap-in /nonexistent
expect2 "a replay takes its traffic from the captures" sim --out "$T/o" --pcap-in "$T" --flows 10
expect2 "--events goes with a replay" sim --out "$T/o" --events "$T/ev.jsonl"
# event files: YAML with line:col, JSON lines with the line
cp "$T/good.pcap" "$T/client.pcap"; cp "$T/good.pcap" "$T/server.pcap"
printf -- '- at: 1s\n  fail: 2\n- at: 2s\n  explode: 3\n' > "$T/ev.yaml"
expect2 "ev.yaml:4:3: unknown field 'explode'" sim --out "$T/o" --pcap-in "$T" --events "$T/ev.yaml"
printf -- '- at: 1s\n  set_weight: 2\n' > "$T/ev.yaml"
expect2 "ev.yaml:1:3: events: set_weight needs 'weight: W'" sim --out "$T/o" --pcap-in "$T" --events "$T/ev.yaml"
printf -- '- at: 1s\n  policy: {rules: [{action: drop, payload: "(x"}]}\n' > "$T/ev.yaml"
expect2 "ev.yaml:2:44: policy.rules[].payload: PCRE2" sim --out "$T/o" --pcap-in "$T" --events "$T/ev.yaml"
printf '{"t": 1, "event": "sgm_down", "sgm": 2}\n{"t": 2, "event": "sgm_down", "sgm": 99}\n' > "$T/ev.jsonl"
expect2 "ev.jsonl:2: \"sgm\" must be 1..64" sim --out "$T/o" --pcap-in "$T" --events "$T/ev.jsonl"
printf '{"t": 1, "event": "sgm_down", "sgm": 2\n' > "$T/ev.jsonl"
expect2 "ev.jsonl:1:" sim --out "$T/o" --pcap-in "$T" --events "$T/ev.jsonl"
printf '{"t": 1, "event": "policy", "policy": {"rules": [{"action": "drop", "dport": "x"}]}}\n' > "$T/ev.jsonl"
expect2 "ev.jsonl:1: policy.rules[0].dport" sim --out "$T/o" --pcap-in "$T" --events "$T/ev.jsonl"
expect2 "--speed" sim --out "$T/o" --pcap-in "$T" --serve "$T/s" --speed 0
expect2 "--speed '1e-300': must be 0.001..1e6" sim --out "$T/o" --pcap-in "$T" --serve "$T/s" --speed 1e-300
expect2 "--max-gap 'forever'" sim --out "$T/o" --pcap-in "$T" --max-gap forever
expect2 "restore: sgm 2 is already up" sim --out "$T/o" --members 3 --flows 50 --restore 2@100ms
expect2 "fail: sgm 2 is already down" sim --out "$T/o" --members 3 --flows 50 --fail 2@100ms --fail 2@200ms
expect2 "--sync-loss" sim --out "$T/o" --sync-loss 150
expect2 "--dead: at least two heartbeats" sim --out "$X/x" --dead 1ns
expect2 "--dead: at least two heartbeats" sim --out "$X/x" --dead 15ms
expect2 "--speed paces a served run" sim --out "$X/x" --speed 2
expect2 "--stats-interval '1ns'" sim --out "$X/x" --stats-interval 1ns
expect2 "--join '3@1s:9999'" sim --out "$X/x" --join 3@1s:9999
expect2 "--weight '2=900@1s'" sim --out "$X/x" --weight 2=900@1s
# an event the cluster refuses when it comes: its file:line:col
printf -- '- {at: 0s, fail: 9}\n' > "$T/ev9.yaml"
expect2 "ev9.yaml:1:3: at " sim --out "$T/o" --pcap-in "$T" --events "$T/ev9.yaml"
# an events file that cannot be read is an error, not "no events"
expect2 "$T: cannot read after line 0" sim --out "$T/o" --pcap-in "$T" --events "$T"
# events.jsonl as docs/formats.md reads it: duplicate keys and non-objects refused
printf '{"t": 1, "event": "sgm_down", "sgm": 2, "sgm": 3}\n' > "$T/ev.jsonl"
expect2 "ev.jsonl:1:" sim --out "$T/o" --members 3 --pcap-in "$T" --events "$T/ev.jsonl"
printf '[1]\n' > "$T/ev.jsonl"
expect2 "ev.jsonl:1: expected a JSON object" sim --out "$T/o" --members 3 --pcap-in "$T" --events "$T/ev.jsonl"
# ... and t exact to the nanosecond (it was rounded to microseconds)
printf '{"t": 0.000000400, "event": "sgm_down", "sgm": 2}\n' > "$T/ev.jsonl"
if ! "$GW" sim --out "$T/o" --members 3 --pcap-in "$T" --events "$T/ev.jsonl" > /dev/null 2>&1 ||
    ! grep -qF '{"t":0.000000400,"event":"sgm_down","sgm":2}' "$T/o/events.jsonl"; then
    echo "FAIL: an event at t=0.000000400 did not come back exact: $(cat "$T/o/events.jsonl" 2>&1)"
    fail=1
fi
# --serve: a socket a running gateway serves is not taken over; a stale one is
"$GW" sim --out "$T/srv" --serve "$T/gw.sock" --speed 1 --duration 20s --members 2 > /dev/null 2>&1 &
SRV=$!
for _ in $(seq 50); do [ -S "$T/gw.sock" ] && break; sleep 0.1; done
expect2 "another server is listening" sim --out "$T/o2" --serve "$T/gw.sock" --duration 1s --members 2
[ -S "$T/gw.sock" ] || { echo "FAIL: the refused second server removed the first one's socket"; fail=1; }
kill $SRV 2>/dev/null; wait $SRV 2>/dev/null; SRV=
/usr/bin/python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$T/stale.sock"
if ! "$GW" sim --out "$T/o3" --serve "$T/stale.sock" --speed 1000 --duration 1s --members 2 > /dev/null 2>&1; then
    echo "FAIL: a stale socket (nobody listening) was not replaced"
    fail=1
fi
# and a good replay of the small capture works (exit 0)
if ! "$GW" sim --out "$T/o" --pcap-in "$T" > /dev/null 2>&1; then echo "FAIL: a good replay exits non-zero"; fail=1; fi
if [ -n "$(ls -A "$X")" ]; then
    echo "FAIL: refused runs wrote into their --out: $(ls -A "$X")"
    fail=1
fi
exit $fail
