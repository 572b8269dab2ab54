#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Captures baton-tgen's conversation templates from real Linux stacks: two
# network namespaces joined by a veth at MTU 1500 with offloads off (TSO,
# GSO, GRO, checksum), so every packet is a real on-the-wire segment with a
# real checksum (loopback's 64 KiB MTU and checksum offload would give
# unusable captures). Each template is one pcap holding one conversation
# (the DNS and UDP ones: one flow each), captured by tcpdump on the client's
# veth with dumpcap (tshark's capture engine; classic pcap, -P).
#
# usage: pcaps/capture-templates.sh [OUTDIR]     (root; default pcaps/templates)
# needs: ip, ethtool, dumpcap (tshark), curl, openssl, dig, /usr/bin/python3
set -euo pipefail

OUT=${1:-$(cd "$(dirname "$0")" && pwd)/templates}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
TAG=tgc$$
NC=${TAG}c NS=${TAG}s
PY=/usr/bin/python3
WORK=$(mktemp -d /tmp/bt-capture-XXXXXX)
PIDS=()

cleanup() {
    for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
    # whatever still runs inside the two namespaces (ours alone)
    for ns in "$NC" "$NS"; do
        for p in $(ip netns pids "$ns" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
    done
    ip netns del "$NC" 2>/dev/null || true
    ip netns del "$NS" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

ip netns add "$NC"
ip netns add "$NS"
ip link add "${TAG}a" type veth peer name "${TAG}b"
ip link set "${TAG}a" netns "$NC"
ip link set "${TAG}b" netns "$NS"
for pair in "$NC ${TAG}a 10.99.0.1/24 fd99::1/64" "$NS ${TAG}b 10.99.0.2/24 fd99::2/64"; do
    set -- $pair
    ip -n "$1" link set lo up
    ip -n "$1" link set "$2" mtu 1500 up
    ip -n "$1" addr add "$3" dev "$2"
    ip -n "$1" addr add "$4" dev "$2" nodad
    ip netns exec "$1" ethtool -K "$2" tso off gso off gro off tx off rx off >/dev/null 2>&1 || true
done
sleep 1
C() { ip netns exec "$NC" "$@"; }
S() { ip netns exec "$NS" "$@"; }
# static neighbour entries, so no ARP/ND sits inside a capture
MA=$(C cat "/sys/class/net/${TAG}a/address")
MB=$(S cat "/sys/class/net/${TAG}b/address")
C ip neigh replace 10.99.0.2 lladdr "$MB" dev "${TAG}a" nud permanent
C ip neigh replace fd99::2 lladdr "$MB" dev "${TAG}a" nud permanent
S ip neigh replace 10.99.0.1 lladdr "$MA" dev "${TAG}b" nud permanent
S ip neigh replace fd99::1 lladdr "$MA" dev "${TAG}b" nud permanent

# content served
mkdir -p "$WORK/www"
echo "<html><body>baton template</body></html>" > "$WORK/www/index.html"
head -c 2000000 /dev/urandom > "$WORK/www/big.bin"

# capture FILE FILTER -- CMD...: runs CMD in the client namespace while
# dumpcap captures FILTER on the client's veth
capture() {
    local file=$1 filter=$2
    shift 3
    rm -f "$WORK/cap.pcap"
    # (started directly, not through a function, so $! is dumpcap itself;
    # background jobs ignore SIGINT, so it is stopped with SIGTERM)
    ip netns exec "$NC" dumpcap -q -P -s 0 -i "${TAG}a" -f "$filter" -w "$WORK/cap.pcap" \
        2>/dev/null &
    local tp=$!
    sleep 1.5
    "$@"
    sleep 0.5
    kill -TERM "$tp"
    wait "$tp" 2>/dev/null || true
    mv "$WORK/cap.pcap" "$OUT/$file"
    echo "captured $file: $(tshark -r "$OUT/$file" 2>/dev/null | wc -l) packets"
}

# servers
(cd "$WORK/www" && exec ip netns exec "$NS" $PY -m http.server 8080 --bind :: >/dev/null 2>&1) &
PIDS+=($!)
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/key.pem" -out "$WORK/cert.pem" \
    -days 3650 -subj "/CN=baton.test" >/dev/null 2>&1
ip netns exec "$NS" openssl s_server -quiet -accept 4433 -cert "$WORK/cert.pem" -key "$WORK/key.pem" -naccept 1 \
    >/dev/null 2>&1 &
PIDS+=($!)
# a tiny DNS responder on port 53: answers any A query with 192.0.2.7
cat > "$WORK/dns.py" <<'EOF'
import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.99.0.2", 53))
while True:
    q, a = s.recvfrom(2048)
    qid, flags, qd = struct.unpack("!HHH", q[:6])
    i = 12
    while q[i]:
        i += q[i] + 1
    question = q[12:i + 5]
    hdr = struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0)
    ans = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton("192.0.2.7")
    s.sendto(hdr + question + ans, a)
EOF
ip netns exec "$NS" $PY "$WORK/dns.py" &
PIDS+=($!)
# an echo server for the interactive session; a UDP sink that answers every tenth datagram
cat > "$WORK/echo.py" <<'EOF'
import socket, threading
def tcp():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("10.99.0.2", 2222)); s.listen(4)
    while True:
        c, _ = s.accept()
        while True:
            d = c.recv(4096)
            if not d:
                break
            c.sendall(b"> " + d)
        c.close()
def udp():
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("10.99.0.2", 5004))
    n = 0
    while True:
        d, a = u.recvfrom(2048)
        n += 1
        if n % 10 == 0:
            u.sendto(b"ack %d" % n, a)
threading.Thread(target=tcp, daemon=True).start()
udp()
EOF
ip netns exec "$NS" $PY "$WORK/echo.py" &
PIDS+=($!)
sleep 2

capture http.pcap "tcp port 8080" -- C curl -s -o /dev/null http://10.99.0.2:8080/index.html
capture download-2mb.pcap "tcp port 8080" -- C curl -s -o /dev/null http://10.99.0.2:8080/big.bin
capture http6.pcap "tcp port 8080" -- C curl -s -o /dev/null "http://[fd99::2]:8080/index.html"
capture tls.pcap "tcp port 4433" -- bash -c "echo | ip netns exec $NC openssl s_client -connect 10.99.0.2:4433 -servername baton.test >/dev/null 2>&1"
capture dns.pcap "udp port 53" -- C dig +tries=1 +time=2 +short @10.99.0.2 www.baton.test A
cat > "$WORK/interactive.py" <<'EOF'
import socket, time
s = socket.create_connection(("10.99.0.2", 2222))
for i in range(60):
    s.sendall(b"command %d\n" % i)
    s.recv(4096)
    time.sleep(0.1)
s.close()
EOF
capture interactive.pcap "tcp port 2222" -- C $PY "$WORK/interactive.py"
cat > "$WORK/udpstream.py" <<'EOF'
import socket, time
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("10.99.0.1", 5006))
u.settimeout(0.2)
for i in range(200):
    u.sendto(bytes([i % 256]) * 160, ("10.99.0.2", 5004))
    time.sleep(0.002)
time.sleep(0.2)
EOF
capture udp-stream.pcap "udp port 5004" -- C $PY "$WORK/udpstream.py"
chmod 644 "$OUT"/*.pcap
ls -la "$OUT"
