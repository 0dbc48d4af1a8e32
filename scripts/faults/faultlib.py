"""What the fault scripts share (Python standard library only, loopback only, every wait
bounded): starting and killing the server, a minimal asyncio HTTP/1.1 and WebSocket client,
the alert screens that keep `lastSeq` and reconnect, the payers that place and pay orders, and
the database checks (the same invariants as tests/fuzz/invariants.rs, plus integrity checks).
"""

import asyncio
import base64
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SKY_BIN = os.environ.get("SKY_BIN", os.path.join(REPO, "target", "release", "sky-takeout"))
JWT_SECRET = "sky-faults-secret-0123456789-abcdefghijklmnopqrstuv"
ADMIN_PASSWORD = "faults-admin-123"
PG_BIN = "/usr/lib/postgresql/15/bin"


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def uptime():
    with open("/proc/loadavg") as f:
        return "load " + " ".join(f.read().split()[:3])


def rss_mib(pid):
    """(VmRSS, VmHWM) of a process in MiB, or (0, 0) when it is gone."""
    out = {"VmRSS": 0.0, "VmHWM": 0.0}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in out:
                    out[k] = round(int(v.split()[0]) / 1024, 1)
    except OSError:
        pass
    return out["VmRSS"], out["VmHWM"]


# ----------------------------------------------------------------------------- the server

class Server:
    """One sky-takeout process on `port` (restartable; its log appended to `log_path`)."""

    def __init__(self, port, database_url, work, env=None, name="sky"):
        self.port = port
        self.database_url = database_url
        self.work = work
        self.env = dict(os.environ)
        self.env.update({
            "SKY_LISTEN": f"127.0.0.1:{port}",
            "DATABASE_URL": database_url,
            "SKY_JWT_SECRET": JWT_SECRET,
            "SKY_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "SKY_IMAGE_DIR": os.path.join(work, "images"),
            "SKY_PUBLIC_BASE_URL": f"http://localhost:{port}",
            "RUST_LOG": os.environ.get("RUST_LOG", "warn"),
        })
        self.env.update(env or {})
        self.log_path = os.path.join(work, f"{name}.log")
        self.proc = None
        self.starts = 0

    def start(self):
        logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen([SKY_BIN], env=self.env, cwd=self.work,
                                     stdout=logf, stderr=subprocess.STDOUT)
        logf.close()
        self.starts += 1

    def kill9(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill9()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def wait_up(self, timeout=60.0, path="/healthz"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"server exited ({self.proc.returncode}); see {self.log_path}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
                    if s.recv(64).startswith(b"HTTP/1.1 200"):
                        return time.monotonic()
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError(f"server on {self.port} not up within {timeout}s; see {self.log_path}")

    def panics(self):
        with open(self.log_path, "rb") as f:
            return f.read().count(b"panicked")


# ----------------------------------------------------------------------------- HTTP

async def http(port, method, path, body=None, headers=None, timeout=10.0, source=None):
    """One request on its own connection (from the loopback address `source`, default the
    kernel's choice): (status, parsed JSON or text). Raises OSError when the server is
    unreachable or the connection breaks."""
    async def go():
        r, w = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0) if source else None)
        try:
            data = b"" if body is None else json.dumps(body).encode()
            h = {"Host": f"127.0.0.1:{port}", "Connection": "close", "Content-Length": str(len(data))}
            if body is not None:
                h["Content-Type"] = "application/json"
            h.update(headers or {})
            head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in h.items()) + "\r\n"
            w.write(head.encode() + data)
            await w.drain()
            raw = await r.read()
        finally:
            w.close()
        if not raw:
            raise ConnectionResetError("empty reply")
        head, _, rest = raw.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        if b"transfer-encoding: chunked" in head.lower():
            out, buf = b"", rest
            while buf:
                n, _, buf = buf.partition(b"\r\n")
                n = int(n, 16)
                if n == 0:
                    break
                out, buf = out + buf[:n], buf[n + 2:]
            rest = out
        try:
            return status, json.loads(rest)
        except ValueError:
            return status, rest.decode(errors="replace")
    return await asyncio.wait_for(go(), timeout)


async def merchant_token(port, username="admin", password=ADMIN_PASSWORD):
    status, v = await http(port, "POST", "/admin/employee/login", {"username": username, "password": password})
    if status != 200 or v.get("code") != 1:
        raise RuntimeError(f"merchant login failed: {status} {v}")
    return v["data"]["token"]


# ----------------------------------------------------------------------------- WebSocket

class WsClosed(Exception):
    def __init__(self, code, reason=""):
        super().__init__(f"closed {code} {reason}")
        self.code = code
        self.reason = reason


class Ws:
    """A minimal RFC 6455 client: masked text frames out; text, ping and close in."""

    def __init__(self, r, w):
        self.r, self.w = r, w

    @staticmethod
    async def connect(port, path, headers=None, timeout=10.0, source=None):
        """A socket from the loopback address `source` (default the kernel's choice); a reply
        other than 101 raises ConnectionRefusedError naming its status line."""
        async def go():
            r, w = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0) if source else None)
            key = base64.b64encode(os.urandom(16)).decode()
            h = {"Host": f"127.0.0.1:{port}", "Upgrade": "websocket", "Connection": "Upgrade",
                 "Sec-WebSocket-Key": key, "Sec-WebSocket-Version": "13"}
            h.update(headers or {})
            w.write((f"GET {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in h.items()) + "\r\n").encode())
            await w.drain()
            head = await r.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 101"):
                w.close()
                raise ConnectionRefusedError(head.split(b"\r\n")[0].decode(errors="replace"))
            return Ws(r, w)
        return await asyncio.wait_for(go(), timeout)

    def _frame(self, opcode, payload):
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([0x80 | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + n.to_bytes(2, "big")
        else:
            head += bytes([0x80 | 127]) + n.to_bytes(8, "big")
        return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))

    async def send_text(self, s):
        self.w.write(self._frame(0x1, s.encode()))
        await self.w.drain()

    async def recv(self):
        """The next text frame (pings answered); raises WsClosed on a close frame and
        ConnectionError on a bare drop."""
        while True:
            b = await self.r.readexactly(2)
            op, n = b[0] & 0x0F, b[1] & 0x7F
            if n == 126:
                n = int.from_bytes(await self.r.readexactly(2), "big")
            elif n == 127:
                n = int.from_bytes(await self.r.readexactly(8), "big")
            payload = await self.r.readexactly(n)
            if op == 0x1:
                return payload.decode()
            if op == 0x9:
                self.w.write(self._frame(0xA, payload))
                await self.w.drain()
            elif op == 0x8:
                code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
                try:
                    self.w.write(self._frame(0x8, payload[:2]))
                    self.w.close()
                except OSError:
                    pass
                raise WsClosed(code, payload[2:].decode(errors="replace"))

    def close(self):
        try:
            self.w.close()
        except OSError:
            pass


def record_alert(screen, on_socket, seq):
    """Counts an alert frame of a screen that keeps the largest `seq` it processed (a `Screen`
    or the storm's dashboard: `dup_on_socket`, `dup_across`, `seen`, `last_seq`): twice on this
    socket (`on_socket`, its seqs so far), at or below what the screen had, and seen."""
    if seq in on_socket:
        screen.dup_on_socket += 1
    on_socket.add(seq)
    if seq <= screen.last_seq:
        screen.dup_across += 1
    screen.seen.add(seq)
    screen.last_seq = max(screen.last_seq, seq)


class Screen:
    """A dashboard on /ws/v2/alerts: keeps the largest seq it processed, reconnects with it
    after any drop (full-jitter backoff like the dashboard's, capped at `max_backoff`), and
    records, per connection, every seq it got (duplicates on one socket are counted)."""

    def __init__(self, name, ports, token, max_backoff=1.0):
        self.name, self.ports, self.token = name, ports, token
        self.last_seq = 0
        self.seen = set()          # every seq received, all connections
        self.dup_on_socket = 0     # a seq twice on one connection
        self.dup_across = 0        # a seq at or below lastSeq after a reconnect
        self.connections = 0
        self.truncated = 0
        self.closes = {}
        self.max_backoff = max_backoff
        self.live = False
        self.stopped = False
        self.on_alert = None       # called with each alert event (e.g. to time it)

    async def fetch_gap(self, port, from_seq, to_seq):
        before = to_seq + 1
        while before > from_seq:
            st, v = await http(port, "GET", f"/admin/alerts?beforeSeq={before}&limit=500", None, {"token": self.token})
            rows = v["data"] if isinstance(v, dict) and isinstance(v.get("data"), list) else []
            if not rows:
                break
            for r in rows:
                if r["seq"] >= from_seq:
                    self.seen.add(r["seq"])
            before = min(r["seq"] for r in rows)

    async def run(self):
        attempt = 0
        while not self.stopped:
            port = self.ports[self.connections % len(self.ports)]
            try:
                ws = await Ws.connect(port, "/ws/v2/alerts")
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError):
                attempt += 1
                await asyncio.sleep(random.uniform(0, min(self.max_backoff, 0.05 * 2 ** attempt)))
                continue
            self.connections += 1
            on_socket = set()
            try:
                await ws.send_text(json.dumps({"type": "auth", "token": self.token, "lastSeq": self.last_seq}))
                while not self.stopped:
                    ev = json.loads(await ws.recv())
                    e = ev.get("event")
                    if e == "alert":
                        record_alert(self, on_socket, ev["seq"])
                        if self.on_alert:
                            self.on_alert(ev)
                    elif e == "live":
                        self.live = True
                        attempt = 0
                    elif e == "truncated":
                        # As the dashboard does: the left-out range from the REST page.
                        self.truncated += 1
                        await self.fetch_gap(port, ev["fromSeq"], ev["toSeq"])
            except WsClosed as c:
                self.closes[c.code] = self.closes.get(c.code, 0) + 1
            except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError):
                self.closes["drop"] = self.closes.get("drop", 0) + 1
            finally:
                self.live = False
                ws.close()
            attempt += 1
            await asyncio.sleep(random.uniform(0, min(self.max_backoff, 0.05 * 2 ** attempt)))


class Payers:
    """Customers that place and pay orders in a loop over `ports`, tolerating a server that
    is down (connection refused, reset): each acknowledged payment is recorded."""

    def __init__(self, ports, n=4, port_of=None, pace=0.0, dishes=(1,), rate=None):
        self.ports = ports
        self.n = n
        self.pace = pace        # seconds each customer waits between orders (0: none)
        self.pay_started = {}   # order id -> monotonic time its payment request was sent
        self.dishes = list(dishes)  # each order is one of these dishes (so: of its shop)
        self.rate = rate            # payments per second over all customers (None: as fast as answered)
        self.paid = {}          # order number -> order id, for every payment answered code 1
        self.paid_at = {}       # order number -> time.time() of its code-1 answer
        self.errors = {}        # what failed payments and requests answered
        self.stopped = False
        self.attempts = 0

    def _err(self, what):
        self.errors[what] = self.errors.get(what, 0) + 1

    async def _customer(self, i):
        token = addr = None
        k = 0
        while not self.stopped:
            port = self.ports[k % len(self.ports)]
            k += 1
            try:
                if token is None:
                    st, v = await http(port, "POST", "/user/user/login", {"code": f"payer-{i}-{random.random()}"})
                    token = v["data"]["token"]
                    h = {"authentication": token}
                    await http(port, "POST", "/user/addressBook", {"consignee": "张三", "sex": "1", "phone": "13800000000", "detail": "软件园1号楼"}, h)
                    st, v = await http(port, "GET", "/user/addressBook/list", None, h)
                    addr = v["data"][-1]["id"]
                h = {"authentication": token}
                if self.rate:
                    await asyncio.sleep(random.expovariate(self.rate / self.n))
                st, v = await http(port, "POST", "/user/shoppingCart/add", {"dishId": random.choice(self.dishes), "dishFlavor": ""}, h)
                st, v = await http(port, "POST", "/user/order/submit", {"addressBookId": addr, "payMethod": 1, "remark": "", "estimatedDeliveryTime": "2030-01-01 12:00:00", "tablewareNumber": 1}, h)
                if not isinstance(v, dict) or v.get("code") != 1:
                    self._err(f"submit HTTP {st}: {v.get('msg') if isinstance(v, dict) else v}")
                    if len(self.dishes) > 1:
                        # The cart holds one shop's dishes: empty it before the next shop's.
                        await http(port, "DELETE", "/user/shoppingCart/clean", None, h)
                    await asyncio.sleep(0.05)
                    continue
                number, oid = v["data"]["orderNumber"], v["data"]["id"]
                self.attempts += 1
                self.pay_started[oid] = time.monotonic()
                st, v = await http(port, "PUT", "/user/order/payment", {"orderNumber": number, "payMethod": 1}, h)
                if isinstance(v, dict) and v.get("code") == 1:
                    self.paid[number] = oid
                    self.paid_at[number] = time.time()
                else:
                    self._err(f"payment HTTP {st}: {v.get('msg') if isinstance(v, dict) else str(v)[:60]}")
                if self.pace:
                    await asyncio.sleep(self.pace)
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, KeyError, TypeError, IndexError, ValueError) as e:
                self._err(type(e).__name__)
                await asyncio.sleep(0.02)

    async def run(self):
        await asyncio.gather(*(self._customer(i) for i in range(self.n)))


# ----------------------------------------------------------------------------- databases

INVARIANTS = [
    ("orders without a line",
     "SELECT COUNT(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM order_detail d WHERE d.order_id = o.id)"),
    ("alerts without their order",
     "SELECT COUNT(*) FROM alert_log a WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = a.order_id AND o.shop_id = a.shop_id)"),
    ("shops whose alert sequence is not gapless",
     "SELECT COUNT(*) FROM shop s WHERE s.alert_seq <> (SELECT COUNT(*) FROM alert_log a WHERE a.shop_id = s.id) "
     "OR s.alert_seq <> (SELECT COUNT(DISTINCT a.seq) FROM alert_log a WHERE a.shop_id = s.id) "
     "OR s.alert_seq <> COALESCE((SELECT MAX(a.seq) FROM alert_log a WHERE a.shop_id = s.id), 0)"),
    ("paid orders without exactly one new-order alert",
     "SELECT COUNT(*) FROM orders o WHERE o.checkout_time IS NOT NULL AND "
     "(SELECT COUNT(*) FROM alert_log a WHERE a.order_id = o.id AND a.type = 1 AND a.realert = 0) <> 1"),
    ("unpaid orders with an alert",
     "SELECT COUNT(*) FROM orders o WHERE o.checkout_time IS NULL AND EXISTS (SELECT 1 FROM alert_log a WHERE a.order_id = o.id)"),
]


class Db:
    """Queries on the server's database: an SQLite file or a PostgreSQL URL (through psql)."""

    def __init__(self, url):
        self.url = url

    def rows(self, sql):
        if self.url.startswith("sqlite://"):
            path = self.url[len("sqlite://"):].split("?")[0]
            con = sqlite3.connect(path, timeout=30)
            try:
                return [tuple(r) for r in con.execute(sql).fetchall()]
            finally:
                con.close()
        out = subprocess.run(["psql", "-X", "-At", "-F", "\t", self.url, "-c", sql],
                             capture_output=True, text=True, timeout=120, check=True).stdout
        return [tuple(line.split("\t")) for line in out.splitlines() if line]

    def scalar(self, sql):
        return self.rows(sql)[0][0]

    def acknowledged_check(self, numbers):
        """For payments that answered code 1 (order numbers): (how many orders are not paid in
        the database, how many paid ones lack exactly one new-order alert row)."""
        not_paid = missing_alert = 0
        numbers = list(numbers)
        for k in range(0, len(numbers), 500):
            chunk = numbers[k:k + 500]
            inl = ",".join(f"'{n}'" for n in chunk)
            rows = self.rows(f"SELECT o.number, o.checkout_time IS NOT NULL, "
                             f"(SELECT COUNT(*) FROM alert_log a WHERE a.order_id = o.id AND a.type = 1 AND a.realert = 0) "
                             f"FROM orders o WHERE o.number IN ({inl})")
            found = {r[0]: r for r in rows}
            for n in chunk:
                r = found.get(n)
                if r is None or str(r[1]) not in ("1", "t", "True"):
                    not_paid += 1
                elif int(r[2]) != 1:
                    missing_alert += 1
        return not_paid, missing_alert

    def invariants(self):
        return {name: int(self.scalar(sql)) for name, sql in INVARIANTS}

    def integrity(self):
        """SQLite: PRAGMA integrity_check; PostgreSQL: amcheck over every index (bt_index_check)
        when the extension is there, else the invariants alone."""
        if self.url.startswith("sqlite://"):
            return self.scalar("PRAGMA integrity_check")
        try:
            self.rows("CREATE EXTENSION IF NOT EXISTS amcheck")
            # bt_index_check raises on a corrupt index; heapallindexed also checks every
            # heap row has its index entry.
            n = self.rows(
                "SELECT COUNT(bt_index_check(i.indexrelid, true)) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "JOIN pg_am a ON a.oid = c.relam WHERE a.amname = 'btree' AND c.relnamespace = 'public'::regnamespace")
            bad = [] if int(n[0][0]) > 0 else ["no index checked"]
            return "ok" if not bad else f"amcheck: {bad}"
        except subprocess.CalledProcessError as e:
            return f"amcheck failed or unavailable ({e.stderr.strip()[:80]})"


def pg_create_database(admin_url, name):
    subprocess.run(["psql", "-X", "-q", admin_url, "-c", f"DROP DATABASE IF EXISTS {name}"], check=True, timeout=60)
    subprocess.run(["psql", "-X", "-q", admin_url, "-c", f"CREATE DATABASE {name}"], check=True, timeout=60)
    return admin_url.rsplit("/", 1)[0] + "/" + name


class OwnPostgres:
    """A PostgreSQL cluster of our own in a temp dir on a free port (the machine's 5432 is
    shared and never touched), run as the postgres user."""

    def __init__(self, work):
        self.dir = os.path.join(work, "pg")
        self.port = free_port()
        os.makedirs(self.dir, exist_ok=True)
        shutil.chown(self.dir, "postgres", "postgres")
        self._as_pg([f"{PG_BIN}/initdb", "-D", self.dir + "/data", "-A", "trust", "-U", "postgres"])
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def _as_pg(self, cmd):
        subprocess.run(["runuser", "-u", "postgres", "--"] + cmd, check=True, timeout=120,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def start(self):
        self._as_pg([f"{PG_BIN}/pg_ctl", "-D", self.dir + "/data", "-l", self.dir + "/log", "-w",
                     "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=on",
                     "start"])

    def stop(self, mode="fast"):
        self._as_pg([f"{PG_BIN}/pg_ctl", "-D", self.dir + "/data", "-m", mode, "-w", "stop"])


def ports_listening_only_loopback(pid):
    """Every TCP socket the process listens on is bound to 127.0.0.1."""
    out = subprocess.run(["ss", "-ltnp"], capture_output=True, text=True).stdout
    return all(("127.0.0.1:" in line) for line in out.splitlines() if f"pid={pid}," in line)


def new_work(name):
    d = tempfile.mkdtemp(prefix=f"sky-faults-{name}-")
    os.chmod(d, 0o755)
    return d
