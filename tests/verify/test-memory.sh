#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Memory grows with concurrent flows, not with the capture: 300,000 one-packet
# UDP flows, one every 200 us (60 s; about 10,000 open within any 2 s idle
# window), must all be judged with a peak RSS of a few MB, far below what
# keeping them all would take (300,000 flows x 104 bytes = 31 MB); and the
# same count of flows all open at once does take that memory (the control).
set -uo pipefail
VF=$1
T=$(mktemp -d /tmp/bt-vmem-XXXXXX)
trap 'rm -rf "$T"' EXIT
/usr/bin/python3 - "$VF" "$T" <<'PY'
import json, struct, subprocess, sys
vf, d = sys.argv[1], sys.argv[2]
def write(path, n, step_ns):
    out = bytearray(struct.pack("<IHHiIII", 0xa1b23c4d, 2, 4, 0, 0, 262144, 1))
    for i in range(n):
        t = i * step_ns
        src = bytes([10, (i >> 16) & 255, (i >> 8) & 255, i & 255])
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 28, 0, 0, 64, 17, 0, src, bytes([192, 0, 2, 1]))
        f = bytes(12) + b"\x08\x00" + ip + struct.pack(">HHHH", 1000 + i % 50000, 53, 8, 0)
        out += struct.pack("<IIII", t // 10**9, t % 10**9, len(f), len(f)) + f
    open(path, "wb").write(out)
def run(path):
    # GNU time's child is forked from a small process: its peak RSS is verify's
    p = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", d + "/rss", vf, "check", "--sgm",
                        "1=" + path, "--json"], capture_output=True)
    return p.returncode, json.loads(p.stdout), int(open(d + "/rss").read().split()[-1]), 0
n = 300000
write(d + "/seq.pcap", n, 200000)     # 60 s
write(d + "/all.pcap", n, 1000)       # 0.3 s: all open at once
rc, r, rss_seq, _ = run(d + "/seq.pcap")
ok = rc == 0 and r["flows"] == n and rss_seq < 16 * 1024
print(("ok  " if ok else "FAIL") + " sequential flows: exit %d, %d flows, peak RSS %d KB" % (rc, r["flows"], rss_seq))
rc2, r2, rss_all, _ = run(d + "/all.pcap")
ok2 = rc2 == 0 and r2["flows"] == n and rss_all > 2 * rss_seq
print(("ok  " if ok2 else "FAIL") + " concurrent flows (control): %d flows, peak RSS %d KB" % (r2["flows"], rss_all))
sys.exit(0 if ok and ok2 else 1)
PY
