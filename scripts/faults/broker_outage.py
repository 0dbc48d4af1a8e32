#!/usr/bin/env python3
"""Broker outage: three instances on one PostgreSQL database with a broker of our own (Redis,
then NATS, on free ports; the machine's shared brokers are never touched), payers spread over
the instances, screens on each; the broker is stopped for --outage-secs under load and started
again on the same port.

    scripts/faults/broker_outage.py --broker redis
    scripts/faults/broker_outage.py --broker nats

Figures (one JSON line): payments acknowledged before, during and after; alerts lost (rows of
shop 1 some screen never received); duplicates on one socket; during the outage, the longest
time a screen was behind the database; and the time from the broker's return to the last
screen caught up.
"""

import argparse
import asyncio
import json
import os
import subprocess
import time

import faultlib as f


class OwnBroker:
    def __init__(self, kind, work):
        self.kind, self.work, self.port = kind, work, f.free_port()
        self.proc = None
        self.url = f"redis://127.0.0.1:{self.port}" if kind == "redis" else f"nats://127.0.0.1:{self.port}"

    def start(self):
        if self.kind == "redis":
            cmd = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        else:
            cmd = ["nats-server", "-a", "127.0.0.1", "-p", str(self.port)]
        self.proc = subprocess.Popen(cmd, cwd=self.work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.3)

    def stop(self):
        self.proc.kill()
        self.proc.wait(timeout=10)


async def behind(screens, db):
    seq = int(db.scalar("SELECT alert_seq FROM shop WHERE id = 1"))
    return seq, [seq - s.last_seq for s in screens]


async def main(a):
    work = f.new_work(f"broker-{a.broker}")
    url = f.pg_create_database(a.pg_admin, f"sky_faults_broker_{a.broker}_{int(time.time())}")
    broker = OwnBroker(a.broker, work)
    broker.start()
    servers = []
    for i in range(3):
        s = f.Server(f.free_port(), url, work, env={"SKY_BROKER": broker.url}, name=f"sky{i}")
        s.start()
        s.wait_up()
        servers.append(s)
    ports = [s.port for s in servers]
    token = await f.merchant_token(ports[0])
    screens = [f.Screen(f"s{i}", [ports[i % 3]], token) for i in range(a.screens)]
    payers = f.Payers(ports, n=a.payers)
    tasks = [asyncio.create_task(s.run()) for s in screens] + [asyncio.create_task(payers.run())]
    db = f.Db(url)
    f.log(f"broker outage ({a.broker}): 3 instances, {a.screens} screens, {a.payers} payers; {f.uptime()}")
    await asyncio.sleep(a.warm_secs)
    before = len(payers.paid)
    broker.stop()
    stopped = time.monotonic()
    worst_lag_s = 0.0
    behind_since = {}
    while time.monotonic() - stopped < a.outage_secs:
        seq, lags = await behind(screens, db)
        now = time.monotonic()
        for s, lag in zip(screens, lags):
            if lag > 0:
                behind_since.setdefault(s.name, now)
                worst_lag_s = max(worst_lag_s, now - behind_since[s.name])
            else:
                behind_since.pop(s.name, None)
        await asyncio.sleep(0.2)
    during = len(payers.paid) - before
    broker.start()
    back = time.monotonic()
    seq_at_return = int(db.scalar("SELECT alert_seq FROM shop WHERE id = 1"))
    f.log(f"broker back after {back - stopped:.1f}s; {during} payments during the outage")
    # Time from the broker's return until every screen has every alert committed by then.
    caught = None
    while time.monotonic() - back < 60:
        if all(s.last_seq >= seq_at_return for s in screens):
            caught = time.monotonic()
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(max(0.0, a.after_secs - (time.monotonic() - back)))
    payers.stopped = True
    await asyncio.sleep(1.0)
    level = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        seq, lags = await behind(screens, db)
        if all(x <= 0 for x in lags):
            level = time.monotonic()
            break
        await asyncio.sleep(0.05)
    seq = int(db.scalar("SELECT alert_seq FROM shop WHERE id = 1"))
    for s in screens:
        s.stopped = True
    for t in tasks:
        t.cancel()
    all_seqs = set(range(1, seq + 1))
    result = {
        "fault": f"broker-outage-{a.broker}", "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "instances": 3, "screens": len(screens), "outage_secs": round(back - stopped, 1),
        "payments_before": before, "payments_during": during, "payments_total": len(payers.paid),
        "alert_rows": int(db.scalar("SELECT COUNT(*) FROM alert_log")),
        "lost": len(all_seqs - set().union(*(s.seen for s in screens))),
        "undelivered_sum_over_screens": sum(len(all_seqs - s.seen) for s in screens),
        "dup_on_socket": sum(s.dup_on_socket for s in screens),
        "dup_across": sum(s.dup_across for s in screens),
        "worst_screen_behind_during_outage_s": round(worst_lag_s, 2),
        "broker_return_to_last_screen_caught_up_s": None if caught is None else round(caught - back, 2),
        "all_screens_level_at_end": level is not None,
        "screen_reconnects": sum(s.connections for s in screens) - len(screens),
        "invariants": db.invariants(), "server_panics": sum(s.panics() for s in servers),
        "payer_errors": payers.errors, "load": f.uptime(),
    }
    for s in servers:
        s.stop()
    broker.stop()
    print(json.dumps(result, ensure_ascii=False))
    return 1 if result["lost"] or result["dup_on_socket"] or result["server_panics"] or any(result["invariants"].values()) else 0


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--broker", choices=["redis", "nats"], default="redis")
    p.add_argument("--screens", type=int, default=9)
    p.add_argument("--payers", type=int, default=6)
    p.add_argument("--warm-secs", type=float, default=10)
    p.add_argument("--outage-secs", type=float, default=30)
    p.add_argument("--after-secs", type=float, default=10)
    p.add_argument("--pg-admin", default="postgres://postgres@127.0.0.1:5432/test")
    raise SystemExit(asyncio.run(main(p.parse_args())))
