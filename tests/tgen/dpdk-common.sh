# SPDX-License-Identifier: BSD-3-Clause
# Sourced by tests/tgen/test-dpdk*.sh: dpdk_init NAME PREFIX skips (exit 77)
# without root and network namespaces, then sets T (a scratch directory),
# NS (a namespace name), P (the EAL file prefix), EAL and a cleanup trap;
# ok/bad report and json/show read tgen's --json object.
dpdk_init() {
    if [ "$(id -u)" -ne 0 ] || ! ip netns list > /dev/null 2>&1; then
        echo "skip: needs root and network namespaces"
        exit 77
    fi
    T=$(mktemp -d "/tmp/bt-$1-XXXXXX")
    NS=bt-$1-$$
    P=$2$$
    trap 'ip netns del "$NS" 2> /dev/null; rm -rf "$T" /var/run/dpdk/"$P"*' EXIT
    fail=0
    EAL=(--no-huge -m 256 --no-pci --log-level=lib.eal:error)
}
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }
# json FILE EXPR: evaluates a Python expression over the JSON object d
json() { /usr/bin/python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); sys.exit(0 if eval("(" + sys.argv[2] + ")") else 1)' "$1" "$2"; }
show() { /usr/bin/python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print({k: d.get(k) for k in sys.argv[2:]})' "$@"; }
# waits (at most 15 s: EAL start-up on a loaded CI machine) until FILE has a
# line, i.e. tgen's loop is running and its signal handlers are in place
wait_line() { local i; for i in $(seq 150); do [ -s "$1" ] && return 0; sleep 0.1; done; return 1; }
