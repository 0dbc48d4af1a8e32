#!/usr/bin/env python3
"""Reconnect storm: --screens screens of --shops shops, all connected, payers paying orders
across the shops; then the server is killed (a crash or a deploy) and started again on the same
port and database, and every screen reconnects at once. Measures how long until all are back,
what they lost, and the server's memory and descriptors.

    scripts/faults/reconnect_storm.py --screens 19000 --shops 200
    scripts/faults/reconnect_storm.py --backend postgres     # a fresh database on 5432

The screens run in --procs generator processes (each holds its shops' screens, under the
20,000 descriptors a process may have), from source addresses 127.0.0.1 ... 127.0.0.8 (the
reconnects need new ports while the old connections sit in TIME_WAIT). Two kinds:

* dashboard (/ws/v2/alerts, what static/alert-socket.js does): session cookie on the upgrade,
  `auth` with the largest seq it processed as `lastSeq` (omitted on the very first start),
  reconnect after any drop with full-jitter backoff, random(0, min(20 s, 0.5 s x 2^attempt)),
  the attempt count reset once a connection stayed up 10 s; a connect that fails before its
  `welcome` first asks GET /admin/employee/me (401 means stop, as the dashboard does); 15 s
  without a welcome or 60 s without a message is a dead link. A `truncated` notice fetches the
  left-out range from /admin/alerts as the dashboard does.
* stock page (/ws/{random sid}, the course's admin app): it never reconnects by itself; its
  `onerror` shows 服务器错误 and the merchant reloads the page after a human delay
  (--reload-min..--reload-max s): GET /admin/shop/status (as the page's Navbar does), then a new
  socket with a new random sid. A refused socket shows the same error: another reload.

Shops: every --legacy-every-th shop has only stock pages, the shop after it a mix (half and
half); all others only dashboards. Alerts are paid orders only (re-alerts off, no reminders),
so one alert is one (orderId, type 1) frame on the stock page.

What counts as lost:
  v2_missed            per dashboard: seqs of its shop after the `seq` of its first welcome up to
                       the shop's last seq that it never received (replay included)
  legacy_missed        per stock-page connection: alerts of its shop committed (created_at) more
                       than --margin s after its upgrade answered and more than --margin s
                       before it dropped that did not arrive on it
  legacy_shop_missed   per stock-page-only shop: alert rows that reached none of its pages (what
                       was raised while no page was open must come as the page's backlog)
  dup_on_socket        an alert twice on one connection (both kinds)
  legacy_redelivered   an alert a page got again on a later connection (not a loss; the server
                       records "received" within 200 ms, so a crash can resend)

Prints one JSON line at the end; exits non-zero on any loss, duplicate on a socket, screen not
back, panic or broken invariant.
"""

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import time

import faultlib as f

SOURCES = [f"127.0.0.{i}" for i in range(1, 9)]
ORIGIN = "http://localhost"


def pct(xs, p):
    if not xs:
        return None
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(len(xs) * p))], 2)


# ----------------------------------------------------------------------------- the screens

class Dashboard(f.Screen):
    """/ws/v2/alerts as static/alert-socket.js does it."""

    def __init__(self, name, port, token, shop, source):
        super().__init__(name, [port], token)
        self.port, self.shop, self.source = port, shop, source
        self.last_seq = None        # none yet: the first auth omits lastSeq
        self.first_seq = None       # the seq of the first welcome
        self.up_since = None        # time of the current connection's welcome
        self.welcomes = []          # time.time() of every welcome
        self.refusals = {}          # what a failed connect was answered
        self.unauthorized = False

    def _count(self, d, k):
        d[k] = d.get(k, 0) + 1

    async def run(self):
        attempt = 0
        headers = {"Cookie": f"sky_session={self.token}", "Origin": ORIGIN}
        while not self.stopped:
            welcomed = False
            started = None
            try:
                ws = await f.Ws.connect(self.port, "/ws/v2/alerts", headers, timeout=15.0, source=self.source)
            except ConnectionRefusedError as e:
                self._count(self.refusals, str(e).split(" ", 2)[1] if str(e).startswith("HTTP/") else "refused")
                ws = None
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError) as e:
                self._count(self.refusals, type(e).__name__)
                ws = None
            if ws is not None:
                self.connections += 1
                on_socket = set()
                try:
                    auth = {"type": "auth"}
                    if self.last_seq is not None:
                        auth["lastSeq"] = self.last_seq
                    await ws.send_text(json.dumps(auth))
                    while not self.stopped:
                        ev = json.loads(await asyncio.wait_for(ws.recv(), 60.0 if welcomed else 15.0))
                        e = ev.get("event")
                        if e == "welcome":
                            welcomed = True
                            started = self.up_since = time.time()
                            self.welcomes.append(started)
                            if self.first_seq is None:
                                self.first_seq = ev["seq"]
                            if self.last_seq is None or ev["seq"] < self.last_seq:
                                self.last_seq = ev["seq"]
                            self.live = True
                        elif e == "alert":
                            f.record_alert(self, on_socket, ev["seq"])
                        elif e == "truncated":
                            self.truncated += 1
                            await self.fetch_gap(self.port, ev["fromSeq"], ev["toSeq"])
                except f.WsClosed as c:
                    self._count(self.closes, c.code)
                    if c.code == 1013:
                        self._count(self.refusals, "1013")
                    if c.code in (4001, 4003):
                        self._count(self.closes, f"{c.code} {c.reason}")
                        self.unauthorized = self.stopped = True
                except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError):
                    self._count(self.closes, "drop")
                finally:
                    self.live = False
                    self.up_since = None
                    ws.close()
            if self.stopped:
                break
            if welcomed and time.time() - started >= 10.0:
                attempt = 0          # the dashboard's stableMs
            if not welcomed:
                try:
                    st, _ = await f.http(self.port, "GET", "/admin/employee/me", None, {"Cookie": f"sky_session={self.token}"},
                                         timeout=10.0, source=self.source)
                    if st == 401:
                        self.unauthorized = self.stopped = True
                        break
                except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError, IndexError):
                    pass     # unreachable: keep trying
            delay = random.random() * min(20.0, 0.5 * 2 ** attempt)
            attempt = min(attempt + 1, 30)
            await asyncio.sleep(delay)


class StockPage:
    """/ws/{sid} as the course's admin app uses it: one socket per page load; a drop or a
    refusal is followed by the merchant's reload after a human delay."""

    def __init__(self, name, port, token, shop, source, reload_min, reload_max):
        self.name, self.port, self.token, self.shop, self.source = name, port, token, shop, source
        self.reload = (reload_min, reload_max)
        self.conns = []            # [opened, closed or None, [(orderId, type), ...]]
        self.refusals = {}
        self.status_errors = 0
        self.up_since = None
        self.stopped = False

    async def run(self):
        h = {"Cookie": f"sky_session={self.token}", "Origin": ORIGIN}
        while not self.stopped:
            try:
                st, _ = await f.http(self.port, "GET", "/admin/shop/status", None, {"token": self.token}, timeout=10.0, source=self.source)
                if st != 200:
                    self.status_errors += 1
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError, IndexError):
                self.status_errors += 1
            sid = "%x" % random.getrandbits(48)
            try:
                ws = await f.Ws.connect(self.port, f"/ws/{sid}", h, timeout=30.0, source=self.source)
            except ConnectionRefusedError as e:
                k = str(e).split(" ", 2)[1] if str(e).startswith("HTTP/") else "refused"
                self.refusals[k] = self.refusals.get(k, 0) + 1
                ws = None
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError) as e:
                self.refusals[type(e).__name__] = self.refusals.get(type(e).__name__, 0) + 1
                ws = None
            if ws is not None:
                conn = [time.time(), None, []]
                self.conns.append(conn)
                self.up_since = conn[0]
                try:
                    while not self.stopped:
                        fr = json.loads(await ws.recv())
                        conn[2].append((fr["orderId"], fr["type"]))
                except (f.WsClosed, OSError, asyncio.IncompleteReadError, ValueError, KeyError):
                    pass
                finally:
                    if not self.stopped:
                        conn[1] = time.time()
                    self.up_since = None
                    ws.close()
            if self.stopped:
                break
            await asyncio.sleep(random.uniform(*self.reload))


# ----------------------------------------------------------------------------- a generator process

def generator(idx, port, url, specs, cfg, counts, t_drop, finish, out):
    """Runs the screens `specs` [(kind, shop, token, source)] until `finish`; then checks them
    against the alert log and puts one summary on `out`."""
    async def run():
        screens = []
        for k, (kind, shop, token, source) in enumerate(specs):
            name = f"p{idx}-{k}"
            if kind == "v2":
                screens.append(Dashboard(name, port, token, shop, source))
            else:
                screens.append(StockPage(name, port, token, shop, source, cfg["reload_min"], cfg["reload_max"]))
        tasks = []
        for s in screens:
            tasks.append(asyncio.create_task(s.run()))
            await asyncio.sleep(cfg["ramp_secs"] / max(1, len(screens)))
        while not finish.is_set():
            drop = t_drop.value
            up = sum(1 for s in screens if s.up_since is not None)
            back = sum(1 for s in screens if s.up_since is not None and drop and s.up_since > drop)
            counts[2 * idx], counts[2 * idx + 1] = up, back
            await asyncio.sleep(0.2)
        # Bounded catch-up: every live dashboard up to its shop's last seq.
        db = f.Db(url)
        last = {int(r[0]): int(r[1]) for r in db.rows("SELECT id, alert_seq FROM shop")}
        deadline = time.monotonic() + cfg["catch_up_secs"]
        dash = [s for s in screens if isinstance(s, Dashboard)]
        while time.monotonic() < deadline and not all(s.last_seq is not None and s.last_seq >= last[s.shop] for s in dash if not s.unauthorized):
            await asyncio.sleep(0.2)
        ended = time.time()
        for s in screens:
            s.stopped = True
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        shops = sorted({s.shop for s in screens})
        rows = db.rows("SELECT shop_id, seq, order_id, type, created_at FROM alert_log WHERE shop_id IN (%s)" % ",".join(map(str, shops)))
        by_shop = {}
        for shop, seq, oid, typ, created in rows:
            by_shop.setdefault(int(shop), []).append((int(seq), int(oid), int(typ), int(created) / 1000.0))
        drop = t_drop.value
        r = {"v2_missed": 0, "v2_missed_screens": 0, "legacy_missed": 0, "legacy_missed_conns": 0,
             "legacy_shop_missed": 0, "legacy_margin_excluded": 0, "dup_on_socket": 0, "dup_across": 0,
             "legacy_redelivered": 0, "truncated": 0, "unauthorized": 0, "v2_connections": 0,
             "legacy_connections": 0, "legacy_status_errors": 0, "refusals": {}, "closes": {},
             "back_v2": [], "back_legacy": [], "not_back": 0, "v2_delivered": 0, "legacy_delivered": 0,
             "missed_examples": []}

        def add(d, src):
            for k, v in src.items():
                d[str(k)] = d.get(str(k), 0) + v

        legacy_got = {}
        m = cfg["margin"]
        for s in screens:
            alerts = by_shop.get(s.shop, [])
            if isinstance(s, Dashboard):
                r["v2_connections"] += s.connections
                r["truncated"] += s.truncated
                r["unauthorized"] += s.unauthorized
                r["dup_on_socket"] += s.dup_on_socket
                r["dup_across"] += s.dup_across
                add(r["refusals"], s.refusals)
                add(r["closes"], s.closes)
                r["v2_delivered"] += len(s.seen)
                if s.first_seq is not None:
                    want = {a[0] for a in alerts if a[0] > s.first_seq}
                    miss = want - s.seen
                    r["v2_missed"] += len(miss)
                    r["v2_missed_screens"] += bool(miss)
                    if miss and len(r["missed_examples"]) < 5:
                        r["missed_examples"].append({"screen": s.name, "shop": s.shop, "seqs": sorted(miss)[:10]})
                after = [t for t in s.welcomes if t > drop]
                if after:
                    r["back_v2"].append(after[0])
                else:
                    r["not_back"] += 1
            else:
                r["legacy_connections"] += len(s.conns)
                r["legacy_status_errors"] += s.status_errors
                add(r["refusals"], s.refusals)
                got_before = set()
                for opened, closed, frames in s.conns:
                    got = set()
                    for fr in frames:
                        if fr in got:
                            r["dup_on_socket"] += 1
                        if fr in got_before:
                            r["legacy_redelivered"] += 1
                        got.add(fr)
                    r["legacy_delivered"] += len(frames)
                    closed = closed or ended
                    miss = 0
                    for seq, oid, typ, created in alerts:
                        if opened + m < created < closed - m:
                            if (oid, typ) not in got:
                                miss += 1
                        elif opened - m <= created <= opened + m or closed - m <= created <= closed + m:
                            r["legacy_margin_excluded"] += 1
                    r["legacy_missed"] += miss
                    r["legacy_missed_conns"] += bool(miss)
                    got_before |= got
                legacy_got.setdefault(s.shop, set()).update(got_before)
                after = [c[0] for c in s.conns if c[0] > drop]
                if after:
                    r["back_legacy"].append(after[0])
                else:
                    r["not_back"] += 1
        for shop in cfg["legacy_only_shops"]:
            if shop in legacy_got:
                r["legacy_shop_missed"] += sum(1 for a in by_shop.get(shop, []) if (a[1], a[2]) not in legacy_got[shop])
        out.put(r)
    asyncio.run(run())


# ----------------------------------------------------------------------------- shops

def make_shops(db, n):
    """Shops 2 .. n+1, each with one merchant (`storm<id>`, the admin's password), one category
    and one dish, written with SQL that both SQLite and PostgreSQL run."""
    last = n + 1
    now = int(time.time() * 1000)
    series = f"WITH RECURSIVE s(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM s WHERE i < {last}) "
    stmts = [
        series + f"INSERT INTO shop (id, name, status, alert_seq, created_at) SELECT i, 'storm shop ' || i, 1, 0, {now} FROM s",
        series + "INSERT INTO employee (id, shop_id, username, name, password_hash, created_at) "
                 f"SELECT 1000 + i, i, 'storm' || i, 'storm ' || i, (SELECT password_hash FROM employee WHERE username = 'admin'), {now} FROM s",
        series + "INSERT INTO category (id, shop_id, type, name, sort, status, created_at, updated_at) "
                 f"SELECT 1000 + i, i, 1, 'storm category', 0, 1, {now}, {now} FROM s",
        series + "INSERT INTO dish (id, shop_id, category_id, name, price, status, created_at, updated_at) "
                 f"SELECT 100000 + i, i, 1000 + i, 'storm dish', (SELECT price FROM dish WHERE id = 1), 1, {now}, {now} FROM s",
    ]
    if db.url.startswith("sqlite://"):
        import sqlite3
        con = sqlite3.connect(db.url[len("sqlite://"):].split("?")[0], timeout=30)
        with con:
            for q in stmts:
                con.execute(q)
        con.close()
    else:
        for q in stmts:
            db.rows(q)
    return list(range(2, last + 1)), {s: 100000 + s for s in range(2, last + 1)}


async def merchant_tokens(port, shops):
    sem = asyncio.Semaphore(8)

    async def one(s):
        async with sem:
            for attempt in range(5):
                try:
                    return s, await f.merchant_token(port, f"storm{s}")
                except (RuntimeError, OSError, asyncio.TimeoutError):
                    await asyncio.sleep(0.5 * (attempt + 1))
            raise RuntimeError(f"no token for shop {s}")
    return dict(await asyncio.gather(*(one(s) for s in shops)))


# ----------------------------------------------------------------------------- the run

def server_figures(pid):
    rss, hwm = f.rss_mib(pid)
    try:
        fds = len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        fds = 0
    return rss, hwm, fds


async def refusal_metrics(port):
    try:
        st, text = await f.http(port, "GET", "/metrics", timeout=10.0)
    except (OSError, asyncio.TimeoutError):
        return None
    out = {}
    for line in str(text).splitlines():
        if line.startswith("sky_connections_refused_total"):
            k, _, v = line.rpartition(" ")
            out[k[len("sky_connections_refused_total"):] or "all"] = int(float(v))
    return out


async def main(a):
    work = f.new_work(f"storm-{a.backend}")
    if a.backend == "sqlite":
        url = f"sqlite://{work}/sky.db"
    else:
        url = f.pg_create_database(a.pg_admin, f"sky_faults_storm_{int(time.time())}")
    port = f.free_port()
    env = {"SKY_SHUTDOWN_SECS": "2", "SKY_REALERT_DELAY_SECS": "0"}
    caps = {"SKY_MAX_CONNECTIONS": a.max_connections, "SKY_MAX_SOCKETS": a.max_sockets,
            "SKY_MAX_SOCKETS_PER_SHOP": a.max_sockets_per_shop, "SKY_MAX_HANDSHAKES": a.max_handshakes}
    env.update({k: str(v) for k, v in caps.items() if v is not None})
    server = f.Server(port, url, work, env=env)
    server.start()
    server.wait_up()
    db = f.Db(url)
    shops, dish_of = make_shops(db, a.shops)
    tokens = await merchant_tokens(port, shops)
    legacy_only = [s for i, s in enumerate(shops) if i % a.legacy_every == 0]
    mixed = [s for i, s in enumerate(shops) if i % a.legacy_every == 1]
    # Screens round-robin over the shops; each shop's screens live in one process.
    per_proc = [[] for _ in range(a.procs)]
    for k in range(a.screens):
        shop = shops[k % len(shops)]
        nth = k // len(shops)
        kind = "legacy" if shop in legacy_only or (shop in mixed and nth % 2 == 1) else "v2"
        per_proc[shops.index(shop) % a.procs].append((kind, shop, tokens[shop], SOURCES[k % len(SOURCES)]))
    n_legacy = sum(1 for p in per_proc for s in p if s[0] == "legacy")
    cfg = {"reload_min": a.reload_min, "reload_max": a.reload_max, "ramp_secs": a.ramp_secs,
           "catch_up_secs": a.catch_up_secs, "margin": a.margin, "legacy_only_shops": legacy_only}
    ctx = multiprocessing.get_context("fork")
    counts = ctx.Array("i", 2 * a.procs, lock=False)
    t_drop = ctx.Value("d", 0.0, lock=False)
    finish = ctx.Event()
    out = ctx.Queue()
    procs = [ctx.Process(target=generator, args=(i, port, url, per_proc[i], cfg, counts, t_drop, finish, out), daemon=True)
             for i in range(a.procs)]
    for p in procs:
        p.start()
    f.log(f"storm on {a.backend}: {a.screens} screens ({n_legacy} stock pages) of {a.shops} shops in {a.procs} processes; {f.uptime()}")

    def up():
        return sum(counts[2 * i] for i in range(a.procs))

    def back():
        return sum(counts[2 * i + 1] for i in range(a.procs))

    deadline = time.monotonic() + a.ramp_secs + a.connect_secs
    while up() < a.screens and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
    connected_before = up()
    f.log(f"{connected_before}/{a.screens} screens up; paying; {f.uptime()}")
    payers = f.Payers([port], n=a.payers, dishes=list(dish_of.values()), rate=a.pay_rate)
    pay_task = asyncio.create_task(payers.run())
    samples = []        # (time, phase, rss, fds)

    async def sample():
        while True:
            if server.alive():
                rss, _, fds = server_figures(server.proc.pid)
                samples.append((time.time(), phase, rss, fds))
            await asyncio.sleep(0.2)

    phase = "before"
    sampler = asyncio.create_task(sample())
    await asyncio.sleep(a.before_secs)
    rss_before, hwm_before, fds_before = server_figures(server.proc.pid)
    refused_before = await refusal_metrics(port)
    load_at_drop = f.uptime()
    # The drop: everyone at once.
    t_drop.value = time.time()
    if a.drop == "kill9":
        server.kill9()
    else:
        server.stop()
    killed_at = time.time()
    phase = "storm"
    await asyncio.sleep(a.down_secs)
    server.start()
    await asyncio.get_running_loop().run_in_executor(None, server.wait_up, 60.0)
    t_return = time.time()
    f.log(f"server back {t_return - killed_at:.2f} s after the drop; {f.uptime()}")
    all_back = None
    deadline = time.monotonic() + a.recover_secs
    progress = []
    while time.monotonic() < deadline:
        b = back()
        progress.append((round(time.time() - t_return, 1), b))
        if b >= connected_before:
            all_back = time.time() - t_return
            break
        await asyncio.sleep(0.2)
    f.log(f"{back()}/{connected_before} back after {time.time() - t_return:.1f} s; {f.uptime()}")
    phase = "after"
    await asyncio.sleep(a.after_secs)
    payers.stopped = True
    await asyncio.wait_for(pay_task, 30)
    phase = "settled"
    await asyncio.sleep(a.settle_secs)
    rss_settled, hwm_storm, fds_settled = server_figures(server.proc.pid)
    refused_after = await refusal_metrics(port)
    finish.set()
    results = [await asyncio.get_running_loop().run_in_executor(None, out.get, True, a.catch_up_secs + 300) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    sampler.cancel()
    server.stop()
    tot = {}
    for r in results:
        for k, v in r.items():
            if isinstance(v, dict):
                d = tot.setdefault(k, {})
                for kk, vv in v.items():
                    d[kk] = d.get(kk, 0) + vv
            elif isinstance(v, list):
                tot.setdefault(k, []).extend(v)
            else:
                tot[k] = tot.get(k, 0) + v
    back_v2 = [t - t_return for t in tot["back_v2"]]
    back_legacy = [t - t_return for t in tot["back_legacy"]]
    storm = [s for s in samples if s[1] == "storm"]
    paid = payers.paid_at
    not_paid, missing_alert = db.acknowledged_check(list(payers.paid))
    result = {
        "fault": "reconnect-storm", "backend": a.backend, "drop": a.drop,
        "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "screens": a.screens, "dashboards": a.screens - n_legacy, "stock_pages": n_legacy, "shops": a.shops,
        "stock_page_only_shops": len(legacy_only), "mixed_shops": len(mixed), "procs": a.procs,
        "caps": {k: v for k, v in caps.items() if v is not None} or "defaults",
        "connected_before_drop": connected_before,
        "server_down_s": round(t_return - killed_at, 2),
        "all_back_s": None if all_back is None else round(all_back, 2),
        "not_back": tot["not_back"],
        "dashboards_back_p50_s": pct(back_v2, 0.5), "dashboards_back_p99_s": pct(back_v2, 0.99),
        "dashboards_back_max_s": pct(back_v2, 1.0),
        "stock_pages_back_p50_s": pct(back_legacy, 0.5), "stock_pages_back_p99_s": pct(back_legacy, 0.99),
        "stock_pages_back_max_s": pct(back_legacy, 1.0),
        "back_progress": [p for i, p in enumerate(progress) if i % 10 == 0 or i == len(progress) - 1][:40],
        "payments_acknowledged": len(paid),
        "payments_before_during_after": [sum(1 for t in paid.values() if t < killed_at),
                                         sum(1 for t in paid.values() if killed_at <= t < t_return + (all_back or 0)),
                                         sum(1 for t in paid.values() if t >= t_return + (all_back or 0))],
        "acknowledged_but_not_paid": not_paid, "paid_without_alert": missing_alert,
        "alert_rows": int(db.scalar("SELECT COUNT(*) FROM alert_log")),
        "v2_missed": tot["v2_missed"], "v2_missed_screens": tot["v2_missed_screens"],
        "legacy_missed": tot["legacy_missed"], "legacy_missed_conns": tot["legacy_missed_conns"],
        "legacy_shop_missed": tot["legacy_shop_missed"], "legacy_margin_excluded": tot["legacy_margin_excluded"],
        "dup_on_socket": tot["dup_on_socket"], "dup_across": tot["dup_across"],
        "legacy_redelivered": tot["legacy_redelivered"], "truncated_notices": tot["truncated"],
        "v2_delivered": tot["v2_delivered"], "legacy_delivered": tot["legacy_delivered"],
        "v2_connections": tot["v2_connections"], "legacy_connections": tot["legacy_connections"],
        "legacy_status_errors": tot["legacy_status_errors"], "unauthorized": tot["unauthorized"],
        "client_refusals": tot["refusals"], "v2_closes": tot["closes"],
        "server_refusals_before_drop": refused_before, "server_refusals_after_storm": refused_after,
        "rss_before_drop_mib": rss_before, "vmhwm_before_drop_mib": hwm_before, "fds_before_drop": fds_before,
        "vmhwm_restarted_mib": hwm_storm, "rss_storm_peak_sampled_mib": max((s[2] for s in storm), default=None),
        "rss_settled_mib": rss_settled, "fds_storm_peak": max((s[3] for s in samples if s[1] in ("storm", "after")), default=None),
        "fds_settled": fds_settled,
        "missed_examples": tot["missed_examples"],
        "invariants": db.invariants(), "integrity": db.integrity(),
        "server_panics": server.panics(), "payer_errors": payers.errors,
        "load_at_drop": load_at_drop, "load": f.uptime(),
    }
    print(json.dumps(result, ensure_ascii=False))
    bad = (result["not_back"] or result["v2_missed"] or result["legacy_missed"] or result["legacy_shop_missed"]
           or result["dup_on_socket"] or result["dup_across"] or not_paid or missing_alert or result["unauthorized"]
           or result["integrity"] != "ok" or any(result["invariants"].values()) or result["server_panics"])
    return 1 if bad else 0


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument("--screens", type=int, default=19000)
    p.add_argument("--shops", type=int, default=200)
    p.add_argument("--procs", type=int, default=4, help="generator processes (each under 20,000 descriptors)")
    p.add_argument("--legacy-every", type=int, default=10,
                   help="every n-th shop has only stock pages, the shop after it half stock pages")
    p.add_argument("--payers", type=int, default=8)
    p.add_argument("--pay-rate", type=float, default=20, help="payments per second over all payers")
    p.add_argument("--drop", choices=["kill9", "term"], default="kill9",
                   help="kill9: a crash (bare TCP drops); term: a deploy (SIGTERM, close 1012)")
    p.add_argument("--down-secs", type=float, default=1.0, help="between the kill and the next start")
    p.add_argument("--ramp-secs", type=float, default=30, help="the screens' first connects spread over this")
    p.add_argument("--connect-secs", type=float, default=120, help="bound for all screens up before the drop")
    p.add_argument("--before-secs", type=float, default=10)
    p.add_argument("--recover-secs", type=float, default=180, help="bound for all screens back")
    p.add_argument("--after-secs", type=float, default=15)
    p.add_argument("--settle-secs", type=float, default=10, help="idle after the payers stop, then RSS settled")
    p.add_argument("--catch-up-secs", type=float, default=60)
    p.add_argument("--reload-min", type=float, default=1.0, help="a merchant reloads the stock page after ...")
    p.add_argument("--reload-max", type=float, default=10.0)
    p.add_argument("--margin", type=float, default=1.0,
                   help="s around a stock-page connection's start and end not held against it")
    p.add_argument("--max-connections", type=int, help="SKY_MAX_CONNECTIONS (default: the server's)")
    p.add_argument("--max-sockets", type=int, help="SKY_MAX_SOCKETS")
    p.add_argument("--max-sockets-per-shop", type=int, help="SKY_MAX_SOCKETS_PER_SHOP")
    p.add_argument("--max-handshakes", type=int, help="SKY_MAX_HANDSHAKES")
    p.add_argument("--pg-admin", default="postgres://postgres@127.0.0.1:5432/test")
    raise SystemExit(asyncio.run(main(p.parse_args())))
