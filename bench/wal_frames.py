#!/usr/bin/env python3
"""How many SQLite log (WAL) pages does a paid order write? (BENCHMARKS.md §7, round seven)

Copies a marketplace database (`bench/sky_bench.py marketplace-sqlite` leaves one in
$SKY_BENCH_DATA/mp-sqlite.db), makes half its orders payable again, and replays the SQLite
writer's payment job (the order's update, its id read back, the shop's sequence, the alert
row) for 400 random orders, `batch` orders per transaction (each under a savepoint when
batched, as the writer does). Prints the log frames appended per order. Variants drop one
index, or rebuild the alert log with or without AUTOINCREMENT (both rebuilt alike, so the
indexes' fill is the same).

    python3 bench/wal_frames.py [--db PATH] [--rowid]
"""
import argparse
import os
import re
import shutil
import sqlite3

ap = argparse.ArgumentParser()
ap.add_argument("--db", default=os.path.join(os.environ.get("SKY_BENCH_DATA", "/tmp/sky-bench"), "mp-sqlite.db"))
ap.add_argument("--out", default="/tmp/sky-wal-frames")
ap.add_argument("--rowid", action="store_true", help="compare the alert log with and without AUTOINCREMENT")
args = ap.parse_args()
os.makedirs(args.out, exist_ok=True)

def rebuild(auto):
    """The alert log rebuilt from its own definition, with or without AUTOINCREMENT."""
    def ddl(c):
        table = c.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'alert_log'").fetchone()[0]
        table = table.replace(" AUTOINCREMENT", "")
        if auto:
            table = table.replace("INTEGER PRIMARY KEY", "INTEGER PRIMARY KEY AUTOINCREMENT", 1)
        # (a renamed table's definition names it in quotes)
        table = re.sub(r'^CREATE TABLE "?alert_log"?', "CREATE TABLE alert_log_new", table)
        indexes = [r[0] for r in c.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'alert_log' AND sql IS NOT NULL")]
        return [table, "INSERT INTO alert_log_new SELECT * FROM alert_log", "DROP TABLE alert_log",
                "ALTER TABLE alert_log_new RENAME TO alert_log", *indexes]
    return ddl


def fresh(tag, ddl):
    db = os.path.join(args.out, f"{tag}.db")
    for s in ("", "-wal", "-shm"):
        if os.path.exists(db + s):
            os.remove(db + s)
    c = sqlite3.connect(args.db)
    c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    c.close()
    shutil.copy(args.db, db)
    c = sqlite3.connect(db, isolation_level=None)
    for p in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
        c.execute(f"PRAGMA {p}")
    for d in (ddl(c) if callable(ddl) else ddl):
        c.execute(d)
    c.execute("UPDATE orders SET status = 1, pay_status = 0 WHERE id % 2 = 0")
    c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    c.execute("PRAGMA wal_autocheckpoint = 0")
    return c, db


def run(tag, ddl=(), batch=1, n=400):
    c, db = fresh(tag, ddl)
    numbers = [r[0] for r in c.execute("SELECT number FROM orders WHERE status = 1 ORDER BY random() LIMIT ?", (n,))]
    wal = db + "-wal"
    before = os.path.getsize(wal) if os.path.exists(wal) else 0
    page = c.execute("PRAGMA page_size").fetchone()[0]
    for i in range(0, n, batch):
        c.execute("BEGIN IMMEDIATE")
        for num in numbers[i:i + batch]:
            if batch > 1:
                c.execute("SAVEPOINT job")
            c.execute("UPDATE orders SET status = 2, pay_status = 1, checkout_time = ?1, transaction_id = NULL, "
                      "last_alert_at = ?1 WHERE number = ?2 AND pay_status = 0 AND status IN (1)", (1, num))
            oid, sid = c.execute("SELECT id, shop_id FROM orders WHERE number = ?", (num,)).fetchone()
            c.execute("UPDATE shop SET alert_seq = alert_seq + 1 WHERE id = ?", (sid,))
            seq = c.execute("SELECT alert_seq FROM shop WHERE id = ?", (sid,)).fetchone()[0]
            c.execute("INSERT INTO alert_log (shop_id, seq, type, realert, order_id, order_number, content, created_at) "
                      "VALUES (?, ?, 1, 0, ?, ?, ?, 1)", (sid, seq, oid, num, "订单号：" + num))
            if batch > 1:
                c.execute("RELEASE job")
        c.execute("COMMIT")
    frames = (os.path.getsize(wal) - before) / (page + 24)
    print(f"{tag:28s} {batch:3d} orders per commit: {frames / n:5.2f} log frames per order")
    c.close()


if args.rowid:
    for b in (1, 4):
        run("rebuilt-autoincrement", rebuild(True), b)
        run("rebuilt-rowid", rebuild(False), b)
else:
    for b in (1, 8, 32):
        run("as-is", (), b)
    for name in ("orders_shop_status", "orders_status_time", "orders_shop_time", "alert_log_order",
                 "alert_log_unpublished"):
        run("without-" + name, [f"DROP INDEX IF EXISTS {name}"], 1)
