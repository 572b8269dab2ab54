#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""baton-gateway sim --serve, black box: a reader and a controller on the
UNIX socket (contracts 2 and 3), a member failed by command, its event in
the stream and in the capture set, a clean exit."""
import atexit
import json
import shutil
import os
import socket
import subprocess
import sys
import tempfile
import time

gw = sys.argv[1]
tmp = tempfile.mkdtemp(prefix="bt-gwserve-")
sock = os.path.join(tmp, "s.sock")
out = os.path.join(tmp, "cap")
proc = subprocess.Popen([gw, "sim", "--out", out, "--serve", sock, "--speed", "4",
                         "--flows", "3000", "--cps", "1000", "--exchanges", "10",
                         "--stats-interval", "250ms", "--duration", "5s"],
                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def cleanup():
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    shutil.rmtree(tmp, ignore_errors=True)


atexit.register(cleanup)


def connect():
    for _ in range(200):
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(sock)
            return s
        except OSError:
            time.sleep(0.02)
    sys.exit("no socket")


def lines(f, until, limit=10.0):
    end = time.time() + limit
    while time.time() < end:
        line = f.readline()
        if not line:
            return None
        obj = json.loads(line)
        if until(obj):
            return obj
    return None


ok = True
ctl, rd = connect(), connect()
cf, rf = ctl.makefile("rw"), rd.makefile("r")
first = lines(rf, lambda o: "schema" in o)
assert first and first["schema"] == 1 and first["cluster"]["members_total"] == 4, first
assert all(k in first["sgms"][0] for k in ("cpu", "corrections_pps", "sync_tx_bps", "state")), first
cf.write(json.dumps({"id": 1, "cmd": "fail", "sgm": 3}) + "\n")
cf.write(json.dumps({"id": 2, "cmd": "fail", "sgm": 42}) + "\n")
cf.write("not json\n")
cf.flush()
ans = [lines(cf, lambda o: "ok" in o) for _ in range(3)]
if ans[0] != {"id": 1, "ok": True}:
    print("FAIL answer 1:", ans[0]); ok = False
if not ans[1] or ans[1]["ok"] or "sgm" not in ans[1]["error"]:
    print("FAIL answer 2:", ans[1]); ok = False
if not ans[2] or ans[2]["ok"] or ans[2]["id"] is not None:
    print("FAIL answer 3:", ans[2]); ok = False
down = lines(rf, lambda o: any(e["event"] == "sgm_down" and e["sgm"] == 3 for e in o.get("events", [])))
if not down:
    print("FAIL: no sgm_down in the stream"); ok = False
later = lines(rf, lambda o: o["cluster"]["members_up"] == 3)
if not later or later["sgms"][2]["state"] != "down":
    print("FAIL: member 3 not down in the stream:", later); ok = False
# the reader saw no answers (they go to the connection that asked)
ctl.close()
rd.close()
rc = proc.wait(timeout=30)
err = proc.stderr.read().decode()
if rc != 0:
    print("FAIL: exit", rc, err); ok = False
evs = [json.loads(l) for l in open(os.path.join(out, "events.jsonl"))]
if [(e["event"], e["sgm"]) for e in evs] != [("sgm_down", 3)]:
    print("FAIL events.jsonl:", evs); ok = False
if os.path.exists(sock):
    print("FAIL: socket left behind"); ok = False
print("ok   serve" if ok else "FAIL serve")
sys.exit(0 if ok else 1)
