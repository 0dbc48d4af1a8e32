#!/usr/bin/env python3
"""sky-takeout benchmarks: our server next to the peers of ../shared/bench, on one box, in one run.

  bench/run.sh idle|broadcast|overload|marketplace|cluster|pgbench|report   (see BENCHMARKS.md)

Scenarios 1-3 run the shared `fanout` tool against every target in turn (each run restarts the
server: clean RSS baseline, fresh database); scenarios 4-5 run our own `marketplace` tool
(bench/marketplace). Every run appends one JSON line to bench/results/runs.jsonl; `report`
turns the newest session into Markdown tables and SVG charts.

Only the Python standard library. Everything binds to 127.0.0.1. Every wait is bounded.
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import random
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
BENCH = os.environ.get("SKY_BENCH_DIR", "/tmp/bench")          # copy of ../shared/bench
DATA = os.environ.get("SKY_BENCH_DATA", "/tmp/sky-bench")      # databases, logs, token files
RESULTS = os.environ.get("SKY_BENCH_RESULTS", os.path.join(HERE, "results"))
SKY_BIN = os.environ.get("SKY_BIN", os.path.join(REPO, "target", "release", "sky-takeout"))
FANOUT = os.path.join(BENCH, "fanout", "target", "release", "fanout")
MARKETPLACE = os.environ.get("SKY_MARKETPLACE_BIN", os.path.join(BENCH, "fanout", "target", "release", "marketplace"))

JWT_SECRET = "sky-bench-secret-0123456789-abcdefghijklmnopqrstuv"  # >= 32 chars, bench only
ADMIN_PASSWORD = "bench-admin-123"
PORT = int(os.environ.get("SKY_BENCH_PORT", "28080"))  # +1..+3 for the cluster
PG = "postgres://postgres@127.0.0.1:5432"
ORDER_BASE = 1_000_000      # order ids of the fanout scenarios: ORDER_BASE + 1 .. (fresh per run)
MP_ORDER_BASE = 2_000_000   # order ids of the marketplace
NICE = -10 if os.geteuid() == 0 else 0

sys.path.insert(0, BENCH)
try:
    import compare  # the shared harness: peer definitions, start/stop, idle wait
except ImportError:
    compare = None


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- machine state

def machine():
    def first(path, key):
        try:
            with open(path) as f:
                for line in f:
                    if line.startswith(key):
                        return line.split(":", 1)[1].strip()
        except OSError:
            return None
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    mem = first("/proc/meminfo", "MemTotal")
    return {"cpu": first("/proc/cpuinfo", "model name"), "cpus": os.cpu_count(), "mem": mem,
            "kernel": os.uname().release, "loadavg": " ".join(load),
            "nofile_hard": int(subprocess.run(["bash", "-c", "ulimit -Hn"], capture_output=True, text=True).stdout.strip() or 0)}


def busy_fraction(sample_s=1.0):
    def read():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return sum(v[:8]), v[3] + v[4]
    t0, i0 = read()
    time.sleep(sample_s)
    t1, i1 = read()
    return 1.0 - (i1 - i0) / max(1, t1 - t0)


def wait_idle(max_wait, threshold=0.25):
    end = time.time() + max_wait
    busy = busy_fraction()
    while busy > threshold and time.time() < end:
        log(f"  machine busy {busy:.0%} (other processes), waiting...")
        time.sleep(4)
        busy = busy_fraction()
    return round(busy, 3)


def wait_port(port, timeout=60, host="127.0.0.1"):
    end = time.time() + timeout
    while time.time() < end:
        try:
            with socket.create_connection((host, port), timeout=1):
                return True
        except OSError:
            time.sleep(0.2)
    return False


class RssSampler(threading.Thread):
    """Peak RSS (KiB) of a process tree, sampled every 100 ms (plus VmHWM at the end)."""

    def __init__(self, pids):
        super().__init__(daemon=True)
        self.pids, self.peak, self._halt = list(pids), 0, threading.Event()

    def tree(self):
        out, todo = set(), list(self.pids)
        while todo:
            p = todo.pop()
            if p in out:
                continue
            out.add(p)
            try:
                for t in os.listdir(f"/proc/{p}/task"):
                    with open(f"/proc/{p}/task/{t}/children") as f:
                        todo += [int(c) for c in f.read().split()]
            except OSError:
                pass
        return out

    def rss(self):
        total = 0
        for p in self.tree():
            try:
                with open(f"/proc/{p}/status") as f:
                    for line in f:
                        if line.startswith("VmRSS:"):
                            total += int(line.split()[1])
            except OSError:
                pass
        return total

    def hwm(self):
        total = 0
        for p in self.tree():
            try:
                with open(f"/proc/{p}/status") as f:
                    for line in f:
                        if line.startswith("VmHWM:"):
                            total += int(line.split()[1])
            except OSError:
                pass
        return total

    def run(self):
        while not self._halt.wait(0.1):
            self.peak = max(self.peak, self.rss())

    def stop(self):
        self._halt.set()
        self.join(2)
        return {"peak_sampled_kb": max(self.peak, self.rss()), "vmhwm_kb": self.hwm()}


# ----------------------------------------------------------------------------- our server

def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def mint_token(uid, shop, role, ttl=12 * 3600):
    """HS256 JWT exactly like src/auth.rs issues (the bench knows SKY_JWT_SECRET)."""
    now = int(time.time())
    head = b64url(json.dumps({"typ": "JWT", "alg": "HS256"}, separators=(",", ":")).encode())
    body = b64url(json.dumps({"uid": uid, "shop": shop, "role": role, "exp": now + ttl, "iat": now},
                             separators=(",", ":")).encode())
    sig = hmac.new(JWT_SECRET.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64url(sig)}"


def server_env(db_url, port, extra=None):
    env = dict(os.environ)
    env.update({
        "SKY_LISTEN": f"127.0.0.1:{port}", "DATABASE_URL": db_url, "SKY_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "SKY_JWT_SECRET": JWT_SECRET, "SKY_REALERT_DELAY_SECS": "0", "SKY_PAYMENT_TIMEOUT_MINS": "100000",
        # The broadcast scenarios put up to 19,500 screens in one shop; the default per-shop
        # cap (1,000) protects a real deployment, not a benchmark. The handshake cap is raised
        # for the same reason (screens connect as fast as the tool can open them).
        "SKY_MAX_SOCKETS_PER_SHOP": os.environ.get("SKY_MAX_SOCKETS_PER_SHOP", "19600"),
        "SKY_MAX_SOCKETS": os.environ.get("SKY_MAX_SOCKETS", "19600"),
        "SKY_MAX_HANDSHAKES": os.environ.get("SKY_MAX_HANDSHAKES", "19600"),
        "RUST_LOG": os.environ.get("SKY_BENCH_LOG", "warn"),
    })
    env.update(extra or {})
    return env


def raise_nofile():
    import resource
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Ours:
    """One sky-takeout process (release build), its own log, stopped with SIGTERM."""

    def __init__(self, db_url, port=PORT, extra_env=None, name="ours", wrap=None):
        self.db_url, self.port, self.extra, self.name, self.wrap = db_url, port, extra_env or {}, name, wrap or []
        self.proc = None

    def start(self, timeout=120):
        if not os.access(SKY_BIN, os.X_OK):
            sys.exit(f"build the server first: cargo build --release  ({SKY_BIN})")
        os.makedirs(DATA, exist_ok=True)
        if wait_port(self.port, 0.5):
            raise RuntimeError(f"port {self.port} is already in use (set SKY_BENCH_PORT)")
        logf = open(os.path.join(DATA, f"{self.name}-{self.port}.log"), "ab")
        cmd = ([*self.wrap] + [SKY_BIN])
        if NICE and not self.wrap:
            cmd = ["nice", "-n", str(NICE)] + cmd
        self.proc = subprocess.Popen(cmd, env=server_env(self.db_url, self.port, self.extra), stdout=logf,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, preexec_fn=raise_nofile)
        if not wait_port(self.port, timeout):
            self.stop()
            raise RuntimeError(f"sky-takeout did not open port {self.port}; see {logf.name}")
        # ready = database reachable and migrations done
        end = time.time() + timeout
        while time.time() < end:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        return self.proc.pid

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def stop(self):
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


def http_json(method, url, body=None, headers=None, timeout=10):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"content-type": "application/json", **(headers or {})})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


def login_tokens(port):
    b = f"http://127.0.0.1:{port}"
    for _ in range(100):  # the first start seeds shop 1 and `admin` (argon2) right after listening
        admin = http_json("POST", f"{b}/admin/employee/login", {"username": "admin", "password": ADMIN_PASSWORD})
        if admin.get("code") == 1:
            break
        time.sleep(0.3)
    cust = http_json("POST", f"{b}/user/user/login", {"code": "bench"})
    assert admin.get("code") == 1 and cust.get("code") == 1, (admin, cust)
    return {"merchant_token": admin["data"]["token"], "customer_token": cust["data"]["token"],
            "customer_id": cust["data"]["id"]}


def order_rows(pairs, user_id, now_ms):
    """(id, shop) pairs -> orders rows (number = str(id), unpaid, waiting for payment)."""
    for oid, shop in pairs:
        yield (oid, shop, str(oid), 1, user_id, 0, now_ms, 1, 0, 100)


ORDER_COLS = "id, shop_id, number, status, user_id, address_book_id, order_time, pay_method, pay_status, amount"


def sqlite_template(path, orders=(), shops=0):
    """A SQLite database made by the server itself (migrations, shop 1, admin), then unpaid
    orders (and `shops` extra shops with one merchant each) inserted with SQL."""
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    srv = Ours(f"sqlite://{path}", name="template")
    srv.start()
    try:
        tok = login_tokens(PORT)
    finally:
        srv.stop()
    db = sqlite3.connect(path)
    now = int(time.time() * 1000)
    with db:
        if shops:
            pw = db.execute("SELECT password_hash FROM employee WHERE username = 'admin'").fetchone()[0]
            db.executemany("INSERT INTO shop (id, name, status, alert_seq, created_at) VALUES (?, ?, 1, 0, ?)",
                           [(s, f"bench shop {s}", now) for s in range(2, shops + 2)])
            db.executemany("INSERT INTO employee (id, shop_id, username, name, password_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                           [(100 + s, s, f"bench{s}", f"bench {s}", pw, now) for s in range(2, shops + 2)])
        db.executemany(f"INSERT INTO orders ({ORDER_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?)",
                       order_rows(orders, tok["customer_id"], now))
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return tok


def psql(db, sql=None, file=None, stdin=None):
    cmd = ["psql", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-U", "postgres", "-d", db]
    if sql:
        cmd += ["-c", sql]
    if file:
        cmd += ["-f", file]
    r = subprocess.run(cmd, input=stdin, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"psql failed: {r.stderr[-500:]}")
    return r.stdout


def pg_fresh(name):
    psql("postgres", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    psql("postgres", f"CREATE DATABASE {name}")
    return f"{PG}/{name}"


def pg_template(name, orders=(), shops=0):
    url = pg_fresh(name)
    srv = Ours(url, name="template")
    srv.start()
    try:
        tok = login_tokens(PORT)
    finally:
        srv.stop()
    now = int(time.time() * 1000)
    lines = []
    if shops:
        lines.append(f"COPY shop (id, name, status, alert_seq, created_at) FROM stdin;")
        lines += [f"{s}\tbench shop {s}\t1\t0\t{now}" for s in range(2, shops + 2)]
        lines.append("\\.")
        lines.append("CREATE TEMP TABLE pw AS SELECT password_hash FROM employee WHERE username = 'admin';")
        lines.append("COPY employee (id, shop_id, username, name, password_hash, created_at) FROM stdin;")
        lines += [f"{100 + s}\t{s}\tbench{s}\tbench {s}\tPWHASH\t{now}" for s in range(2, shops + 2)]
        lines.append("\\.")
        lines.append("UPDATE employee SET password_hash = (SELECT password_hash FROM pw) WHERE password_hash = 'PWHASH';")
        lines.append("SELECT setval(pg_get_serial_sequence('shop', 'id'), (SELECT max(id) FROM shop));")
        lines.append("SELECT setval(pg_get_serial_sequence('employee', 'id'), (SELECT max(id) FROM employee));")
    lines.append(f"COPY orders ({ORDER_COLS}) FROM stdin;")
    lines += ["\t".join(str(x) for x in r) for r in order_rows(orders, tok["customer_id"], now)]
    lines.append("\\.")
    lines.append("SELECT setval(pg_get_serial_sequence('orders', 'id'), (SELECT max(id) FROM orders));")
    lines.append("ANALYZE;")
    psql(name, stdin="\n".join(lines) + "\n")
    return url, tok


# ----------------------------------------------------------------------------- fanout scenarios

def fanout_targets(tok):
    """The peers (from the shared compare.py) plus our two ways in."""
    t = {k: dict(v) for k, v in (compare.TARGETS.items() if compare else [])}
    pay = ["--trigger-url", f"http://127.0.0.1:{PORT}/user/order/payment", "--trigger-method", "PUT",
           "--trigger-body", '{"orderNumber":"{i}","payMethod":1}',
           "-H", f"authentication: {tok['customer_token']}", "-H", "content-type: application/json",
           "--index-offset", str(ORDER_BASE + 1)]
    auth = json.dumps({"type": "auth", "token": tok["merchant_token"]})
    # ours: the richer protocol, authenticated by the first message (what our dashboard uses)
    t["ours"] = dict(url=f"ws://127.0.0.1:{PORT}/ws/v2/alerts", protocol="raw", ours=True,
                     trigger=pay + ["--send-after-connect", auth], env={})
    # ours-legacy: the stock page's /ws/{sid}, like-for-like with the peers' /ws/{c} (anonymous:
    # fanout cannot send the session cookie), same paid-order trigger
    t["ours-legacy"] = dict(url=f"ws://127.0.0.1:{PORT}/ws/{{c}}", protocol="raw", ours=True,
                            trigger=pay, env={"SKY_ALLOW_ANONYMOUS_WS": "true"})
    return t


def run_fanout_scenario(scenario, keys, ns, m, rate, args, session):
    os.makedirs(DATA, exist_ok=True)
    tpl = os.path.join(DATA, "fanout-template.db")
    tok = sqlite_template(tpl, orders=[(ORDER_BASE + i, 1) for i in range(1, max(m, 1) + 1)])
    targets = fanout_targets(tok)
    out_path = os.path.join(RESULTS, "runs.jsonl")
    os.makedirs(RESULTS, exist_ok=True)
    rows = []
    for n in ns:
        for key in keys:
            t = targets[key]
            for rep in range(1, args.repeat + 1):
                busy = wait_idle(args.wait_idle)
                if t.get("ours"):
                    db = os.path.join(DATA, "fanout-run.db")
                    for suffix in ("", "-wal", "-shm"):
                        if os.path.exists(db + suffix):
                            os.remove(db + suffix)
                    shutil.copy(tpl, db)
                    srv = Ours(f"sqlite://{db}", extra_env={"SKY_SOCKET_QUEUE": str(args.socket_queue), **t["env"]})
                    pid = srv.start()
                    stop = srv.stop
                else:
                    env = dict(os.environ)
                    if NICE:
                        env["SERVER_NICE"] = str(NICE)
                    r = subprocess.run([os.path.join(BENCH, "peers", t["start"])], capture_output=True, text=True, env=env)
                    if r.returncode != 0:
                        log(f"  {key}: start failed: {r.stderr[-400:]}")
                        continue
                    pid = int(r.stdout.strip().split()[-1])
                    stop = lambda name=t["name"]: subprocess.run([os.path.join(BENCH, "peers", "stop.sh"), name], capture_output=True)
                time.sleep(1)
                cmd = ["nice", "-n", str(NICE)] if NICE else []
                cmd += [FANOUT, "-q", "--label", f"{scenario} {key} n={n}", "--url", t["url"], "--protocol", t["protocol"],
                        "-n", str(n), "-m", str(m), "--rate", str(rate), "--server-pid", str(pid),
                        "--drain-timeout", str(args.drain), "--trigger-timeout", "10", "--http-timeout", "30",
                        "--max-duration", str(args.max_duration), "--concurrency", str(args.concurrency), "--settle-ms", str(args.settle_ms),
                        "--source-ips", "127.0.0.1-8"] + t["trigger"]
                log(f"[{scenario}] {key} n={n} run {rep}/{args.repeat} (pid {pid}, machine busy {busy:.0%}, load {machine()['loadavg']})")
                sampler = RssSampler([pid])
                sampler.start()
                r = None
                try:
                    r = subprocess.run(cmd, capture_output=True, text=True, timeout=args.max_duration + 60)
                    line = (r.stdout.strip().splitlines() or ["{}"])[-1]
                    s = json.loads(line)
                except (subprocess.TimeoutExpired, json.JSONDecodeError) as e:
                    log(f"  run failed: {e}; stderr: {(r.stderr if r else '')[-400:]}")
                    s = None
                finally:
                    mem = sampler.stop()
                    stop()
                if not s or "error" in s:
                    log(f"  run failed: {s}")
                    continue
                s.update({"scenario": scenario, "target": key, "n": n, "repeat": rep, "session": session,
                          "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                          "binary": SKY_BIN if t.get("ours") else None, "concurrency": args.concurrency,
                          "machine_busy_before": busy, "server_mem": mem, "machine": machine(),
                          "cmd": " ".join(shlex.quote(c) for c in cmd),
                          "delivered_pct": 100.0 * s["delivered"] / max(1, s["expected"]),
                          "server_cpu_us_per_delivery": (1e6 * s["server_cpu_s"]["publish"] / s["delivered"]) if s.get("delivered") else None})
                with open(out_path, "a") as f:
                    f.write(json.dumps(s, ensure_ascii=False) + "\n")
                rows.append(s)
                lat = s.get("latency_ms") or {}
                log(f"  -> {s['connected']}/{n} up, RSS/conn {s.get('rss_per_conn_kb')} KiB, delivered {s['delivered']}/{s['expected']}, "
                    f"p50 {lat.get('p50')} p99 {lat.get('p99')} max {lat.get('max')} ms, {s.get('deliveries_per_s')} deliv/s, "
                    f"srv {s['server_cpu_us_per_delivery'] and round(s['server_cpu_us_per_delivery'], 2)} µs/deliv, "
                    f"peak {mem['peak_sampled_kb']} KiB, other cpu {s.get('other_cpu_publish_s')}s")
    return rows


# ----------------------------------------------------------------------------- marketplace / cluster

def mp_files(tok, shops, orders, tag):
    """TSV files for the marketplace tool: shops (id, screens, merchant token) and orders."""
    sp = os.path.join(DATA, f"{tag}-shops.tsv")
    op = os.path.join(DATA, f"{tag}-orders.tsv")
    with open(sp, "w") as f:
        for s in range(2, shops + 2):
            screens = 2 if s % 2 == 0 else 1
            f.write(f"{s}\t{screens}\t{mint_token(100 + s, s, 'merchant')}\n")
    with open(op, "w") as f:
        for oid, shop in orders:
            f.write(f"{oid}\t{oid}\t{shop}\n")
    return sp, op


def mp_orders(count, shops, seed=7):
    rnd = random.Random(seed)
    return [(MP_ORDER_BASE + i, rnd.randint(2, shops + 1)) for i in range(1, count + 1)]


def run_marketplace(scenario, backend, broker, instances, args, session):
    rates = [float(x) for x in args.rates.split(",")]
    need = int(sum(r * args.step_secs for r in rates)) + 100
    orders = mp_orders(need, args.shops)
    tag = f"mp-{backend}"
    busy = wait_idle(args.wait_idle)
    log(f"[{scenario}] preparing {backend} database: {args.shops} shops, {need} orders ...")
    if backend == "sqlite":
        db = os.path.join(DATA, f"{tag}.db")
        tok = sqlite_template(db, orders=orders, shops=args.shops)
        url = f"sqlite://{db}"
    else:
        url, tok = pg_template(f"sky_bench_{scenario}", orders=orders, shops=args.shops)
    sp, op = mp_files(tok, args.shops, orders, tag)
    extra = {"SKY_SOCKET_QUEUE": str(args.socket_queue)}
    if broker:
        extra["SKY_BROKER"] = broker
    servers = [Ours(url, port=PORT + 1 + k if instances > 1 else PORT, extra_env=extra, name=f"{scenario}{k}")
               for k in range(instances)]
    try:
        pids = [s.start() for s in servers]
        time.sleep(1)
        busy = wait_idle(args.wait_idle)
        cmd = ["nice", "-n", str(NICE)] if NICE else []
        cmd += [MARKETPLACE, "--shops", sp, "--orders", op, "--customer-token", tok["customer_token"],
                "--instances", ",".join(f"127.0.0.1:{s.port}" for s in servers), "--rates", args.rates,
                "--step-secs", str(args.step_secs), "--gap-secs", str(args.gap_secs), "--drain-secs", "10",
                "--server-pid", ",".join(str(p) for p in pids), "--label", f"{scenario} {backend} {broker or 'single'}",
                "--max-duration", str(args.max_duration)]
        log(f"[{scenario}] {backend} x{instances} {broker or ''} (machine busy {busy:.0%}, load {machine()['loadavg']})")
        log("  $ " + " ".join(shlex.quote(c) for c in cmd))
        sampler = RssSampler(pids)
        sampler.start()
        perf = None
        if args.perf_secs:
            # profile the server(s) during the ramp (after the screens are connected)
            out = os.path.join(DATA, f"perf-{scenario}-{backend}.data")
            perf = subprocess.Popen(["bash", "-c", f"sleep {args.perf_after}; exec perf record -e cpu-clock -F 1000 -g "
                                     f"-p {','.join(str(p) for p in pids)} -o {out} -- sleep {args.perf_secs}"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=args.max_duration + 120)
        if perf:
            perf.wait(args.perf_after + args.perf_secs + 30)
        mem = sampler.stop()
        sys.stderr.write(r.stderr[-3000:])
        line = (r.stdout.strip().splitlines() or ["{}"])[-1]
        s = json.loads(line)
    finally:
        for srv in servers:
            srv.stop()
    s.update({"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "scenario": scenario, "target": "ours", "backend": backend, "broker": broker or "memory", "binary": SKY_BIN,
              "instances_n": instances, "session": session, "machine_busy_before": busy, "server_mem": mem,
              "machine": machine(), "cmd": " ".join(shlex.quote(c) for c in cmd)})
    with open(os.path.join(RESULTS, "runs.jsonl"), "a") as f:
        f.write(json.dumps(s, ensure_ascii=False) + "\n")
    return s


def run_pgbench(session, args):
    psql("postgres", "DROP DATABASE IF EXISTS sky_pgbench WITH (FORCE)")
    psql("postgres", "CREATE DATABASE sky_pgbench")
    base = ["-h", "127.0.0.1", "-U", "postgres"]
    subprocess.run(["pgbench", *base, "-i", "-q", "-s", "10", "sky_pgbench"], check=True, capture_output=True)
    busy = wait_idle(args.wait_idle)
    out = {}
    for label, extra in (("tpcb", []), ("select-only", ["-S"])):
        cmd = ["pgbench", *base, "-c", "8", "-j", "2", "-T", "10", *extra, "sky_pgbench"]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        tps = None
        lat = None
        for line in r.stdout.splitlines():
            if line.startswith("tps =") and tps is None:
                tps = float(line.split()[2])
            if line.startswith("latency average"):
                lat = float(line.split("=")[1].split()[0])
        out[label] = {"tps": tps, "latency_avg_ms": lat, "cmd": " ".join(cmd)}
        log(f"[pgbench] {label}: {tps} tps, avg latency {lat} ms")
    s = {"scenario": "pgbench", "target": "pgbench", "session": session, "machine_busy_before": busy,
         "machine": machine(), **out}
    with open(os.path.join(RESULTS, "runs.jsonl"), "a") as f:
        f.write(json.dumps(s) + "\n")
    psql("postgres", "DROP DATABASE IF EXISTS sky_pgbench WITH (FORCE)")
    return s


# ----------------------------------------------------------------------------- main

PEERS = ["ws", "socketio", "soketi", "java", "python"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenario", choices=["idle", "broadcast", "overload", "marketplace", "marketplace-sqlite",
                                         "marketplace-pg", "cluster", "cluster-redis", "cluster-nats", "pgbench"])
    ap.add_argument("--targets", default="ours,ours-legacy," + ",".join(PEERS))
    ap.add_argument("--n", default="", help="connection counts (default per scenario)")
    ap.add_argument("--m", type=int, default=0, help="alerts per run (default per scenario)")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--drain", type=float, default=10)
    ap.add_argument("--settle-ms", type=int, default=3000)
    ap.add_argument("--concurrency", type=int, default=200,
                    help="fanout handshakes in flight (the shared harness uses 200; 20 shows the steady state "
                         "without the allocator residue of a connection storm)")
    ap.add_argument("--socket-queue", type=int, default=256)
    ap.add_argument("--wait-idle", type=float, default=60, help="max s to wait for a quiet machine before a run")
    ap.add_argument("--max-duration", type=float, default=300)
    ap.add_argument("--session", default=os.environ.get("SKY_BENCH_SESSION", time.strftime("%Y%m%d")))
    ap.add_argument("--shops", type=int, default=10000)
    ap.add_argument("--rates", default="100,250,500,1000,1500,2000")
    ap.add_argument("--step-secs", type=float, default=10)
    ap.add_argument("--gap-secs", type=float, default=3)
    ap.add_argument("--perf-secs", type=float, default=0, help="marketplace: perf-record the server(s) this long")
    ap.add_argument("--perf-after", type=float, default=10, help="...starting this many seconds into the run")
    args = ap.parse_args()
    os.makedirs(RESULTS, exist_ok=True)
    os.makedirs(DATA, exist_ok=True)
    keys = [k for k in args.targets.split(",") if k]
    sc = args.scenario
    if sc == "idle":
        run_fanout_scenario("idle" if args.concurrency == 200 else f"idle-c{args.concurrency}", keys, [int(x) for x in (args.n or "1000,10000,19500").split(",")],
                            args.m or 1, 0, args, args.session)
    elif sc == "broadcast":
        run_fanout_scenario("broadcast", keys, [int(x) for x in (args.n or "1000,10000").split(",")],
                            args.m or 100, 0, args, args.session)
    elif sc == "overload":
        run_fanout_scenario("overload", keys, [int(x) for x in (args.n or "10000").split(",")],
                            args.m or 200, 20, args, args.session)
    elif sc in ("marketplace", "marketplace-sqlite"):
        run_marketplace("marketplace", "sqlite", None, 1, args, args.session)
        if sc == "marketplace":
            run_pgbench(args.session, args)
            run_marketplace("marketplace", "pg", None, 1, args, args.session)
    elif sc == "marketplace-pg":
        run_pgbench(args.session, args)
        run_marketplace("marketplace", "pg", None, 1, args, args.session)
    elif sc in ("cluster", "cluster-redis", "cluster-nats"):
        if sc in ("cluster", "cluster-redis"):
            run_marketplace("cluster", "pg", "redis://127.0.0.1:6379", 3, args, args.session)
        if sc in ("cluster", "cluster-nats"):
            run_marketplace("cluster", "pg", "nats://127.0.0.1:4222", 3, args, args.session)
    elif sc == "pgbench":
        run_pgbench(args.session, args)


if __name__ == "__main__":
    main()
