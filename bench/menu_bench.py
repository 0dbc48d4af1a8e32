#!/usr/bin/env python3
"""Menu and admin-page benchmark (issue 14, goal 4): requests/s and latency of the
mini-program's menu reads and the admin app's page queries with S shops in the database.

  bench/run.sh menu | menu-sqlite | menu-pg   [--shops 10000 --secs 10 --conns 64]

Data (SQL straight into a database the server migrated, one transaction: executemany on
SQLite, COPY through psql on PostgreSQL): shop 1 as the server seeds it (demo menu, `admin`),
then S - 1 more shops, each with a menu like the course's sample data: 8 categories (6 of
dishes, 2 of set meals), 30 dishes (3 stopped), 1-2 flavors on two dishes of three, 6 set
meals of 3 dishes each (1 stopped); 5 employees; 10 customers per shop; 30 orders per shop over
the last 30 days (the first four of today: awaiting acceptance, accepted, delivering,
completed; the rest of every status), 1-3 lines each.

Requests: each endpoint gets a list of 1,000 requests over random shops 2..S (uniform), with a
token of a random customer (`authentication`) or of a random shop's merchant (`token`, minted
with the bench's SKY_JWT_SECRET like bench/marketplace). A customer's shop is not in its token
(customer tokens carry shop 0): the mini-program names it with `?shopId=` on
`/user/category/list` and `/user/shop/status` (default 1, what the stock client gets), and the
dish and set-meal lists are keyed by the category id, which belongs to one shop.

For each endpoint:
 1. closed loop: one client, one kept-alive connection, the first `--n` requests of the list
    one after another (after 20 warm-ups); every reply must be HTTP 200, `code: 1` and carry
    data (a non-empty list or page where the page shows data); p50/p99;
 2. open keep-alive load: `wrk` (Debian's wrk 4.1, C, epoll; bench/menu.lua rotates the
    request list from a random offset per thread and checks every reply the same way),
    `--conns` connections over 2 threads for `--secs` s: requests/s, p50/p99 (wrk's
    per-request latency, closed loop per connection). A reply that is not HTTP 200 + code 1 +
    data counts as bad; the run fails when any is bad.

One JSON line per endpoint and backend into bench/results/runs.jsonl (scenario "menu").
"""
import argparse
import datetime as dt
import http.client
import json
import os
import random
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sky_bench as sb  # noqa: E402  (the shared helpers: server process, tokens, psql)
from reports_bench import copy, fresh_db, pct  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DAY_MS = 86_400_000
TZ_MS = 8 * 3600 * 1000  # the server's default zone (Asia/Shanghai)

DISH_MENU = [
    ("热菜", ["宫保鸡丁", "鱼香肉丝", "麻婆豆腐", "红烧肉", "辣子鸡"]),
    ("凉菜", ["口水鸡", "拍黄瓜", "凉拌木耳", "夫妻肺片", "皮蛋豆腐"]),
    ("汤羹", ["酸辣汤", "西红柿蛋汤", "鸡汤", "玉米排骨汤", "紫菜蛋花汤"]),
    ("主食", ["米饭", "扬州炒饭", "牛肉面", "鸡蛋饼", "水饺"]),
    ("小吃", ["春卷", "炸鸡翅", "烧卖", "锅贴", "麻团"]),
    ("饮品", ["酸梅汤", "豆浆", "可乐", "柠檬茶", "奶茶"]),
]
SETMEAL_MENU = [("人气套餐", ["单人川味套餐", "双人分享套餐", "家庭套餐"]),
                ("商务套餐", ["商务简餐", "商务双拼", "工作日午餐"])]
FLAVORS = [("辣度", '["不辣","微辣","中辣","重辣"]'), ("忌口", '["不要葱","不要蒜","不要香菜","不要辣"]'),
           ("甜味", '["无糖","少糖","半糖","多糖","全糖"]'), ("温度", '["热饮","常温","去冰","少冰","多冰"]')]
ORDER_STATUSES = [5] * 16 + [6, 6, 1, 2, 3, 4]
BASE = 1000  # ids of the generated rows start here (shop 1's seeded rows are below)
EMPLOYEES, CUSTOMERS, ORDERS = 5, 10, 30
CATS = len(DISH_MENU) + len(SETMEAL_MENU)
DISHES = sum(len(d) for _, d in DISH_MENU)
SETMEALS = sum(len(s) for _, s in SETMEAL_MENU)


def cat_id(shop, k):
    return BASE + (shop - 2) * CATS + k


def dish_id(shop, k):
    return BASE + (shop - 2) * DISHES + k


def setmeal_id(shop, k):
    return BASE + (shop - 2) * SETMEALS + k


def employee_id(shop, k):
    return BASE + (shop - 2) * EMPLOYEES + k


def dish_on_sale(k):
    return k % 5 != 4 or k >= 15  # the last dish of the first three categories is stopped


def generate(args, now_ms, pw_hash):
    """Rows per table, deterministic for a seed."""
    rnd = random.Random(args.seed)
    today0 = now_ms - (now_ms + TZ_MS) % DAY_MS  # local midnight
    t = {k: [] for k in ("shop", "category", "dish", "dish_flavor", "setmeal", "setmeal_dish",
                         "employee", "user", "orders", "order_detail")}
    flavor_id = setmeal_dish_id = order_id = line_id = BASE
    for s in range(2, args.shops + 1):
        created = now_ms - 90 * DAY_MS - s * 1000
        t["shop"].append((s, f"bench shop {s}", 1, 0, created))
        for k in range(EMPLOYEES):
            t["employee"].append((employee_id(s, k), s, f"m{s}-{k}", "管理员" if k == 0 else f"员工{k}",
                                  pw_hash, f"138{s:08d}"[:11], 1, created + k, created + k))
        for k, (name, _) in enumerate(DISH_MENU + SETMEAL_MENU):
            kind = 1 if k < len(DISH_MENU) else 2
            t["category"].append((cat_id(s, k), s, kind, name, k + 1, 1, created + k, created + k,
                                  employee_id(s, 0), employee_id(s, 0)))
        k = 0
        prices = {}
        for c, (_, names) in enumerate(DISH_MENU):
            for name in names:
                d = dish_id(s, k)
                price = rnd.randint(4, 80) * 100
                prices[d] = (name, price)
                t["dish"].append((d, s, cat_id(s, c), name, price, "", f"{name}，本店招牌",
                                  1 if dish_on_sale(k) else 0, created + k, created + k,
                                  employee_id(s, 0), employee_id(s, 0)))
                for f in range(2 - k % 3):
                    flavor_id += 1
                    fname, fval = FLAVORS[(k + f) % len(FLAVORS)]
                    t["dish_flavor"].append((flavor_id, d, fname, fval))
                k += 1
        on_sale = [d for d in prices if dish_on_sale(d - dish_id(s, 0))]
        k = 0
        for c, (_, names) in enumerate(SETMEAL_MENU):
            for name in names:
                m = setmeal_id(s, k)
                parts = rnd.sample(on_sale, 3)
                price = sum(prices[d][1] for d in parts) * 9 // 10
                t["setmeal"].append((m, s, cat_id(s, len(DISH_MENU) + c), name, price,
                                     0 if k == SETMEALS - 1 else 1, f"{name}，实惠", "",
                                     created + k, created + k, employee_id(s, 0), employee_id(s, 0)))
                for d in parts:
                    setmeal_dish_id += 1
                    t["setmeal_dish"].append((setmeal_dish_id, m, d, prices[d][0], prices[d][1], 1))
                k += 1
        first_user = BASE + (s - 2) * CUSTOMERS
        for u in range(CUSTOMERS):
            t["user"].append((first_user + u, f"bench-openid-{s}-{u}", now_ms - rnd.randint(0, 60) * DAY_MS))
        for o in range(ORDERS):
            order_id += 1
            if o < 4:  # today, so the dashboard's lists and counts show something
                status, when = [2, 3, 4, 5][o], today0 + rnd.randint(0, max(1, now_ms - today0 - 1))
            else:
                status, when = rnd.choice(ORDER_STATUSES), now_ms - rnd.randint(0, 30 * DAY_MS)
            user = first_user + rnd.randrange(CUSTOMERS)
            lines = rnd.sample(on_sale, rnd.randint(1, 3))
            amount = sum(prices[d][1] for d in lines) + 600
            t["orders"].append((order_id, s, f"m{order_id}", status, user, 0, when, 1,
                                1 if status > 1 else 0, amount, f"139{user % 100000000:08d}",
                                f"北京市海淀区{s}号", f"顾客{user}", f"顾客{user}"))
            for d in lines:
                line_id += 1
                t["order_detail"].append((line_id, order_id, prices[d][0], d, 1, prices[d][1]))
    return t


COLS = {
    "shop": "id, name, status, alert_seq, created_at",
    "category": "id, shop_id, type, name, sort, status, created_at, updated_at, create_user, update_user",
    "dish": "id, shop_id, category_id, name, price, image, description, status, created_at, updated_at, "
            "create_user, update_user",
    "dish_flavor": "id, dish_id, name, value",
    "setmeal": "id, shop_id, category_id, name, price, status, description, image, created_at, updated_at, "
               "create_user, update_user",
    "setmeal_dish": "id, setmeal_id, dish_id, name, price, copies",
    "employee": "id, shop_id, username, name, password_hash, phone, status, created_at, updated_at",
    "user": "id, openid, created_at",
    "orders": "id, shop_id, number, status, user_id, address_book_id, order_time, pay_method, pay_status, "
              "amount, phone, address, user_name, consignee",
    "order_detail": "id, order_id, name, dish_id, number, amount",
}


def fill_sqlite(path, args, now_ms):
    db = sqlite3.connect(path)
    pw = db.execute("SELECT password_hash FROM employee WHERE username = 'admin'").fetchone()[0]
    t = generate(args, now_ms, pw)
    t0 = time.time()
    with db:
        for table, rows in t.items():
            n = COLS[table].count(",") + 1
            db.executemany(f'INSERT INTO "{table}" ({COLS[table]}) VALUES ({",".join("?" * n)})', rows)
    db.execute("ANALYZE")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return t, time.time() - t0


def fill_pg(name, args, now_ms):
    pw = sb.psql(name, "SELECT password_hash FROM employee WHERE username = 'admin'").strip().splitlines()
    pw = [line.strip() for line in pw if line.strip().startswith("$")][0]
    t = generate(args, now_ms, pw)
    t0 = time.time()
    script = ["BEGIN;"]
    for table, rows in t.items():
        script += copy(f'"{table}"', COLS[table], rows)
    for table in t:
        script.append(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), (SELECT max(id) FROM \"{table}\"));")
    script += ["COMMIT;", "ANALYZE;"]
    sb.psql(name, stdin="\n".join(script) + "\n")
    return t, time.time() - t0


def request_lists(args):
    """(name, role, [(path, token)]) per endpoint, over random shops 2..S."""
    rnd = random.Random(args.seed + 1)
    shops = lambda: rnd.randint(2, args.shops)  # noqa: E731
    cust_tok, merch_tok = {}, {}

    def customer(s):  # a customer (of any shop: a customer token has no shop)
        u = BASE + rnd.randrange((args.shops - 1) * CUSTOMERS)
        if u not in cust_tok:
            cust_tok[u] = sb.mint_token(u, 0, "customer")
        return cust_tok[u]

    def merchant(s):
        e = employee_id(s, 0)
        if e not in merch_tok:
            merch_tok[e] = sb.mint_token(e, s, "merchant")
        return merch_tok[e]

    def on_sale_setmeal(s):
        return setmeal_id(s, rnd.randrange(SETMEALS - 1))

    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
    day = lambda n: (today - dt.timedelta(days=n)).isoformat()  # noqa: E731
    user = [
        ("user category/list", lambda s: f"/user/category/list?shopId={s}"),
        ("user dish/list", lambda s: f"/user/dish/list?categoryId={cat_id(s, rnd.randrange(len(DISH_MENU)))}"),
        ("user setmeal/list", lambda s: f"/user/setmeal/list?categoryId={cat_id(s, len(DISH_MENU) + rnd.randrange(2))}"),
        ("user setmeal/dish/{id}", lambda s: f"/user/setmeal/dish/{on_sale_setmeal(s)}"),
        ("user shop/status", lambda s: f"/user/shop/status?shopId={s}"),
    ]
    admin = [
        ("admin category/page", lambda s: "/admin/category/page?page=1&pageSize=10"),
        ("admin category/page type=2", lambda s: "/admin/category/page?page=1&pageSize=10&type=2"),
        ("admin dish/page", lambda s: "/admin/dish/page?page=1&pageSize=10&status="),
        ("admin dish/page name", lambda s: "/admin/dish/page?page=1&pageSize=10&name=%E9%B8%A1&status="),  # 鸡
        ("admin dish/page category", lambda s: f"/admin/dish/page?page=1&pageSize=10&categoryId="
                                               f"{cat_id(s, rnd.randrange(len(DISH_MENU)))}&status="),
        ("admin dish/page status=1 p2", lambda s: "/admin/dish/page?page=2&pageSize=10&status=1"),
        ("admin setmeal/page", lambda s: "/admin/setmeal/page?page=1&pageSize=10&status="),
        ("admin employee/page", lambda s: "/admin/employee/page?page=1&pageSize=10"),
        ("admin order/conditionSearch", lambda s: "/admin/order/conditionSearch?page=1&pageSize=10"),
        ("admin order/conditionSearch status=2", lambda s: "/admin/order/conditionSearch?page=1&pageSize=10&status=2"),
        ("admin order/conditionSearch 7 days", lambda s: "/admin/order/conditionSearch?page=1&pageSize=10&beginTime="
                                                         f"{day(7)}%2000:00:00&endTime={day(0)}%2023:59:59"),
        ("admin order/statistics", lambda s: "/admin/order/statistics"),
        ("admin workspace/businessData", lambda s: "/admin/workspace/businessData"),
        ("admin workspace/overviewOrders", lambda s: "/admin/workspace/overviewOrders"),
        ("admin workspace/overviewDishes", lambda s: "/admin/workspace/overviewDishes"),
        ("admin workspace/overviewSetmeals", lambda s: "/admin/workspace/overviewSetmeals"),
    ]
    out = []
    for endpoints, header, token in ((user, "authentication", customer), (admin, "token", merchant)):
        for name, path in endpoints:
            shops_ = [shops() for _ in range(args.list)]
            out.append((name, header, [(path(s), token(s)) for s in shops_]))
    return out


def check(path, status, body):
    """HTTP 200, code 1 and data where the page shows data; raises otherwise."""
    try:
        v = json.loads(body)
    except ValueError:
        v = None
    data = v.get("data") if isinstance(v, dict) else None
    empty = data is None or data == [] or (isinstance(data, dict) and data.get("records") == [])
    if status != 200 or not isinstance(v, dict) or v.get("code") != 1 or empty:
        raise RuntimeError(f"{path}: HTTP {status} {body[:300]!r}")


def closed_loop(reqs, header, n, warmup=20):
    conn = http.client.HTTPConnection("127.0.0.1", sb.PORT, timeout=60)
    xs = []
    for i in range(warmup + n):
        path, tok = reqs[i % len(reqs)]
        t = time.perf_counter()
        conn.request("GET", path, headers={header: tok})
        r = conn.getresponse()
        body = r.read()
        ms = (time.perf_counter() - t) * 1000
        check(path, r.status, body)
        if i >= warmup:
            xs.append(ms)
    conn.close()
    return xs


def wrk(reqs, header, args, tag):
    listf = os.path.join(sb.DATA, f"menu-{tag}.tsv")
    with open(listf, "w") as f:
        for path, tok in reqs:
            f.write(f"{path}\t{header}\t{tok}\n")
    cmd = ["wrk", "-t", str(args.threads), "-c", str(args.conns), "-d", f"{args.secs}s", "--timeout", "10s",
           "-s", os.path.join(HERE, "menu.lua"), f"http://127.0.0.1:{sb.PORT}", "--", listf]
    if sb.NICE:
        cmd = ["nice", "-n", str(sb.NICE)] + cmd
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=args.secs + 60)
    line = [x for x in r.stdout.splitlines() if x.startswith("MENUBENCH ")]
    if r.returncode != 0 or not line:
        raise RuntimeError(f"wrk failed: {r.stdout[-800:]} {r.stderr[-800:]}")
    res = json.loads(line[-1][len("MENUBENCH "):])
    if res["bad"] or res["errors"]:
        raise RuntimeError(f"{tag}: {res['bad']} bad replies, {res['errors']} socket errors; first: {res['first_bad']}")
    return res


def run(backend, args):
    now_ms = int(time.time() * 1000)
    url, path = fresh_db(backend, "menu")
    srv = sb.Ours(url, name=f"menu-{backend}")
    srv.start()  # migrations, shop 1 with its demo menu, `admin`
    sb.login_tokens(sb.PORT)
    srv.stop()
    t, fill = fill_sqlite(path, args, now_ms) if backend == "sqlite" else fill_pg(path, args, now_ms)
    counts = {k: len(v) for k, v in t.items()}
    sb.log(f"{backend}: {args.shops} shops written in {fill:.1f} s: {counts}")
    del t
    lists = request_lists(args)
    srv.start()
    rows = []
    try:
        for ep, header, reqs in lists:
            if args.only and not any(o in ep for o in args.only.split(",")):
                continue
            xs = closed_loop(reqs, header, args.n)
            load_before = open("/proc/loadavg").read().split()[:3]
            w = wrk(reqs, header, args, f"{backend}-{ep.replace(' ', '_').replace('/', '_')}")
            row = {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "scenario": "menu",
                   "session": args.session, "backend": backend, "endpoint": ep, "shops": args.shops,
                   "binary": sb.SKY_BIN, "n": args.n, "single_p50_ms": round(pct(xs, 50), 2),
                   "single_p99_ms": round(pct(xs, 99), 2), "conns": args.conns, "threads": args.threads,
                   "secs": args.secs, "requests": w["requests"], "rps": round(w["rps"]),
                   "p50_ms": round(w["p50_us"] / 1000, 2), "p99_ms": round(w["p99_us"] / 1000, 2),
                   "max_ms": round(w["max_us"] / 1000, 2), "bytes_per_reply": round(w["bytes"] / max(1, w["requests"])),
                   "loadavg_before": load_before, "machine": sb.machine()}
            rows.append(row)
            print(f"{backend:6} {ep:38} single p50 {row['single_p50_ms']:6.2f} p99 {row['single_p99_ms']:6.2f} ms | "
                  f"{args.conns} conns {row['rps']:7d} req/s p50 {row['p50_ms']:6.2f} p99 {row['p99_ms']:7.2f} ms"
                  f" | {row['bytes_per_reply']} B | load {' '.join(load_before)}", flush=True)
    finally:
        srv.stop()
        with open(os.path.join(sb.RESULTS, "runs.jsonl"), "a") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("backend", choices=["both", "sqlite", "pg"])
    ap.add_argument("--shops", type=int, default=10_000)
    ap.add_argument("--n", type=int, default=300, help="closed-loop requests per endpoint")
    ap.add_argument("--list", type=int, default=1000, help="distinct requests per endpoint")
    ap.add_argument("--conns", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--secs", type=int, default=10)
    ap.add_argument("--only", default="", help="comma-separated substrings of endpoint names")
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--session", default=os.environ.get("SKY_BENCH_SESSION", time.strftime("%Y%m%d")))
    args = ap.parse_args()
    os.makedirs(sb.RESULTS, exist_ok=True)
    if subprocess.run(["which", "wrk"], capture_output=True).returncode != 0:
        sys.exit("needs wrk: apt-get install wrk")
    for backend in (["sqlite", "pg"] if args.backend == "both" else [args.backend]):
        run(backend, args)


if __name__ == "__main__":
    main()
