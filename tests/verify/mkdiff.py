#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Independent oracle for `baton-verify diff`: two captures, A and B, with
known differences: flow 3 only in A, flow 11 only in B, flow 5 with two
retransmitted segments in B, flow 7 reset in B, flow 9 with the same packets
but a 500 ms pause before its FIN in B (a timing difference only).
usage: mkdiff.py OUTDIR"""
import sys

from scapy.all import IP, TCP, Ether, Raw
from scapy.utils import PcapWriter


def E():
    return Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")


def flow(i, t0, retrans=False, rst=False, pause=0.0):
    c, s, cp = "10.9.0.%d" % i, "192.0.2.9", 30000 + i
    pk = []
    seq_c, seq_s = 1000, 5000

    def add(t, src, dst, sp, dp, flags, seq, data=b""):
        p = E() / IP(src=src, dst=dst) / TCP(sport=sp, dport=dp, flags=flags, seq=seq) / Raw(data) if data else \
            E() / IP(src=src, dst=dst) / TCP(sport=sp, dport=dp, flags=flags, seq=seq)
        p.time = t
        pk.append(p)

    add(t0, c, s, cp, 80, "S", seq_c)
    add(t0 + 0.001, s, c, 80, cp, "SA", seq_s)
    add(t0 + 0.002, c, s, cp, 80, "A", seq_c + 1)
    t = t0 + 0.003
    for k in range(3):
        add(t, c, s, cp, 80, "PA", seq_c + 1 + 10 * k, b"x" * 10)
        if retrans and k == 1:
            add(t + 0.0005, c, s, cp, 80, "PA", seq_c + 1 + 10 * k, b"x" * 10)
            add(t + 0.0006, c, s, cp, 80, "PA", seq_c + 1 + 10 * k, b"x" * 10)
        add(t + 0.001, s, c, 80, cp, "A", seq_s + 1)
        t += 0.002
    t += pause
    if rst:
        add(t, s, c, 80, cp, "R", seq_s + 1)
    else:
        add(t, c, s, cp, 80, "FA", seq_c + 31)
        add(t + 0.001, s, c, 80, cp, "FA", seq_s + 1)
        add(t + 0.002, c, s, cp, 80, "A", seq_c + 32)
    return pk


def write(path, pkts):
    w = PcapWriter(path, nano=True, linktype=1)
    for p in sorted(pkts, key=lambda p: p.time):
        w.write(p)
    w.close()


out = sys.argv[1]
a, b = [], []
for i in range(1, 11):
    if i != 3:
        b += flow(i, 0.05 * i, retrans=(i == 5), rst=(i == 7), pause=0.5 if i == 9 else 0.0)
    a += flow(i, 0.05 * i)
b += flow(11, 0.6)
write(out + "/a.pcap", a)
write(out + "/b.pcap", b)
