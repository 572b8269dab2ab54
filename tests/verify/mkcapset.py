#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
Independent oracle for baton-verify: crafts capture sets with scapy, with
faults planted on purpose, and writes next to them the figures a correct
verifier must report (expected.json). Nothing here uses baton's code.

usage: mkcapset.py SCENARIO OUTDIR
"""
import json
import os
import sys

from scapy.all import ARP, ICMP, IP, TCP, UDP, Dot1Q, Ether, IPv6, Raw, ICMPv6EchoRequest, ICMPv6EchoReply
from scapy.utils import PcapWriter

MS = 0.001


def E(**kw):
    """Ethernet with fixed addresses (scapy would otherwise resolve them)."""
    return Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02", **kw)


class Set:
    def __init__(self, out, members, weights=None, nano=True):
        self.out = out
        self.members = members
        self.weights = weights or {m: 100 for m in members}
        self.pkts = {m: [] for m in members}
        self.events = []
        self.corrections = []
        self.nano = nano
        os.makedirs(out, exist_ok=True)

    def put(self, member, t, pkt):
        pkt.time = t
        self.pkts[member].append(pkt)

    def tcp_flow(self, c, s, cport, sport, t0, c2s_member, s2c_member=None, n_data=2,
                 fin=True, gap=10 * MS, v6=False, vlan=None):
        """A whole TCP conversation; returns the time after its last packet.
        c2s_member/s2c_member may be callables of the packet time."""
        s2c_member = s2c_member if s2c_member is not None else c2s_member
        L3 = IPv6 if v6 else IP

        def l2():
            e = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
            return e / Dot1Q(vlan=vlan) if vlan is not None else e

        def mem(m, t):
            return m(t) if callable(m) else m

        seq = [("S", 0)] + [("SA", 1)] + [("A", 0)]
        for _ in range(n_data):
            seq += [("PA", 0), ("A", 1)]
        if fin:
            seq += [("FA", 0), ("FA", 1), ("A", 0)]
        t = t0
        for flags, d in seq:
            if d == 0:
                p = l2() / L3(src=c, dst=s) / TCP(sport=cport, dport=sport, flags=flags)
                m = mem(c2s_member, t)
            else:
                p = l2() / L3(src=s, dst=c) / TCP(sport=sport, dport=cport, flags=flags)
                m = mem(s2c_member, t)
            if m:
                self.put(m, t, p)
            t += gap
        return t

    def event(self, t, kind, sgm, **kw):
        e = {"t": t, "event": kind, "sgm": sgm}
        e.update(kw)
        self.events.append(e)

    def write(self, expected):
        for m in self.members:
            w = PcapWriter(os.path.join(self.out, "sgm-%d.pcap" % m), nano=self.nano,
                           linktype=1, sync=False)
            for p in sorted(self.pkts[m], key=lambda p: p.time):
                w.write(p)
            w.close()
        with open(os.path.join(self.out, "events.jsonl"), "w") as f:
            for e in self.events:
                f.write(json.dumps(e) + "\n")
        files = {"events": True, "corrections": bool(self.corrections)}
        if self.corrections:
            with open(os.path.join(self.out, "corrections.jsonl"), "w") as f:
                for c in self.corrections:
                    f.write(json.dumps(c) + "\n")
        with open(os.path.join(self.out, "capset.json"), "w") as f:
            json.dump({"schema": 1, "generator": "tests/verify/mkcapset.py",
                       "members": [{"id": m, "weight": self.weights[m]} for m in self.members],
                       "mode": "general", "l4": True, "files": files}, f)
        with open(os.path.join(self.out, "expected.json"), "w") as f:
            json.dump(expected, f, indent=1)


def client(i):
    return "10.%d.%d.%d" % (1 + i // 65000, (i // 250) % 250, 1 + i % 250)


def clean(out, n=400, members=(1, 2, 3, 4)):
    s = Set(out, list(members))
    for i in range(n):
        m = members[i % len(members)]
        s.tcp_flow(client(i), "192.0.2.10", 20000 + i, 80, 0.001 * i, m)
    return s, {"flows": n, "pass": True, "affinity.violations": 0, "symmetry.violations": 0,
               "failover.affected": 0}


def scenario(name, out):
    if name == "clean":
        s, exp = clean(out)
    elif name == "affinity":
        # 7 flows move both directions to another member halfway, no event
        s, exp = clean(out, 200)
        for i in range(7):
            t0 = 1.0 + i * 0.01
            s.tcp_flow(client(1000 + i), "192.0.2.10", 30000 + i, 80, t0,
                       lambda t, t0=t0: 1 if t < t0 + 0.045 else 2)
        exp.update({"flows": 207, "pass": False, "affinity.violations": 7,
                    "symmetry.violations": 0})
    elif name == "asym":
        s, exp = clean(out, 200)
        for i in range(5):
            s.tcp_flow(client(2000 + i), "192.0.2.10", 31000 + i, 80, 1.0 + i * 0.01, 1, 2)
        exp.update({"flows": 205, "pass": False, "affinity.violations": 0,
                    "symmetry.violations": 5})
    elif name in ("failover", "slowfail"):
        # 4 members; 120 long flows; sgm 2 dies at T=1.0. Its flows continue
        # on sgm 3 after a gap, except 3 that are reset and 2 that stop.
        gap = 0.05 if name == "failover" else 0.5
        s = Set(out, [1, 2, 3, 4], nano=(name == "failover"))
        T = 1.0
        s.event(T, "sgm_down", 2)
        on2 = 0
        for i in range(120):
            m = [1, 2, 3, 4][i % 4]
            c, p = client(i), 40000 + i
            # packets every 100 ms from 0.5 s to 2.0 s, closing with FIN
            lost_rst = m == 2 and on2 in (0, 1, 2)
            lost_stop = m == 2 and on2 in (3, 4)
            if m == 2:
                on2 += 1
            t = 0.5 + i * 0.0001
            s.tcp_flow(c, "192.0.2.20", p, 443, t, m, n_data=0, fin=False, gap=0.001)
            t += 0.01
            while t < 2.0:
                if m == 2 and t >= T:
                    if lost_stop:
                        break
                    t = max(t, T + gap) if t < T + gap else t
                    mm = 3
                else:
                    mm = m
                s.put(mm, t, E() / IP(src=c, dst="192.0.2.20") / TCP(sport=p, dport=443, flags="PA") / Raw(b"x" * 10))
                s.put(mm, t + 0.001, E() / IP(src="192.0.2.20", dst=c) / TCP(sport=443, dport=p, flags="A"))
                if lost_rst and mm == 3:
                    s.put(3, t + 0.002, E() / IP(src="192.0.2.20", dst=c) / TCP(sport=443, dport=p, flags="R"))
                    break
                t += 0.1
        # flows before the event and after idle: a short flow on sgm 2 that ended
        # before T does not count as affected
        s.tcp_flow(client(500), "192.0.2.20", 45000, 443, 0.1, 2)
        exp = {"flows": 121, "failover.affected": 30, "failover.survived": 25,
               "failover.lost": 5, "affinity.violations": 0, "symmetry.violations": 0,
               "pass": False}
        if name == "slowfail":
            exp["failover.max_gap_ms_min"] = 399
    elif name == "rebalance":
        s = Set(out, [1, 2, 3])
        s.event(1.0, "sgm_join", 3, weight=100)
        for i in range(30):
            # both directions move from 1 to 3 after the join: rebalanced
            s.tcp_flow(client(i), "192.0.2.30", 50000 + i, 80, 0.8 + i * 0.001,
                       lambda t: 1 if t < 1.0 else 3, gap=0.05)
        for i in range(4):
            # only the reply direction moves after the join: affinity violation
            s.tcp_flow(client(100 + i), "192.0.2.30", 51000 + i, 80, 0.8 + i * 0.001, 1,
                       lambda t: 1 if t < 1.0 else 3, gap=0.05)
        exp = {"flows": 34, "affinity.rebalanced": 30, "affinity.violations": 4, "pass": False}
    elif name == "corrected":
        s = Set(out, [1, 2])
        for i in range(10):
            # replies land on member 2 and are forwarded to the owner, member 1
            t0 = 0.1 + i * 0.01
            c, p = client(i), 52000 + i
            s.tcp_flow(c, "192.0.2.40", p, 80, t0, 1, 2, n_data=1, gap=0.01)
            for k, t in enumerate([t0 + 0.01 * j for j in (1, 4, 6, 7)]):
                s.corrections.append({"t": t, "proto": "tcp", "src": "192.0.2.40", "sport": 80,
                                      "dst": c, "dport": p, "from": 2, "to": 1})
        exp = {"flows": 10, "symmetry.violations": 0, "affinity.violations": 0, "pass": True}
    elif name == "mixed":
        # VLAN tags, IPv6, UDP, ICMP echo, non-IP noise, microsecond pcap
        s = Set(out, [1, 2], nano=False)
        for i in range(5):
            s.tcp_flow(client(i), "192.0.2.50", 53000 + i, 80, 0.01 * i, 1, vlan=100 + i)
        for i in range(5):
            s.tcp_flow("2001:db8::%x" % (i + 1), "2001:db8:ffff::1", 54000 + i, 443, 0.01 * i, 2, v6=True)
        for i in range(4):
            s.put(1, 0.2 + i * 0.01, E() / IP(src=client(i), dst="192.0.2.53") / UDP(sport=5000 + i, dport=53) / Raw(b"q"))
            s.put(1, 0.205 + i * 0.01, E() / IP(src="192.0.2.53", dst=client(i)) / UDP(sport=53, dport=5000 + i) / Raw(b"a"))
        for i in range(3):
            s.put(2, 0.3 + i * 0.01, E() / IP(src=client(i), dst="192.0.2.1") / ICMP(type=8, id=77 + i))
            s.put(2, 0.301 + i * 0.01, E() / IP(src="192.0.2.1", dst=client(i)) / ICMP(type=0, id=77 + i))
        s.put(2, 0.4, E() / IPv6(src="2001:db8::1", dst="2001:db8::2") / ICMPv6EchoRequest(id=9))
        s.put(2, 0.401, E() / IPv6(src="2001:db8::2", dst="2001:db8::1") / ICMPv6EchoReply(id=9))
        for i in range(6):
            s.put(1, 0.05 * i, E(type=0x0806) / ARP(hwsrc="02:00:00:00:00:01", psrc="192.0.2.1", pdst="192.0.2.2"))
        exp = {"flows": 5 + 5 + 4 + 3 + 1, "non_ip": 6, "pass": True,
               "affinity.violations": 0, "symmetry.violations": 0}
    elif name in ("balance", "imbalance"):
        # 7,000 one-packet UDP flows over weights 70/15/15 (each member expects
        # at least 1,000, so balance is judged)
        w = {1: 70, 2: 15, 3: 15}
        s = Set(out, [1, 2, 3], weights=w)
        n = 7000
        split = (0.70, 0.15) if name == "balance" else (0.50, 0.25)
        for i in range(n):
            m = 1 if i < n * split[0] else 2 if i < n * (split[0] + split[1]) else 3
            s.put(m, 0.0001 * i, E() / IP(src=client(i), dst="192.0.2.60") / UDP(sport=1024 + i % 60000, dport=9))
        exp = {"flows": n, "balance.judged": True, "pass": name == "balance"}
        if name == "imbalance":
            exp["balance.max_deviation_pct_min"] = 28
    else:
        sys.exit("unknown scenario " + name)
    s.write(exp)


if __name__ == "__main__":
    scenario(sys.argv[1], sys.argv[2])
