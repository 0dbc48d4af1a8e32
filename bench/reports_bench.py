#!/usr/bin/env python3
"""Reports benchmark (issue 12): each report and the export over N orders in S shops.

  bench/run.sh reports | reports-sqlite | reports-pg   [--orders 1000000 --shops 10000 --n 200]

A fast generator writes the data straight into a database the server migrated (bulk inserts in
one transaction: executemany on SQLite, COPY on PostgreSQL; not HTTP): S shops, 20 S customers,
N orders spread over the last 365 days (every status; 1-3 dish lines each), of which
`--hot-share` (5 %) belong to shop 1, the measured shop (a busy shop: 50,000 orders a year at
the full size); the other shops share the rest evenly. Then, for shop 1, each endpoint is
asked `--n` times one after another over a kept-alive loopback connection: the four reports
for the app's 近30日 (today-30 .. yesterday) and for a whole year (today-365 .. today), the
export, and the workspace. p50/p99 of the reply time (the server's time plus ~0.1 ms of
loopback). Goal: < 50 ms per 30-day report of one shop on SQLite.

One JSON line per endpoint goes to bench/results/runs.jsonl (scenario "reports"). Only the
Python standard library.
"""
import argparse
import datetime as dt
import http.client
import json
import os
import random
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sky_bench as sb  # noqa: E402  (the shared helpers: server process, login, psql)

DAY_MS = 86_400_000
STATUSES = [5] * 16 + [6, 6, 1, 2, 3, 4]  # 73 % completed, 9 % cancelled, the rest in flight


def generate(args, now_ms):
    """Yields (users, orders, lines) as row tuples, deterministic for a seed."""
    rnd = random.Random(args.seed)
    users = [(u, f"bench-user-{u}", now_ms - 400 * DAY_MS) for u in range(1, 20 * args.shops + 1)]
    hot_users = max(1, len(users) // 10)
    orders, lines = [], []
    line_id = 0
    for oid in range(1, args.orders + 1):
        hot = rnd.random() < args.hot_share
        shop = 1 if hot or args.shops == 1 else rnd.randint(2, args.shops)
        user = rnd.randint(1, hot_users) if hot else rnd.randint(1, len(users))
        t = now_ms - rnd.randint(0, 365 * DAY_MS)
        status = rnd.choice(STATUSES)
        amount = rnd.randint(8, 300) * 100 + rnd.choice([0, 50])
        orders.append((oid, shop, f"b{oid}", status, user, 0, t, 1, 1 if status > 1 else 0, amount))
        for _ in range(rnd.randint(1, 3)):
            line_id += 1
            k = rnd.randint(1, 20)
            lines.append((line_id, oid, f"招牌菜{k}", rnd.randint(1, 3), amount // 3))
    return users, orders, lines


ORDER_COLS = "id, shop_id, number, status, user_id, address_book_id, order_time, pay_method, pay_status, amount"
LINE_COLS = "id, order_id, name, number, amount"


def fill_sqlite(path, args, now_ms):
    db = sqlite3.connect(path)
    users, orders, lines = generate(args, now_ms)
    t0 = time.time()
    with db:
        db.execute('DELETE FROM "user"')  # the login probe's customer; ids are ours from here
        db.executemany("INSERT INTO shop (id, name, status, alert_seq, created_at) VALUES (?, ?, 1, 0, ?)",
                       [(s, f"bench shop {s}", now_ms) for s in range(2, args.shops + 1)])
        db.executemany('INSERT INTO "user" (id, openid, created_at) VALUES (?, ?, ?)', users)
        db.executemany(f"INSERT INTO orders ({ORDER_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?)", orders)
        db.executemany(f"INSERT INTO order_detail ({LINE_COLS}) VALUES (?,?,?,?,?)", lines)
    db.execute("ANALYZE")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return time.time() - t0


def copy(table, cols, rows):
    out = [f"COPY {table} ({cols}) FROM stdin;"]
    out += ["\t".join(str(x) for x in r) for r in rows]
    out.append("\\.")
    return out


def fill_pg(name, args, now_ms):
    users, orders, lines = generate(args, now_ms)
    t0 = time.time()
    script = ["BEGIN;", 'DELETE FROM "user";']
    script += copy("shop", "id, name, status, alert_seq, created_at",
                   [(s, f"bench shop {s}", 1, 0, now_ms) for s in range(2, args.shops + 1)])
    script += copy('"user"', "id, openid, created_at", users)
    script += copy("orders", ORDER_COLS, orders)
    script += copy("order_detail", LINE_COLS, lines)
    for table in ("shop", "user", "orders", "order_detail"):
        script.append(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), (SELECT max(id) FROM \"{table}\"));")
    script += ["COMMIT;", "ANALYZE;"]
    sb.psql(name, stdin="\n".join(script) + "\n")
    return time.time() - t0


def timed(conn, path, token):
    t = time.perf_counter()
    conn.request("GET", path, headers={"token": token})
    r = conn.getresponse()
    body = r.read()
    ms = (time.perf_counter() - t) * 1000
    if r.status != 200 or (not path.endswith("/export") and json.loads(body).get("code") != 1):
        raise RuntimeError(f"{path}: HTTP {r.status} {body[:200]!r}")
    return ms


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def endpoints(today):
    d = lambda n: (today - dt.timedelta(days=n)).isoformat()  # noqa: E731
    month, year = f"begin={d(30)}&end={d(1)}", f"begin={d(365)}&end={d(0)}"
    out = []
    for report in ("turnoverStatistics", "userStatistics", "ordersStatistics", "top10"):
        out.append((f"{report} 30d", f"/admin/report/{report}?{month}"))
        out.append((f"{report} year", f"/admin/report/{report}?{year}"))
    out.append(("export 30d", "/admin/report/export"))
    for w in ("businessData", "overviewOrders", "overviewDishes", "overviewSetmeals"):
        out.append((w, f"/admin/workspace/{w}"))
    return out


def fresh_db(backend, stem):
    """An empty database for the server to migrate: (url, SQLite path or PostgreSQL name)."""
    os.makedirs(sb.DATA, exist_ok=True)
    if backend == "pg":
        return sb.pg_fresh(f"sky_bench_{stem}"), f"sky_bench_{stem}"
    path = os.path.join(sb.DATA, f"{stem}.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    return f"sqlite://{path}", path


def run(backend, args):
    now_ms = int(time.time() * 1000)
    url, path = fresh_db(backend, "reports")
    srv = sb.Ours(url, name=f"reports-{backend}")
    srv.start()  # migrations and shop 1 (the measured shop, with its demo menu)
    sb.login_tokens(sb.PORT)
    srv.stop()
    fill = fill_sqlite(path, args, now_ms) if backend == "sqlite" else fill_pg(path, args, now_ms)
    sb.log(f"{backend}: {args.orders} orders in {args.shops} shops written in {fill:.1f} s")
    srv.start()
    try:
        token = sb.login_tokens(sb.PORT)["merchant_token"]
        conn = http.client.HTTPConnection("127.0.0.1", sb.PORT, timeout=60)
        today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()  # the default zone
        rows = []
        for name, path in endpoints(today):
            for _ in range(args.warmup):
                timed(conn, path, token)
            xs = [timed(conn, path, token) for _ in range(args.n)]
            row = {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "scenario": "reports",
                   "session": args.session, "backend": backend, "endpoint": name, "orders": args.orders,
                   "shops": args.shops, "hot_share": args.hot_share, "n": args.n, "binary": sb.SKY_BIN,
                   "p50_ms": round(pct(xs, 50), 2), "p99_ms": round(pct(xs, 99), 2),
                   "max_ms": round(max(xs), 2), "machine": sb.machine()}
            rows.append(row)
            print(f"{backend:6} {name:26} p50 {row['p50_ms']:8.2f} ms   p99 {row['p99_ms']:8.2f} ms", flush=True)
        with open(os.path.join(sb.RESULTS, "runs.jsonl"), "a") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
    finally:
        srv.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("backend", choices=["both", "sqlite", "pg"])
    ap.add_argument("--orders", type=int, default=1_000_000)
    ap.add_argument("--shops", type=int, default=10_000)
    ap.add_argument("--hot-share", type=float, default=0.05, help="share of the orders in shop 1 (measured)")
    ap.add_argument("--n", type=int, default=200, help="requests per endpoint")
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--session", default=os.environ.get("SKY_BENCH_SESSION", time.strftime("%Y%m%d")))
    args = ap.parse_args()
    os.makedirs(sb.RESULTS, exist_ok=True)
    for backend in (["sqlite", "pg"] if args.backend == "both" else [args.backend]):
        run(backend, args)


if __name__ == "__main__":
    main()
