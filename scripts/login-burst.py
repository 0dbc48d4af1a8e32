#!/usr/bin/env python3
"""Memory of the server around a burst of wrong-password merchant logins (loopback only).

Starts the binary on a free port with a fresh SQLite database, fires TOTAL logins with
CONCURRENCY at a time (each a new connection, as a flood would), and prints the server's
resident memory (VmRSS) and peak (VmHWM) before, right after, and after IDLE seconds, with
what the logins answered.

    scripts/login-burst.py --bin target/debug/sky-takeout --total 200 --concurrency 200
    scripts/login-burst.py --total 1200 --concurrency 4 --idle 15
    scripts/login-burst.py --env SKY_LOGIN_MAX_FAILURES_PER_ADDR=1000000   # measure the gate alone

By default each login names another user, so the per-account lockout does not stop the
flood; the per-address limit (50 by default) does, which is the throttle working; raise it
with --env to measure hashing under the gate.
"""

import argparse
import collections
import concurrent.futures
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mem(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = round(int(value.split()[0]) / 1024, 1)
    return out


def login(port, username):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        body = json.dumps({"username": username, "password": "wrong-password"})
        conn.request("POST", "/admin/employee/login", body, {"content-type": "application/json"})
        resp = conn.getresponse()
        data = resp.read()
        try:
            return json.loads(data).get("msg") or "ok"
        except ValueError:
            return f"HTTP {resp.status}"
    except OSError as e:
        return f"error: {type(e).__name__}"
    finally:
        conn.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default="target/debug/sky-takeout")
    ap.add_argument("--total", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=200)
    ap.add_argument("--idle", type=float, default=15)
    ap.add_argument("--same-user", action="store_true", help="every login names admin")
    ap.add_argument("--env", action="append", default=[], help="KEY=VALUE for the server")
    a = ap.parse_args()
    if a.total > 100_000 or a.concurrency > 2_000:
        sys.exit("bounded: at most 100,000 logins, 2,000 at once")
    port = free_port()
    with tempfile.TemporaryDirectory() as d:
        env = dict(os.environ, SKY_LISTEN=f"127.0.0.1:{port}", DATABASE_URL=f"sqlite://{d}/burst.db",
                   SKY_ADMIN_PASSWORD="admin-pass-123", RUST_LOG="warn")
        env.update(kv.split("=", 1) for kv in a.env)
        server = subprocess.Popen([a.bin], env=env, stdout=subprocess.DEVNULL)
        try:
            for _ in range(300):
                try:
                    c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                    c.request("GET", "/healthz")
                    if c.getresponse().status == 200:
                        break
                except OSError:
                    time.sleep(0.1)
            time.sleep(1)
            before = mem(server.pid)
            t0 = time.time()
            names = ["admin" if a.same_user else f"flood{n}" for n in range(a.total)]
            with concurrent.futures.ThreadPoolExecutor(a.concurrency) as pool:
                answers = collections.Counter(pool.map(lambda n: login(port, n), names))
            took = round(time.time() - t0, 2)
            after = mem(server.pid)
            time.sleep(a.idle)
            idle = mem(server.pid)
            print(json.dumps({
                "bin": a.bin, "total": a.total, "concurrency": a.concurrency, "env": a.env,
                "seconds": took, "answers": dict(answers),
                "rss_before_mib": before["VmRSS"], "peak_rss_mib": after["VmHWM"],
                "rss_after_mib": after["VmRSS"], f"rss_after_{a.idle:g}s_idle_mib": idle["VmRSS"],
            }, ensure_ascii=False))
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
