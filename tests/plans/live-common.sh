# SPDX-License-Identifier: BSD-3-Clause
# Sourced by tests/plans/test-live*.sh. live_init TAG skips (exit 77)
# without root and network namespaces, then sets NS (the device's
# namespace), C and S (the outer veth ends, tgen's client and server
# ports), T (a scratch directory), P (the stem of every EAL file prefix the
# test uses), X (runs a command in NS), fail, and a trap that removes them
# all; live_bridge builds the device: the inner ends c0 and s0 on a bridge
# br0 in NS, offloads and IPv6 off (the way tests/tgen/test-dpdk.sh builds
# its device); ok/bad report; json FILE EXPR evaluates a Python expression
# over d, the first plan of a --json report.
live_init() {
    if [ "$(id -u)" -ne 0 ] || ! ip netns list > /dev/null 2>&1; then
        echo "skip: needs root and network namespaces"
        exit 77
    fi
    NS=bt-$1-$$
    C=${1}c$$ S=${1}s$$
    T=$(mktemp -d "/tmp/bt-$1-XXXXXX")
    P=bt-$1$$
    X="ip netns exec $NS"
    fail=0
    trap live_cleanup EXIT
}
live_cleanup() {
    ip link del "$C" 2> /dev/null
    ip link del "$S" 2> /dev/null
    ip netns del "$NS" 2> /dev/null
    rm -rf "$T" /var/run/dpdk/"$P"*
}
live_bridge() {
    ip netns add "$NS" || { bad "ip netns add"; exit 1; }
    $X sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip link add "$C" type veth peer name c0 netns "$NS"
    ip link add "$S" type veth peer name s0 netns "$NS"
    $X ip link add br0 type bridge
    $X ip link set c0 master br0
    $X ip link set s0 master br0
    local i
    for i in "$C" "$S"; do
        sysctl -qw "net.ipv6.conf.$i.disable_ipv6=1"
        ethtool -K "$i" tx off rx off tso off gso off gro off > /dev/null 2>&1
        ip link set "$i" up
    done
    for i in lo br0 c0 s0; do $X ip link set "$i" up; done
    $X bash -c 'for i in c0 s0; do ethtool -K $i tx off rx off tso off gso off gro off > /dev/null 2>&1; done'
}
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }
json() { /usr/bin/python3 -c 'import json, sys; d = json.load(open(sys.argv[1]))["plans"][0]; sys.exit(0 if eval("(" + sys.argv[2] + ")") else 1)' "$1" "$2"; }
