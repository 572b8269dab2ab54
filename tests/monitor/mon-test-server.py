#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""A scripted stats server for baton-monitor's tests (no gateway needed).

Serves DESIGN.md contract 2 (one JSON stats line per interval) on a UNIX
stream socket to every client, and answers contract 3 control commands
({"id", "cmd", "sgm", ...} -> {"id", "ok"[, "error"]}), applying them to its
members so that the next stats line shows the effect. Every command received
is appended to --log as one JSON line.

Member i (1..N) is up with weight 100 and 20000 + 10*i pps (so sorting by
pps puts the highest id first), except --off-member, which gets half its
share. Scripted faults, by stats line number (0, 1, 2, ...):
  --bad-at N[,N...]     send "this is not json" before line N
  --down-at N           --down-member goes down at line N (sgm_down event)
  --vanish-at N         after line N: close every client (half a line sent
                        first), remove the socket, come back --vanish-for S later
  --lines N             stop after N stats lines (0: never)
Line 0 is sent when the first client connects. Refuses (ok: false) a weight
of 0 and commands for members it does not have.
"""
import argparse
import json
import os
import selectors
import socket
import sys
import time


class Cluster:
    def __init__(self, n, off):
        self.members = {i: {"state": "up", "weight": 100} for i in range(1, n + 1)}
        self.off = off
        self.policy = 1
        self.events = []
        self.t = 0.0

    def event(self, name, sgm, **kw):
        e = {"t": round(self.t + 0.5, 3), "event": name, "sgm": sgm}
        e.update(kw)
        self.events.append(e)

    def line(self, seq):
        up = [i for i, m in self.members.items() if m["state"] == "up"]
        sgms = []
        tot_pps = 0
        for i, m in sorted(self.members.items()):
            pps = 0
            if m["state"] == "up":
                pps = (20000 + 10 * i) * m["weight"] / 100
                if i == self.off:
                    pps /= 2
            tot_pps += pps
            s = {"id": i, "state": m["state"], "weight": m["weight"], "pps": pps,
                 "bps": pps * 8000, "conns": 4000 + i if m["state"] == "up" else 0,
                 "backup_conns": 3900, "cps": 240, "sync_tx_pps": 240,
                 "sync_tx_bps": 983040, "sync_rx_pps": 238, "sync_rx_bps": 974848,
                 "corrections_pps": i % 3, "drops": 0 if m["state"] == "up" else 50,
                 "cpu": 40 + i % 7, "future_key": {"ignored": True}}
            sgms.append(s)
        out = {"schema": 1, "t": self.t, "seq": seq,
               "cluster": {"pps": tot_pps, "bps": tot_pps * 8000, "conns": 4000 * len(up),
                           "cps": 240 * len(up), "sync_bps": 983040 * len(up),
                           "members_up": len(up), "members_total": len(self.members),
                           "policy_version": self.policy},
               "sgms": sgms, "events": self.events}
        self.events = []
        return json.dumps(out, separators=(",", ":")) + "\n"

    def control(self, req):
        cmd, sgm = req.get("cmd"), req.get("sgm")
        if not isinstance(sgm, int):
            return "sgm: not an integer"
        if cmd == "add":
            if sgm in self.members:
                return "SGM %d exists" % sgm
            self.members[sgm] = {"state": "up", "weight": req.get("weight", 100)}
            self.event("sgm_join", sgm, weight=self.members[sgm]["weight"])
            return None
        if sgm not in self.members:
            return "no such member"
        m = self.members[sgm]
        if cmd == "fail":
            m["state"] = "down"
            self.event("sgm_down", sgm)
        elif cmd == "restore":
            m["state"] = "up"
            self.event("sgm_up", sgm)
        elif cmd == "weight":
            w = req.get("weight")
            if not isinstance(w, int) or w < 0 or w > 512:
                return "weight: 0..512"
            if w == 0:
                return "weight 0: use fail"
            m["weight"] = w
            self.event("weight", sgm, weight=w)
        else:
            return "unknown command %r" % cmd
        return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", required=True)
    ap.add_argument("--members", type=int, default=52)
    ap.add_argument("--interval", type=float, default=0.3)
    ap.add_argument("--off-member", type=int, default=9)
    ap.add_argument("--down-at", type=int, default=-1)
    ap.add_argument("--down-member", type=int, default=7)
    ap.add_argument("--bad-at", default="")
    ap.add_argument("--vanish-at", type=int, default=-1)
    ap.add_argument("--vanish-for", type=float, default=1.5)
    ap.add_argument("--lines", type=int, default=0)
    ap.add_argument("--log", default=None)
    a = ap.parse_args()
    bad_at = {int(x) for x in a.bad_at.split(",") if x}
    cl = Cluster(a.members, a.off_member)
    sel = selectors.DefaultSelector()
    clients = {}

    def listen():
        try:
            os.unlink(a.socket)
        except FileNotFoundError:
            pass
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(a.socket + ".tmp")
        s.listen(8)
        os.rename(a.socket + ".tmp", a.socket)   # appears only when it accepts
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, "listen")
        return s

    def drop(c):
        sel.unregister(c)
        clients.pop(c, None)
        c.close()

    def send_all(data):
        for c in list(clients):
            try:
                c.sendall(data.encode())
            except OSError:
                drop(c)

    srv = listen()
    seq = 0
    next_t = time.monotonic()
    log = open(a.log, "a") if a.log else None
    while True:
        # the script starts with the first client, so that it sees every line
        timeout = max(0.0, next_t - time.monotonic()) if clients or seq else None
        for key, _ in sel.select(timeout):
            if key.data == "listen":
                c, _ = key.fileobj.accept()
                c.setblocking(False)
                clients[c] = b""
                sel.register(c, selectors.EVENT_READ, "client")
                continue
            c = key.fileobj
            try:
                data = c.recv(4096)
            except OSError:
                data = b""
            if not data:
                drop(c)
                continue
            clients[c] += data
            while b"\n" in clients[c]:
                raw, clients[c] = clients[c].split(b"\n", 1)
                try:
                    req = json.loads(raw)
                except ValueError:
                    continue
                if log:
                    log.write(json.dumps(req, sort_keys=True) + "\n")
                    log.flush()
                err = cl.control(req)
                rep = {"id": req.get("id"), "ok": err is None}
                if err:
                    rep["error"] = err
                try:
                    c.sendall((json.dumps(rep) + "\n").encode())
                except OSError:
                    drop(c)
        if seq == 0 and not clients:
            next_t = time.monotonic()
            continue
        if time.monotonic() < next_t:
            continue
        next_t += a.interval
        if seq in bad_at:
            send_all("this is not json\n")
        if seq == a.down_at:
            cl.members[a.down_member]["state"] = "down"
            cl.event("sgm_down", a.down_member)
        send_all(cl.line(seq))
        cl.t += 1.0
        if seq == a.vanish_at:
            send_all('{"schema":1,"t":')          # cut off mid-line
            for c in list(clients):
                drop(c)
            sel.unregister(srv)
            srv.close()
            os.unlink(a.socket)
            time.sleep(a.vanish_for)
            srv = listen()
            next_t = time.monotonic()
        seq += 1
        if a.lines and seq >= a.lines:
            break
    os.unlink(a.socket)


if __name__ == "__main__":
    sys.exit(main())
