#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# baton-tgen's offline backend against independent readers.
#   test-offline.sh BATON-TGEN synth             synthetic templates, v4/v6, VLAN, closed loop
#   test-offline.sh BATON-TGEN template FILE     one committed template (pcaps/templates)
#   test-offline.sh BATON-TGEN output            --seed, --json, --stats, exit codes
#   test-offline.sh BATON-TGEN badinput          bad input exits 2 saying what to change
# tshark (checksums checked: -o ip/tcp/udp.check_checksum:TRUE) must find no
# malformed packet and no bad checksum in any pcap written, and --flows N
# must give exactly N conversations (tcp.stream / udp.stream) on each port.
# Every check is also shown to fail on damaged input.
set -uo pipefail
TG=$1
GROUP=$2
T=$(mktemp -d /tmp/bt-tgen-off-XXXXXX)
trap 'rm -rf "$T"' EXIT
PY=/usr/bin/python3
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }

# judge PCAP: prints "BAD CONVERSATIONS PACKETS" (one tshark pass: malformed
# or bad IP/TCP/UDP checksum, distinct TCP and UDP streams; TCP sequence
# analysis off: it judges nothing here and costs a fifth of the time)
judge() {
    tshark -r "$1" -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE -o udp.check_checksum:TRUE \
        -o tcp.analyze_sequence_numbers:FALSE -T fields -e _ws.malformed -e ip.checksum.status -e tcp.checksum.status \
        -e udp.checksum.status -e tcp.stream -e udp.stream 2>/dev/null |
    awk -F'\t' '{ n++; if ($1 != "" || $2 == "0" || $3 == "0" || $4 == "0") b++;
               if ($5 != "") s["t" $5] = 1; if ($6 != "") s["u" $6] = 1 }
             END { c = 0; for (k in s) c++; printf "%d %d %d\n", b + 0, c, n + 0 }'
}

# replay NAME FLOWS ARGS...: runs tgen into $T/NAME and checks both pcaps
replay() {
    local name=$1 flows=$2
    shift 2
    local d="$T/$name" rc
    "$TG" "$@" --flows "$flows" --quiet --pcap-out "$d" > "$T/out" 2> "$T/err"
    rc=$?
    if [ $rc -ne 0 ]; then
        bad "$name: exit $rc: $(cat "$T/err")"
        return
    fi
    for side in client server; do
        read -r b c n <<< "$(judge "$d/$side.pcap")"
        if [ "$b" -ne 0 ] || [ "$c" -ne "$flows" ] || [ "$n" -eq 0 ]; then
            bad "$name $side.pcap: $b bad of $n packets, $c conversations (want $flows)"
        else
            ok "$name $side.pcap: $n packets, $c conversations, none malformed, checksums good"
        fi
    done
}

case $GROUP in
synth)
    replay tcp4 1000 --synth tcp,req=200,resp=1400x10 --cps 5000
    replay tcp6-vlan 1000 --synth tcp,req=3000,resp=1440x3,v6 --cps 5000 --vlan 42
    replay udp4 1000 --synth udp,req=100,resp=500x2,rounds=2 --cps 5000
    replay udp6-vlan 1000 --synth udp,v6,req=1452,resp=1452 --cps 5000 --vlan 4094
    replay closed 500 --synth tcp,req=200,resp=1400x4 --cps 5000 --mode closed
    replay ratemax 500 --synth tcp --rate max
    replay mixed 400 --synth tcp --synth udp,v6 --cps 2000
    # the judge catches damage: a flipped byte in the first packet's TCP
    # sequence number (pcap header 24 + record 16 + Ethernet 14 + IP 20 + 5)
    cp "$T/tcp4/client.pcap" "$T/corrupt.pcap"
    printf '\xa5' | dd of="$T/corrupt.pcap" bs=1 seek=79 conv=notrunc 2>/dev/null
    read -r b c n <<< "$(judge "$T/corrupt.pcap")"
    [ "$b" -eq 1 ] && ok "a corrupted checksum is caught" || bad "corruption: $b bad"
    # ...a malformed packet (letters on port 53 are no DNS)...
    "$TG" --synth udp,port=53 --flows 3 --quiet --pcap-out "$T/dns53" > /dev/null
    read -r b c n <<< "$(judge "$T/dns53/client.pcap")"
    [ "$b" -eq 3 ] && ok "malformed packets are caught" || bad "malformed: $b bad"
    # ...and a conversation missing (its packets filtered out)
    tshark -r "$T/udp4/client.pcap" -Y 'udp.stream != 5' -w "$T/part.pcap" -F pcap 2>/dev/null
    read -r b c n <<< "$(judge "$T/part.pcap")"
    [ "$c" -eq 999 ] && ok "a conversation missing is caught ($c of 1000)" ||
        bad "count of a filtered pcap: $c"
    ;;
template)
    f=$3
    name=$(basename "$f" .pcap)
    [ -r "$f" ] || { echo "FAIL $f unreadable"; exit 1; }
    # the template itself: real stacks, right checksums, one conversation
    read -r b c n <<< "$(judge "$f")"
    if [ "$b" -ne 0 ] || [ "$c" -ne 1 ]; then
        bad "$name: the template has $b bad packets, $c conversations"
    else
        ok "$name: template of $n packets, one conversation, checksums good"
    fi
    # replayed: 1000 flows, 50 with a VLAN tag, 50 in closed loop (the 2 MB
    # download: 20, 10 and 10 flows, i.e. 43000, 22000 and 22000 packets;
    # test-tg_engine.c plays it with 1000 flows in process)
    flows=1000 vflows=50 cflows=50
    case $name in download*) flows=20 vflows=10 cflows=10 ;; esac
    replay "$name" "$flows" --template "$f" --cps 10000
    replay "$name-vlan" "$vflows" --template "$f" --cps 10000 --vlan 100 --seed 3
    # closed loop through the offline wire: every flow completes
    "$TG" --template "$f" --flows "$cflows" --cps 1000 --mode closed --json --quiet > "$T/j" 2> "$T/err"
    rc=$?
    $PY - "$T/j" "$cflows" <<'EOF' && ok "$name closed loop: $cflows flows completed" || bad "$name closed loop: exit $rc $(cat "$T/err")"
import json, sys
d = json.loads(open(sys.argv[1]).read())
n = int(sys.argv[2])
assert d["flows_completed"] == n and d["flows_failed"] == 0, d
assert d["rx_packets"] == d["tx_packets"] and d["rx_unmatched"] == 0, d
EOF
    ;;
output)
    # --seed: byte for byte, and another seed differs
    args=(--synth tcp,req=200,resp=1400x3 --template "$(dirname "$0")/../../pcaps/templates/http6.pcap"
          --flows 300 --cps 3000 --quiet)
    "$TG" "${args[@]}" --seed 5 --pcap-out "$T/a" && "$TG" "${args[@]}" --seed 5 --pcap-out "$T/b" &&
        "$TG" "${args[@]}" --seed 6 --pcap-out "$T/c" || bad "seed runs"
    cmp -s "$T/a/client.pcap" "$T/b/client.pcap" && cmp -s "$T/a/server.pcap" "$T/b/server.pcap" &&
        ok "--seed 5 twice: the same bytes" || bad "--seed 5 twice differs"
    cmp -s "$T/a/client.pcap" "$T/c/client.pcap" && bad "--seed 6 gives the same bytes" ||
        ok "--seed 6 differs"
    # a signal: "interrupted" says the run was cut short (false otherwise)
    "$TG" --synth tcp,rtt=10ms --flows 100000000 --cps 1000000 --json --quiet --pcap-out "$T/sig" \
        > "$T/sig.json" 2>/dev/null &
    pid=$!
    sleep 1
    kill -TERM $pid; sleep 0.3; kill -TERM $pid 2>/dev/null
    wait $pid
    /usr/bin/python3 -c 'import json,sys; d=json.loads(open(sys.argv[1]).read().splitlines()[-1]); assert d["interrupted"] is True and d["flows_started"] < 100000000' "$T/sig.json" &&
        ok "SIGTERM: interrupted true" || bad "SIGTERM: $(tail -c 300 "$T/sig.json")"
    "$TG" --synth tcp --flows 3 --json --quiet --pcap-out "$T/sig" > "$T/nosig.json" 2>/dev/null
    grep -q '"interrupted":false' "$T/nosig.json" && ok "a whole run: interrupted false" || bad "no interrupted:false"
    # --json: exactly one JSON object on stdout, the issue's keys, right values
    "$TG" --synth tcp,req=200,resp=1400x10 --flows 100 --cps 1000 --json --stats "$T/s.jsonl" \
        > "$T/j" 2> "$T/err"
    rc=$?
    [ $rc -eq 0 ] && ok "exit 0 when every flow completed" || bad "exit $rc"
    grep -q "flows started 100, completed 100" "$T/err" && ok "human summary on stderr" ||
        bad "no summary on stderr"
    $PY - "$T/j" "$T/s.jsonl" <<'EOF' && ok "--json object and --stats lines" || bad "--json / --stats"
import json, sys
out = open(sys.argv[1]).read()
assert out.count("\n") == 1 and out.endswith("\n"), "stdout is not one line"
d = json.loads(out)
for k in ["tx_packets", "tx_bytes", "tx_pps", "rx_packets", "flows_started", "flows_completed",
          "flows_failed", "duration_s", "schema", "backend", "seed"]:
    assert k in d, k
assert d["tx_packets"] == 2200 and d["flows_started"] == 100 and d["flows_completed"] == 100, d
assert d["flows_failed"] == 0 and d["rx_packets"] == 0 and d["backend"] == "offline", d
assert abs(d["tx_pps"] - d["tx_packets"] / d["duration_s"]) < 1e-6 * d["tx_pps"], d
lines = [json.loads(l) for l in open(sys.argv[2])]
# flows start for 0.1 s and last 22 ms: one line at the end
assert len(lines) >= 1, lines
for l in lines:
    assert l["schema"] == 1 and "tx_pps" in l and "flows_active" in l, l
assert lines[-1]["tx_packets"] == d["tx_packets"], (lines[-1], d)
EOF
    # --stats over a longer run: a line per virtual second, totals add up
    "$TG" --synth udp --flows 400 --cps 100 --quiet --stats "$T/s2.jsonl" > /dev/null
    $PY - "$T/s2.jsonl" <<'EOF' && ok "--stats: one line a second" || bad "--stats lines"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
# t = 1, 2, 3 and the end (the last flow starts at 3.99 s and lasts 0.5 ms)
assert len(lines) == 4, [l["t"] for l in lines]
ts = [l["t"] for l in lines]
assert ts[:3] == [1.0, 2.0, 3.0] and 3.99 < ts[3] < 3.995, ts
assert all(b > a for a, b in zip(ts, ts[1:])), ts
assert abs(sum(l["cps"] * l["interval_s"] for l in lines) - 400) < 0.5, lines
assert abs(lines[1]["tx_pps"] - 200) < 1e-6, lines[1]
assert lines[-1]["flows_completed"] == 400 and lines[-1]["tx_packets"] == 800
EOF
    # on a terminal, a live status line every 0.5 s of wall time (12M flows
    # take ~1.8 s of CPU on a quiet 2.6 GHz core: 3M took 0.44 s after
    # 0631de6, under the first line's 0.5 s), and none with --quiet or
    # without a terminal
    if command -v script > /dev/null; then
        script -qfec "$TG --synth udp --flows 12M --cps 1M" /dev/null > "$T/tty" 2>&1
        grep -q $'\r\033\[Ktx .*pps .*bps | rx .*pps | active [0-9]* | cps .* | done [0-9]* failed 0' "$T/tty" &&
            grep -q "flows started 12000000, completed 12000000" "$T/tty" &&
            ok "live status line on a terminal" || bad "no live status: $(head -c 300 "$T/tty")"
        script -qfec "$TG --synth udp --flows 3M --cps 1M --quiet" /dev/null > "$T/tty" 2>&1
        [ ! -s "$T/tty" ] && ok "--quiet: nothing on the terminal" || bad "--quiet printed"
        grep -q $'\033\[K' "$T/err" && bad "a status line without a terminal" ||
            ok "no status line without a terminal"
    fi
    # SIGINT once: no new flow, the active ones finish; twice: they are
    # aborted (10M flows would take a minute: the signals come well before)
    for sigs in 1 2; do
        rm -f "$T/int.jsonl"
        "$TG" --synth tcp,rtt=100ms --flows 10M --cps 1M --json --quiet --stats "$T/int.jsonl" \
            > "$T/int.json" 2> "$T/err" &
        p=$!
        for _ in $(seq 100); do [ -e "$T/int.jsonl" ] && break; sleep 0.05; done
        sleep 0.3
        kill -INT $p
        # (a second signal pending with the first would merge into it)
        [ $sigs -eq 2 ] && sleep 0.05 && kill -INT $p
        wait $p
        rc=$?
        $PY - "$T/int.json" $sigs <<'EOF2' && ok "$sigs SIGINT: exit $rc, flows stopped" || bad "$sigs SIGINT: exit $rc $(cat "$T/err")"
import json, sys
d = json.loads(open(sys.argv[1]).read())
assert 0 < d["flows_started"] < 10000000 and d["flows_active"] == 0, d
if sys.argv[2] == "1":
    assert d["flows_completed"] == d["flows_started"] and d["flows_aborted"] == 0, d
else:
    assert d["flows_aborted"] > 0 and d["flows_completed"] + d["flows_aborted"] == d["flows_started"], d
EOF2
    done
    # --help exits 0
    "$TG" --help > /dev/null && ok "--help exits 0" || bad "--help"
    ;;
badinput)
    $PY - "$T" <<'EOF'
import struct, sys
d = sys.argv[1]
def pcap(name, link, frames):
    with open(d + "/" + name, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, link))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", i, 0, len(fr), len(fr)) + fr)
arp = bytes.fromhex("ffffffffffff020000000001" "0806" "0001080006040001") + bytes(28)
pcap("arp.pcap", 1, [arp, arp, arp])
pcap("wifi.pcap", 105, [bytes(60)])
open(d + "/text.pcap", "w").write("not a capture\n")
open(d + "/prof-col.yaml", "w").write("templates:\n  - {synth: tcp}\ncps: 10\nflows: lots\n")
open(d + "/prof-unknown.yaml", "w").write("templates:\n  - {synth: tcp}\nrate_limit: 5\n")
open(d + "/prof-tmpl.yaml", "w").write("templates:\n  - {synth: tcp, wieght: 2}\n")
open(d + "/prof-mult.yaml", "w").write("templates:\n  - {synth: tcp}\ncps: 1G\ncps_multiplier: 1000\n")
# (from the fuzzer: one flow in 1e12 s started both at 0, past the clock)
open(d + "/prof-slow.yaml", "w").write("templates:\n  - {synth: tcp}\ncps: 0.000001\ncps_multiplier: 0.000001\nflows: 2\n")
open(d + "/prof-long.yaml", "w").write("templates:\n  - {synth: tcp}\ncps: 0.000001\nflows: 100000\n")
# starts to 6e9 s: the clock holds them, a pcap timestamp (2^32 s) does not
open(d + "/prof-pcapts.yaml", "w").write("templates:\n  - {synth: tcp}\ncps: 0.000001\nflows: 6000\n")
EOF
    # ARGS | what the message must say
    while IFS='|' read -r args want; do
        # shellcheck disable=SC2086
        "$TG" $args --quiet --pcap-out "$T/o" > "$T/out" 2> "$T/err"
        rc=$?
        if [ $rc -ne 2 ] || ! grep -qF -- "$want" "$T/err"; then
            bad "'$args': exit $rc, said: $(cat "$T/err") (want: $want)"
        else
            ok "'$args' exits 2: $(head -c 150 "$T/err")"
        fi
        [ -s "$T/out" ] && bad "'$args' wrote to stdout"
    done <<EOF
--template $T/absent.pcap|$T/absent.pcap
--template $T|$T
--template $T/text.pcap|$T/text.pcap
--template $T/arp.pcap|arp.pcap: no TCP or UDP flows in it (3 packets of other kinds)
--template $T/wifi.pcap|wifi.pcap: unsupported link type 105 (use Ethernet
--synth tcp --cps 2e9|--cps '2e9': give a number
--synth tcp --cps 0|--cps '0': give a number 0.001..
--synth tcp --rate 0|--rate '0': give max or packets per second
--synth tcp --bps 100|--bps '100': give a number 12800..
--synth tcp --flows 0|--flows '0': give a whole number
--profile $T/prof-mult.yaml|flows/s is impossible
--profile $T/prof-slow.yaml|1e-12 flows/s (cps x cps_multiplier) is one flow in 1e+12 s: give at least 1e-6 flows/s
--profile $T/prof-long.yaml|100000 flows at 1e-06 flows/s start over 1e+11 s, past the 1e+10 s the clock holds
--profile $T/prof-pcapts.yaml|a packet at 4295000000 s is past the 4294967295 s a pcap timestamp holds
--profile $T/prof-col.yaml|prof-col.yaml:4:8: flows:
--profile $T/prof-unknown.yaml|prof-unknown.yaml:3:1: unknown field 'rate_limit' in traffic (expected one of
--profile $T/prof-tmpl.yaml|prof-tmpl.yaml:2:18: unknown field 'wieght' in template
--profile $T/absent.yaml|absent.yaml
--synth tcp,resp=2000|--synth 'tcp,resp=2000': bad 'resp=2000'
--synth tcp --clients 10.0.0.0/30 --client-ports 1000-1009 --flows 100|100 flows need more client address x port pairs
--synth tcp --servers 2001:db8::/64|is IPv4: give an IPv4 CIDR in both the client and the server pools
--synth tcp,v6 --clients 10.0.0.0/8|is IPv6: give an IPv6 CIDR in both the client and the server pools
--synth tcp --frobnicate|unknown option or missing value: '--frobnicate'
--synth tcp --workers 2|are DPDK options: give EAL arguments before '--'
EOF
    # the output directory cannot be made
    "$TG" --synth tcp --quiet --pcap-out /proc/nope/x > /dev/null 2> "$T/err"
    rc=$?
    [ $rc -eq 2 ] && grep -qF "/proc/nope/x" "$T/err" && ok "unwritable --pcap-out exits 2" ||
        bad "--pcap-out /proc/nope/x: exit $rc $(cat "$T/err")"
    # these checks can fail: good input exits 0
    "$TG" --synth tcp --flows 5 --quiet --pcap-out "$T/o" > /dev/null 2>&1 && ok "good input exits 0" ||
        bad "good input"
    ;;
*)
    echo "usage: $0 BATON-TGEN synth|template FILE|output|badinput" >&2
    exit 2
    ;;
esac
exit $fail
