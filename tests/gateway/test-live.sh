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
#      cleanly (exit 0, capset.json written).
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
[ "$fail" -eq 0 ]
