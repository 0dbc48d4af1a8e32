#!/usr/bin/env python3
"""Crash loop: `kill -9` of the server at random moments while payers place and pay orders
and screens listen on /ws/v2/alerts, then one last start and a bounded catch-up; checks that
nothing was lost, duplicated or corrupted.

    scripts/faults/crashloop.py --backend sqlite --kills 1000
    scripts/faults/crashloop.py --backend postgres --kills 1000    # a fresh database on 5432

Each cycle: start the server, wait for /healthz, let it run a random 50-500 ms, SIGKILL.
Figures printed as one JSON line at the end (and the process exits non-zero on any loss):
  paid_without_alert   acknowledged payments whose order has no type-1 alert row (SQL)
  undelivered          alert rows of shop 1 that no screen received after the last restart
  dup_on_socket        a seq delivered twice on one connection (summed over screens)
  dup_across           a seq at or below the screen's lastSeq after a reconnect
  integrity            PRAGMA integrity_check (SQLite) / amcheck over the indexes (PostgreSQL)
  invariants           the snapshot invariants of tests/fuzz (each count must be 0)
"""

import argparse
import asyncio
import json
import random
import time

import faultlib as f


async def main(a):
    work = f.new_work(f"crash-{a.backend}")
    if a.backend == "sqlite":
        url = f"sqlite://{work}/sky.db"
    else:
        url = f.pg_create_database(a.pg_admin, f"sky_faults_crash_{int(time.time())}")
    port = f.free_port()
    server = f.Server(port, url, work, env={"SKY_SHUTDOWN_SECS": "2", "SKY_REALERT_DELAY_SECS": str(a.realert_delay)})
    server.start()
    server.wait_up()
    token = await f.merchant_token(port)
    screens = [f.Screen(f"s{i}", [port], token, max_backoff=0.3) for i in range(a.screens)]
    payers = f.Payers([port], n=a.payers)
    tasks = [asyncio.create_task(s.run()) for s in screens] + [asyncio.create_task(payers.run())]
    f.log(f"crash loop on {a.backend}: {a.kills} kills, {a.screens} screens, {a.payers} payers; {f.uptime()}")
    started = time.monotonic()
    up_times = []
    for i in range(a.kills):
        if not server.alive():
            server.start()
        t0 = time.monotonic()
        await asyncio.get_running_loop().run_in_executor(None, server.wait_up, 60.0)
        up_times.append(time.monotonic() - t0)
        await asyncio.sleep(random.uniform(0.05, 0.5))
        server.kill9()
        if (i + 1) % 100 == 0:
            f.log(f"{i + 1} kills, {len(payers.paid)} payments acknowledged, {f.uptime()}")
        if time.monotonic() - started > a.max_secs:
            f.log(f"stopping at {i + 1} kills: --max-secs {a.max_secs} reached")
            break
    kills = i + 1
    loop_secs = time.monotonic() - started
    # The last start: payers stop, screens catch up.
    payers.stopped = True
    server.start()
    back = server.wait_up()
    db = f.Db(url)
    await asyncio.sleep(1.0)
    deadline = time.monotonic() + a.catch_up_secs
    caught_at = None
    while time.monotonic() < deadline:
        seq = int(db.scalar("SELECT alert_seq FROM shop WHERE id = 1"))
        if all(s.last_seq >= seq and s.live for s in screens):
            caught_at = time.monotonic()
            break
        await asyncio.sleep(0.1)
    seq = int(db.scalar("SELECT alert_seq FROM shop WHERE id = 1"))
    for s in screens:
        s.stopped = True
    for t in tasks:
        t.cancel()
    all_seqs = set(range(1, seq + 1))
    acknowledged = list(payers.paid)
    not_paid, missing_alert = db.acknowledged_check(acknowledged)
    server.stop()
    result = {
        "fault": "crash-loop", "backend": a.backend, "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "kills": kills, "loop_secs": round(loop_secs, 1),
        "restart_to_healthz_ms_median": round(sorted(up_times)[len(up_times) // 2] * 1000, 1),
        "restart_to_healthz_ms_max": round(max(up_times) * 1000, 1),
        "payments_acknowledged": len(acknowledged), "orders": int(db.scalar("SELECT COUNT(*) FROM orders")),
        "paid_orders": int(db.scalar("SELECT COUNT(*) FROM orders WHERE checkout_time IS NOT NULL")),
        "alert_rows": int(db.scalar("SELECT COUNT(*) FROM alert_log")),
        "acknowledged_but_not_paid": not_paid, "paid_without_alert": missing_alert,
        "screens": len(screens),
        "undelivered": sum(len(all_seqs - s.seen) for s in screens),
        "undelivered_to_every_screen": len(all_seqs - set().union(*(s.seen for s in screens))),
        "dup_on_socket": sum(s.dup_on_socket for s in screens),
        "dup_across": sum(s.dup_across for s in screens),
        "truncated_notices": sum(s.truncated for s in screens),
        "screen_connections": sum(s.connections for s in screens),
        "last_restart_to_all_caught_up_s": None if caught_at is None else round(caught_at - back, 2),
        "integrity": db.integrity(), "invariants": db.invariants(),
        "server_panics": server.panics(), "payer_errors": payers.errors,
        "load": f.uptime(),
    }
    print(json.dumps(result, ensure_ascii=False))
    bad = (not_paid or missing_alert or result["undelivered"] or result["dup_on_socket"] or result["dup_across"]
           or result["integrity"] != "ok" or any(result["invariants"].values()) or result["server_panics"])
    return 1 if bad else 0


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument("--kills", type=int, default=1000)
    p.add_argument("--screens", type=int, default=6)
    p.add_argument("--payers", type=int, default=4)
    p.add_argument("--max-secs", type=float, default=1800, help="stop the loop early after this long")
    p.add_argument("--catch-up-secs", type=float, default=60)
    p.add_argument("--realert-delay", type=int, default=0,
                   help="SKY_REALERT_DELAY_SECS (0: no re-alerts, so the log stops growing once payers stop)")
    p.add_argument("--pg-admin", default="postgres://postgres@127.0.0.1:5432/test")
    raise SystemExit(asyncio.run(main(p.parse_args())))
