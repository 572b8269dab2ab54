#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# baton-gateway live between two veths, with real Linux TCP on both sides:
# a client namespace and a server namespace (one /24, the gateway a bump in
# the wire between them, ARP bridged by it) and the gateway's own
# namespace. 20 echo connections run 4 s; member 1 is failed at 1.5 s.
#   1. with HyperSync: every connection goes on (the client sees no error),
#      members were promoted, nothing dropped out of state, and baton-verify
#      judges the capture set (affinity, symmetry, failover with the
#      endpoints' retransmission timer: --max-gap 1s) a pass; the stats
#      socket streams lines of 4 members; client.pcap holds every frame in
#      and out of the client side (tshark counts them);
#   2. with the no-sync fault (the checks shown to fail): the connections
#      member 1 owned break (client timeouts), packets are dropped out of
#      state and baton-verify's failover check fails; SIGTERM ends the run
#      cleanly (exit 0, capset.json written);
#   3. frames the kernel drops while the gateway is stopped are reported
#      (exit 1: the capture set is incomplete), and frames the server side
#      refuses (over its MTU) are counted and not in its link capture.
#   4. a timeline event the cluster refuses (the member was failed over the
#      socket first): the run goes on to its end, then exits 2 saying why.
# Case 1 also checks that no stats line covers only microseconds at the end.
# Skips (77) without root, network namespaces, python3 or ethtool.
#   test-live.sh BATON-GATEWAY BATON-VERIFY
set -uo pipefail
GW=$1
VERIFY=$2
if [ "$(id -u)" -ne 0 ] || ! ip netns list > /dev/null 2>&1 || ! command -v ethtool > /dev/null ||
    ! command -v python3 > /dev/null; then
    echo "skip: needs root, network namespaces, python3 and ethtool"
    exit 77
fi
P=btgl$$
T=$(mktemp -d /tmp/bt-gwlive-XXXXXX)
fail=0
GWPID=
cleanup() {
    [ -n "$GWPID" ] && kill -9 "$GWPID" 2> /dev/null
    for n in c s g; do ip netns pids "$P$n" 2> /dev/null | xargs -r kill -9 2> /dev/null; done
    for n in c s g; do ip netns del "$P$n" 2> /dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }
for n in c s g; do
    ip netns add "$P$n" || { bad "ip netns add"; exit 1; }
    ip netns exec "$P$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip netns exec "$P$n" ip link set lo up
done
ip link add "${P}x" netns "${P}c" type veth peer name vc netns "${P}g"
ip link add "${P}y" netns "${P}s" type veth peer name vs netns "${P}g"
ip netns exec "${P}c" ip link set "${P}x" name eth0
ip netns exec "${P}s" ip link set "${P}y" name eth0
ip netns exec "${P}c" ip addr add 10.77.0.1/24 dev eth0
ip netns exec "${P}s" ip addr add 10.77.0.2/24 dev eth0
# offloads off: a GSO frame is longer than a packet buffer, and a frame
# with its checksum left to the NIC is judged bad on the far side
for n in c s; do
    ip netns exec "$P$n" ethtool -K eth0 tx off rx off tso off gso off gro off > /dev/null 2>&1
    ip netns exec "$P$n" ip link set eth0 up
done
for i in vc vs; do
    ip netns exec "${P}g" ethtool -K "$i" tx off rx off tso off gso off gro off > /dev/null 2>&1
    ip netns exec "${P}g" ip link set "$i" up
done
cat > "$T/srv.py" << 'EOF'
import socket, threading
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.77.0.2", 8080))
s.listen(128)
def echo(c):
    try:
        while True:
            d = c.recv(4096)
            if not d:
                break
            c.sendall(d)
    except OSError:
        pass
    c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=echo, args=(c,), daemon=True).start()
EOF
# N connections, each an exchange every 100 ms for SECS; prints "ok A bad B";
# exit 0 when every one finished without an error
cat > "$T/cli.py" << 'EOF'
import socket, sys, threading, time
n, secs = int(sys.argv[1]), float(sys.argv[2])
good, errs = [0], []
def run(i):
    try:
        c = socket.create_connection(("10.77.0.2", 8080), timeout=3)
        end, k = time.time() + secs, 0
        while time.time() < end:
            m = b"%d-%d;" % (i, k)
            c.sendall(m)
            got = b""
            while len(got) < len(m):
                d = c.recv(4096)
                if not d:
                    raise OSError("closed by the peer")
                got += d
            if got != m:
                raise OSError("echo differs")
            k += 1
            time.sleep(0.1)
        c.close()
        good[0] += 1
    except Exception as e:
        errs.append("%d: %r" % (i, e))
ts = [threading.Thread(target=run, args=(i,)) for i in range(n)]
for t in ts:
    t.start()
    time.sleep(0.01)
for t in ts:
    t.join()
print("ok %d bad %d %s" % (good[0], len(errs), "; ".join(errs[:3])))
sys.exit(0 if not errs else 1)
EOF
# the first stats line on the socket: 4 members
cat > "$T/stats.py" << 'EOF'
import json, socket, sys, time
for _ in range(50):
    try:
        s = socket.socket(socket.AF_UNIX)
        s.connect(sys.argv[1])
        break
    except OSError:
        time.sleep(0.1)
s.settimeout(5)
buf = b""
while b"\n" not in buf:
    d = s.recv(65536)
    if not d:
        sys.exit("closed before a line")
    buf += d
d = json.loads(buf.split(b"\n")[0])
sys.exit(0 if len(d["sgms"]) == 4 else "sgms: %d" % len(d["sgms"]))
EOF
ip netns exec "${P}s" python3 "$T/srv.py" &
sleep 0.3
j() { /usr/bin/python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' "$@"; }

# 1. HyperSync on: member 1 fails under load, its connections go on
for n in c s; do ip netns exec "$P$n" ip neigh flush all; done
ip netns exec "${P}g" timeout 30 "$GW" live --client-if vc --server-if vs --members 4 --out "$T/a" \
    --serve "$T/sock" --stats-interval 200ms --duration 6s --fail 1@1.5s --json > "$T/a.json" 2> "$T/a.err" &
GWPID=$!
sleep 0.3
if timeout 10 python3 "$T/stats.py" "$T/sock"; then ok "stats socket: a line of 4 members"; else bad "stats socket"; fi
if out=$(ip netns exec "${P}c" timeout 20 python3 "$T/cli.py" 20 4); then
    ok "sync on, member 1 failed: every connection went on ($out)"
else
    bad "sync on, member 1 failed: $out"
fi
wait "$GWPID"
rc=$?
GWPID=
if [ "$rc" -eq 0 ] && j "$T/a.json" 'd["mode"] == "live" and d["promoted"] >= 1 and d["drops_state"] == 0 and d["arp"] >= 2 and d["oversize"] == 0 and d["send_errors"] == 0'; then
    ok "sync on: members promoted, nothing dropped out of state, ARP bridged: $(cat "$T/a.json")"
else
    bad "sync on: exit $rc: $(cat "$T/a.json" "$T/a.err")"
fi
if "$VERIFY" check --capset "$T/a" --max-gap 1s --json > "$T/va.json" 2> "$T/va.err" &&
    j "$T/va.json" 'd["failover"]["affected"] >= 1 and d["failover"]["lost"] == 0 and d["flows"] == 20'; then
    ok "sync on: baton-verify passes the capture set (failover: $(python3 -c 'import json,sys; f=json.load(open(sys.argv[1]))["failover"]; print(f["affected"], "affected,", f["max_gap_ms"], "ms")' "$T/va.json"))"
else
    bad "sync on: baton-verify: $(head -c 600 "$T/va.json") $(cat "$T/va.err")"
fi
if command -v tshark > /dev/null; then
    nt=$(tshark -r "$T/a/client.pcap" 2> /dev/null | wc -l)
    want=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["client_in"] + d["client_out"])' "$T/a.json")
    if [ "$nt" -gt 0 ] && [ "$nt" -eq "$want" ]; then
        ok "client.pcap: tshark reads $nt frames, every one in and out of the client side"
    else
        bad "client.pcap: tshark reads $nt frames, the run counted $want"
    fi
fi
if [ "$(grep -c '"sgms"' "$T/a/stats.jsonl")" -ge 20 ] && grep -q '"sgm_down"' "$T/a/events.jsonl"; then
    ok "stats.jsonl and events.jsonl written"
else
    bad "stats.jsonl ($(wc -l < "$T/a/stats.jsonl") lines) or events.jsonl ($(cat "$T/a/events.jsonl"))"
fi

# --duration a multiple of --stats-interval: no line of a few microseconds at the end
if /usr/bin/python3 - "$T/a/stats.jsonl" << 'EOF'; then
import json, sys
t = [json.loads(l)["t"] for l in open(sys.argv[1]) if l.strip()]
gaps = [b - a for a, b in zip(t, t[1:])]
sys.exit(0 if gaps and min(gaps) >= 0.1 else "gaps %s" % gaps[-3:])
EOF
    ok "stats.jsonl: every line covers at least half an interval"
else
    bad "stats.jsonl: a line of less than half an interval"
fi

# 2. the no-sync fault: member 1's connections break; SIGTERM ends the run
for n in c s; do ip netns exec "$P$n" ip neigh flush all; done
ip netns exec "${P}g" timeout 30 "$GW" live --client-if vc --server-if vs --members 4 --out "$T/b" \
    --fail 1@1.5s --fault no-sync --json > "$T/b.json" 2> "$T/b.err" &
GWPID=$!
sleep 0.3
if out=$(ip netns exec "${P}c" timeout 20 python3 "$T/cli.py" 20 4); then
    bad "no-sync: every connection went on, the fault did not show ($out)"
else
    ok "no-sync: connections of member 1 broke ($out)"
fi
kill -TERM "$GWPID"
wait "$GWPID"
rc=$?
GWPID=
if [ "$rc" -eq 0 ] && [ -s "$T/b/capset.json" ] && j "$T/b.json" 'd["drops_state"] >= 1 and d["promoted"] == 0'; then
    ok "no-sync: dropped out of state after the failover, nothing promoted; SIGTERM ended the run"
else
    bad "no-sync: exit $rc: $(cat "$T/b.json" "$T/b.err")"
fi
# the failover check sees it too: both ends retransmitting into the new
# member are heard on it, but the link captures show nothing crossed
"$VERIFY" check --capset "$T/b" --max-gap 1s --json > "$T/vb.json" 2> "$T/vb.err"
rc=$?
if [ "$rc" -eq 1 ] && j "$T/vb.json" 'd["failover"]["lost"] >= 1 and not d["failover"]["pass"]'; then
    ok "no-sync: baton-verify's failover check fails ($(python3 -c 'import json,sys; f=json.load(open(sys.argv[1]))["failover"]; print(f["affected"], "affected,", f["lost"], "lost")' "$T/vb.json"))"
else
    bad "no-sync: baton-verify exit $rc: $(head -c 600 "$T/vb.json") $(cat "$T/vb.err")"
fi

# 3. frames the kernel drops before the gateway reads them (its capture ring
#    overflows while it is stopped) are in no capture: the run says so and
#    exits 1; a frame the interface refuses (longer than the server side's
#    MTU) is counted and kept out of the link capture (it never left)
ip netns exec "${P}c" ip link set eth0 mtu 2000
ip netns exec "${P}g" ip link set vc mtu 2000
ip netns exec "${P}g" timeout 30 "$GW" live --client-if vc --server-if vs --members 2 --out "$T/k" \
    --duration 4s --json > "$T/k.json" 2> "$T/k.err" &
GWPID=$!
sleep 0.5
cat > "$T/blast.py" << 'EOF'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
n, size = int(sys.argv[1]), int(sys.argv[2])
for i in range(n):
    s.sendto(b"x" * size, ("10.77.0.2", 9999))
    if len(sys.argv) > 3:
        time.sleep(float(sys.argv[3]))
EOF
ip netns exec "${P}c" python3 "$T/blast.py" 3 1900 0.1
GWREAL=$(pgrep -P "$GWPID" | head -1)   # the gateway itself, timeout's child
kill -STOP "$GWREAL"
ip netns exec "${P}c" python3 "$T/blast.py" 20000 1000
kill -CONT "$GWREAL"
wait "$GWPID"
rc=$?
GWPID=
if [ "$rc" -eq 1 ] && grep -q "is incomplete: the kernel dropped" "$T/k.err" &&
    j "$T/k.json" 'd["kernel_drops_client"] >= 1 and d["send_errors"] == 3'; then
    ok "kernel drops reported, exit 1; 3 frames refused by the server side ($(tail -1 "$T/k.err" | cut -c1-160))"
else
    bad "kernel drops: exit $rc: $(cat "$T/k.json" "$T/k.err")"
fi
if command -v tshark > /dev/null; then
    big=$(tshark -r "$T/k/server.pcap" -Y 'frame.len > 1500' 2> /dev/null | wc -l)
    if [ "$big" -eq 0 ]; then
        ok "server.pcap holds none of the 3 refused frames"
    else
        bad "server.pcap holds $big frames the interface refused"
    fi
fi
ip netns exec "${P}c" ip link set eth0 mtu 1500
ip netns exec "${P}g" ip link set vc mtu 1500

# 4. a timeline event the cluster refuses (an operator failed the member
#    over the socket first) stops nothing: the run goes on to its end, the
#    capture set is whole, and the refusal is its error (exit 2)
ip netns exec "${P}g" timeout 30 "$GW" live --client-if vc --server-if vs --members 3 --out "$T/r" \
    --serve "$T/rsock" --fail 2@1s --duration 2s --stats-interval 500ms > "$T/r.out" 2> "$T/r.err" &
GWPID=$!
sleep 0.4
/usr/bin/python3 - "$T/rsock" << 'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b'{"id":1,"cmd":"fail","sgm":2}\n')
s.settimeout(5)
buf = b""
while b'"id":1' not in buf:
    buf += s.recv(65536)
EOF
wait "$GWPID"
rc=$?
GWPID=
if [ "$rc" -eq 2 ] && grep -q "the cluster refused it: fail: sgm 2 is already down (the run went on" "$T/r.err" &&
    [ -s "$T/r/capset.json" ] && [ "$(grep -c '"sgms"' "$T/r/stats.jsonl")" -ge 4 ]; then
    ok "a refused timeline event: the run went on to its end (exit 2, $(grep -c '"sgms"' "$T/r/stats.jsonl") stats lines)"
else
    bad "a refused timeline event: exit $rc: $(cat "$T/r.err") $(wc -l < "$T/r/stats.jsonl" 2>&1)"
fi
[ "$fail" -eq 0 ]
