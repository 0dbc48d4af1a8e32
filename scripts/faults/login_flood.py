#!/usr/bin/env python3
"""Login flood: --rate wrong-password merchant logins per second for --secs seconds, while a
probe measures other requests (a merchant's order search and a customer's shop status, one
at a time, ~40/s); the same probe first runs on the quiet server for the baseline.

    scripts/faults/login_flood.py --mode one-address     # every login from 127.0.0.1
    scripts/faults/login_flood.py --mode many-addresses  # every login from another address

`one-address`: the defaults; the per-address limit locks 127.0.0.1 after 50 failures, so the
flood is refused before any hashing. `many-addresses`: SKY_TRUSTED_PROXIES=127.0.0.1 and a
fresh X-Real-IP and user name per login, the worst case: every login reaches the password
gate (2 x cores verifications at once, a bounded wait). The flood runs in --procs processes of
keep-alive connections.

Prints one JSON line: the rate reached, what the logins answered, the server's RSS before and
its peak (VmHWM) and the RSS after 10 s idle, and the probe's p50/p99 quiet and under flood.
"""

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import time

import faultlib as f


class KeepAlive:
    def __init__(self, port):
        self.port = port
        self.r = self.w = None

    async def request(self, method, path, body=b"", headers=None):
        for attempt in range(2):
            try:
                if self.w is None:
                    self.r, self.w = await asyncio.open_connection("127.0.0.1", self.port)
                h = f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n"
                if body:
                    h += "Content-Type: application/json\r\n"
                for k, v in (headers or {}).items():
                    h += f"{k}: {v}\r\n"
                self.w.write(h.encode() + b"\r\n" + body)
                await self.w.drain()
                head = await self.r.readuntil(b"\r\n\r\n")
                n = 0
                close = False
                for line in head.split(b"\r\n")[1:]:
                    k, _, v = line.partition(b":")
                    if k.lower() == b"content-length":
                        n = int(v)
                    if k.lower() == b"connection" and v.strip().lower() == b"close":
                        close = True
                data = await self.r.readexactly(n)
                if close:
                    self.w.close()
                    self.w = None
                return int(head.split(b" ", 2)[1]), data
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                if self.w:
                    self.w.close()
                self.w = None
                if attempt:
                    raise
        raise OSError("unreachable")


def flood_proc(port, rate, secs, many, conns, out):
    async def run():
        answers = {}
        sent = 0
        end = time.monotonic() + secs
        per_conn = rate / conns

        async def worker(i):
            nonlocal sent
            c = KeepAlive(port)
            k = 0
            start = time.monotonic()
            while time.monotonic() < end:
                k += 1
                due = start + k / per_conn
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                user = f"u{random.getrandbits(40):x}" if many else "admin"
                headers = {"X-Real-IP": f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"} if many else {}
                body = json.dumps({"username": user, "password": "wrong-password"}).encode()
                try:
                    st, data = await asyncio.wait_for(c.request("POST", "/admin/employee/login", body, headers), 30)
                    try:
                        msg = json.loads(data).get("msg")
                    except ValueError:
                        msg = None
                    key = f"HTTP {st} {msg}"
                except (OSError, asyncio.TimeoutError):
                    key = "connection error"
                answers[key] = answers.get(key, 0) + 1
                sent += 1
        await asyncio.gather(*(worker(i) for i in range(conns)))
        out.put((sent, answers))
    asyncio.run(run())


async def probe(port, token, ctoken, secs):
    a, b = KeepAlive(port), KeepAlive(port)
    lat = []
    errors = 0
    end = time.monotonic() + secs
    while time.monotonic() < end:
        for c, path, h in ((a, "/admin/order/conditionSearch?page=1&pageSize=10", {"token": token}),
                           (b, "/user/shop/status", {"authentication": ctoken})):
            t = time.monotonic()
            try:
                st, _ = await asyncio.wait_for(c.request("GET", path, headers=h), 30)
                if st != 200:
                    errors += 1
            except (OSError, asyncio.TimeoutError):
                errors += 1
            lat.append((time.monotonic() - t) * 1000)
        await asyncio.sleep(0.05)
    lat.sort()
    return {"n": len(lat), "p50_ms": round(lat[len(lat) // 2], 2), "p99_ms": round(lat[int(len(lat) * 0.99)], 2),
            "max_ms": round(lat[-1], 2), "errors": errors}


async def main(a):
    work = f.new_work(f"login-{a.mode}")
    env = {"SKY_TRUSTED_PROXIES": "127.0.0.1"} if a.mode == "many-addresses" else {}
    server = f.Server(f.free_port(), f"sqlite://{work}/sky.db", work, env=env)
    server.start()
    server.wait_up()
    token = await f.merchant_token(server.port)
    _, v = await f.http(server.port, "POST", "/user/user/login", {"code": "probe"})
    ctoken = v["data"]["token"]
    await asyncio.sleep(2)
    rss0, hwm0 = f.rss_mib(server.proc.pid)
    quiet = await probe(server.port, token, ctoken, a.quiet_secs)
    f.log(f"quiet probe {quiet}; flooding {a.rate}/s for {a.secs}s ({a.mode}); {f.uptime()}")
    q = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=flood_proc, args=(server.port, a.rate / a.procs, a.secs, a.mode == "many-addresses", a.conns, q))
             for _ in range(a.procs)]
    t0 = time.monotonic()
    for p in procs:
        p.start()
    peak_rss = 0.0

    async def sample():
        nonlocal peak_rss
        while any(p.is_alive() for p in procs):
            peak_rss = max(peak_rss, f.rss_mib(server.proc.pid)[0])
            await asyncio.sleep(0.1)

    sampler = asyncio.create_task(sample())
    loaded = await probe(server.port, token, ctoken, a.secs)
    results = [await asyncio.get_running_loop().run_in_executor(None, q.get) for _ in procs]
    elapsed = time.monotonic() - t0
    for p in procs:
        p.join(timeout=30)
    await sampler
    rss1, hwm1 = f.rss_mib(server.proc.pid)
    await asyncio.sleep(10)
    rss_idle, _ = f.rss_mib(server.proc.pid)
    sent = sum(r[0] for r in results)
    answers = {}
    for _, ans in results:
        for k, v in ans.items():
            answers[k] = answers.get(k, 0) + v
    result = {
        "fault": f"login-flood-{a.mode}", "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "target_rate": a.rate, "secs": a.secs, "logins_sent": sent, "rate_reached": round(sent / elapsed),
        "answers": answers,
        "rss_before_mib": rss0, "rss_peak_sampled_mib": peak_rss, "vmhwm_before_mib": hwm0, "vmhwm_after_mib": hwm1,
        "rss_after_10s_idle_mib": rss_idle,
        "probe_quiet": quiet, "probe_under_flood": loaded,
        "p99_ratio": round(loaded["p99_ms"] / max(quiet["p99_ms"], 0.01), 2),
        "server_alive": server.alive(), "server_panics": server.panics(), "load": f.uptime(),
    }
    server.stop()
    print(json.dumps(result, ensure_ascii=False))
    return 0 if result["server_alive"] and not result["server_panics"] else 1


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mode", choices=["one-address", "many-addresses"], default="one-address")
    p.add_argument("--rate", type=float, default=2000)
    p.add_argument("--secs", type=float, default=30)
    p.add_argument("--quiet-secs", type=float, default=10)
    p.add_argument("--procs", type=int, default=2)
    p.add_argument("--conns", type=int, default=64, help="keep-alive connections per process")
    raise SystemExit(asyncio.run(main(p.parse_args())))
