#!/usr/bin/env python3
"""Database outage: the server on a PostgreSQL cluster of our own (initdb in a temp dir, a
free port; the machine's 5432 is never touched), payers and screens running; the cluster is
stopped (`pg_ctl -m fast`) for --outage-secs and started again.

    scripts/faults/db_outage.py --outage-secs 15

Polls /readyz every 100 ms and prints (one JSON line): when it turned red and green again
relative to the stop and the start; what payments answered while the database was down
(HTTP status and message, counted); whether the server panicked or exited; alerts lost or
duplicated on the screens; and the invariants afterwards (nothing half-written).
"""

import argparse
import asyncio
import json
import time

import faultlib as f


async def readyz(port):
    try:
        st, _ = await f.http(port, "GET", "/readyz", timeout=2.0)
        return st
    except (OSError, asyncio.TimeoutError):
        return None


async def main(a):
    work = f.new_work("db-outage")
    pg = f.OwnPostgres(work)
    pg.start()
    url = f.pg_create_database(pg.url, "sky")
    port = f.free_port()
    server = f.Server(port, url, work)
    server.start()
    server.wait_up()
    token = await f.merchant_token(port)
    screens = [f.Screen(f"s{i}", [port], token) for i in range(a.screens)]
    payers = f.Payers([port], n=a.payers)
    tasks = [asyncio.create_task(s.run()) for s in screens] + [asyncio.create_task(payers.run())]
    f.log(f"database outage: {a.outage_secs}s; {f.uptime()}")
    await asyncio.sleep(a.warm_secs)
    samples = []   # (t, status)
    t0 = time.monotonic()

    async def poll(until):
        while time.monotonic() < until:
            samples.append((time.monotonic() - t0, await readyz(port)))
            await asyncio.sleep(0.1)

    await poll(time.monotonic() + 1)
    errors_before = dict(payers.errors)
    paid_before = len(payers.paid)
    stop_at = time.monotonic() - t0
    await asyncio.get_running_loop().run_in_executor(None, pg.stop)
    await poll(time.monotonic() + a.outage_secs)
    errors_during = {k: v - errors_before.get(k, 0) for k, v in payers.errors.items() if v - errors_before.get(k, 0)}
    paid_during = len(payers.paid) - paid_before
    start_at = time.monotonic() - t0
    await asyncio.get_running_loop().run_in_executor(None, pg.start)
    await poll(time.monotonic() + a.after_secs)
    payers.stopped = True
    db = f.Db(url)
    await asyncio.sleep(1)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        seq = int(db.scalar("SELECT alert_seq FROM shop WHERE id = 1"))
        if all(s.last_seq >= seq for s in screens):
            break
        await asyncio.sleep(0.1)
    seq = int(db.scalar("SELECT alert_seq FROM shop WHERE id = 1"))
    for s in screens:
        s.stopped = True
    for t in tasks:
        t.cancel()
    red = [t for t, st in samples if t > stop_at and st != 200]
    green_after = [t for t, st in samples if t > start_at and st == 200]
    all_seqs = set(range(1, seq + 1))
    unpaid_ack = 0
    for n in payers.paid:
        if db.scalar(f"SELECT COUNT(*) FROM orders WHERE number = '{n}' AND checkout_time IS NOT NULL") in ("0", 0):
            unpaid_ack += 1
    result = {
        "fault": "database-outage", "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "outage_secs": round(start_at - stop_at, 1),
        "readyz_red_after_stop_s": round(red[0] - stop_at, 2) if red else None,
        "readyz_green_after_start_s": round(green_after[0] - start_at, 2) if green_after else None,
        "readyz_during": sorted({str(st) for t, st in samples if stop_at < t < start_at}),
        "payments_during_outage_acknowledged": paid_during,
        "answers_during_outage": errors_during,
        "payments_total": len(payers.paid), "acknowledged_but_not_paid": unpaid_ack,
        "server_alive": server.alive(), "server_panics": server.panics(),
        "lost": len(all_seqs - set().union(*(s.seen for s in screens))),
        "dup_on_socket": sum(s.dup_on_socket for s in screens),
        "screen_closes": [s.closes for s in screens][:3],
        "invariants": db.invariants(), "load": f.uptime(),
    }
    server.stop()
    pg.stop()
    print(json.dumps(result, ensure_ascii=False))
    bad = (not result["server_alive"] or result["server_panics"] or result["lost"] or unpaid_ack
           or result["readyz_red_after_stop_s"] is None or result["readyz_green_after_start_s"] is None
           or any(result["invariants"].values()))
    return 1 if bad else 0


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--outage-secs", type=float, default=15)
    p.add_argument("--warm-secs", type=float, default=5)
    p.add_argument("--after-secs", type=float, default=10)
    p.add_argument("--screens", type=int, default=4)
    p.add_argument("--payers", type=int, default=4)
    raise SystemExit(asyncio.run(main(p.parse_args())))
