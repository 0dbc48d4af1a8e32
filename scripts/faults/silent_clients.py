#!/usr/bin/env python3
"""Slow and silent clients: thousands of sockets that complete their handshake and then never
read, while healthy screens listen and payers keep paying. Measures that the server's memory
stays bounded, that every silent socket is closed by the server within the write deadline, and
what the healthy screens' pay-to-screen latency was before (quiet baseline) and during.

    scripts/faults/silent_clients.py                      # 5,000 replay + 2,500 live + 2,500 legacy
    scripts/faults/silent_clients.py --replay 500 --live 250 --legacy 250   # a quick try

Phases: seed a backlog of --backlog paid orders (no screen connected: every alert unhandled and
undelivered), connect the --healthy screens (from the log's last sequence, so they replay
nothing), pay --rate orders per second for --baseline-secs (the quiet baseline), then open the
silent sockets from --procs processes (each from its own source address 127.0.0.2, .3, ...; each
socket's SO_RCVBUF set to --rcvbuf before connect) while the payments go on:

  replay  /ws/v2/alerts, auth with lastSeq 0: the server replays the last --replay-limit alerts
          (after a `truncated` notice), far more than the socket buffers hold
  live    /ws/v2/alerts, auth without lastSeq: no replay, only the live alerts back up
  legacy  /ws/{sid} (the stock page, token header): the alerts no screen has received yet (the
          seeded backlog, up to the replay limit) and then live ones

After the handshake (and the auth message) a silent socket never reads again. The server's side
is watched every --sample-secs: its RSS and peak (VmRSS/VmHWM), its descriptors
(/proc/PID/fd), the kernel's TCP memory (/proc/net/sockstat), and per silent connection, from
/proc/net/tcp and the server's descriptors: the last time its send queue grew (after that the
server's writes make no progress: `stuck`) and when the server let go of the connection (its
descriptor is gone: closed), so `stuck_to_closed` is how long the server kept a connection
whose writes could not proceed. Closing needs no read by the client (its data and FIN may still
sit in the kernel). At the end each silent process reads a sample of its sockets to see what the
server had sent last (a close frame, or a cut-off stream and EOF).

Prints one JSON line; exits non-zero when a silent socket was still held at the end, a healthy
screen lost an alert, or the server panicked or died.
"""

import argparse
import asyncio
import base64
import json
import multiprocessing
import os
import random
import re
import socket
import time

import faultlib as f



# ----------------------------------------------------------------------------- silent clients

def _masked(opcode, payload):
    mask = os.urandom(4)
    n = len(payload)
    head = bytes([0x80 | opcode]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + n.to_bytes(2, "big"))
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


async def _open_silent(loop, port, src_ip, kind, token, rcvbuf, i):
    """One silent socket: handshake (and auth), then left unread. Returns (sock, local port)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.bind((src_ip, 0))
        s.setblocking(False)
        await loop.sock_connect(s, ("127.0.0.1", port))
        path = f"/ws/silent-{i}" if kind == "legacy" else "/ws/v2/alerts"
        key = base64.b64encode(os.urandom(16)).decode()
        head = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n")
        if kind == "legacy":
            head += f"token: {token}\r\n"
        await loop.sock_sendall(s, (head + "\r\n").encode())
        got = b""
        while b"\r\n\r\n" not in got:
            # Reads the HTTP answer only (a few bytes of a first frame may come with it).
            chunk = await loop.sock_recv(s, 256)
            if not chunk:
                raise ConnectionResetError("closed during handshake")
            got += chunk
        if not got.startswith(b"HTTP/1.1 101"):
            raise ConnectionRefusedError(got.split(b"\r\n")[0].decode(errors="replace"))
        if kind != "legacy":
            auth = {"type": "auth", "token": token}
            if kind == "replay":
                auth["lastSeq"] = 0
            await loop.sock_sendall(s, _masked(0x1, json.dumps(auth).encode()))
        return s, s.getsockname()[1]
    except BaseException:
        s.close()
        raise


async def _what_was_sent(loop, s, secs):
    """Reads everything the server had left for a silent socket (bounded): frames, the close
    code if a close frame came, and how the stream ended."""
    buf = b""
    end = "timeout"
    deadline = time.monotonic() + secs
    while time.monotonic() < deadline:
        try:
            chunk = await asyncio.wait_for(loop.sock_recv(s, 65536), max(0.01, deadline - time.monotonic()))
        except asyncio.TimeoutError:
            break
        except OSError:
            end = "reset"
            break
        if not chunk:
            end = "eof"
            break
        buf += chunk
    frames, close, pos = 0, None, 0
    while pos + 2 <= len(buf):
        op, n, h = buf[pos] & 0x0F, buf[pos + 1] & 0x7F, 2
        if n == 126:
            n, h = int.from_bytes(buf[pos + 2:pos + 4], "big"), 4
        elif n == 127:
            n, h = int.from_bytes(buf[pos + 2:pos + 10], "big"), 10
        if pos + h + n > len(buf):
            break
        if op == 0x8:
            close = int.from_bytes(buf[pos + h:pos + h + 2], "big") if n >= 2 else 1005
        elif op == 0x1:
            frames += 1
        pos += h + n
    return {"frames": frames, "close": close, "end": end, "cut_mid_frame": pos < len(buf)}


def silent_proc(port, src_ip, kinds, token, rcvbuf, concurrency, connect_secs, sample, out, done):
    """A process holding its share of the silent sockets until `done` is set."""
    async def run():
        loop = asyncio.get_running_loop()
        gate = asyncio.Semaphore(concurrency)
        held = []            # (kind, sock, local port, opened at)
        failed = {}
        deadline = time.monotonic() + connect_secs

        async def one(kind, i):
            async with gate:
                left = deadline - time.monotonic()
                if left <= 0:
                    failed["not tried: connect bound"] = failed.get("not tried: connect bound", 0) + 1
                    return
                try:
                    s, lport = await asyncio.wait_for(_open_silent(loop, port, src_ip, kind, token, rcvbuf, i), min(left, 20))
                    held.append((kind, s, lport, time.monotonic()))
                except (OSError, asyncio.TimeoutError) as e:
                    k = f"{kind}: {type(e).__name__} {e}"[:80]
                    failed[k] = failed.get(k, 0) + 1

        sent = [0]

        def flush():
            if len(held) > sent[0]:
                out.put(("open", src_ip, [(k, lport, t) for k, _, lport, t in held[sent[0]:]]))
                sent[0] = len(held)

        async def report():
            while True:
                flush()
                await asyncio.sleep(0.25)

        jobs = [(k, i) for k, n in kinds for i in range(n)]
        random.shuffle(jobs)
        t0 = time.monotonic()
        reporting = asyncio.create_task(report())
        await asyncio.gather(*(one(k, i) for k, i in jobs))
        reporting.cancel()
        flush()
        out.put(("opened", src_ip, failed, t0, time.monotonic(), len(held)))
        while not done.is_set():
            await asyncio.sleep(0.2)
        picks = {}
        for k, s, _, _ in held:
            picks.setdefault(k, [])
            if len(picks[k]) < sample:
                picks[k].append(s)
        seen = {}
        for k, socks in picks.items():
            res = await asyncio.gather(*(_what_was_sent(loop, s, 5.0) for s in socks))
            agg = {"sampled": len(res), "frames_median": sorted(r["frames"] for r in res)[len(res) // 2] if res else 0,
                   "close_codes": {}, "ends": {}, "cut_mid_frame": sum(r["cut_mid_frame"] for r in res)}
            for r in res:
                c = str(r["close"]) if r["close"] is not None else "none"
                agg["close_codes"][c] = agg["close_codes"].get(c, 0) + 1
                agg["ends"][r["end"]] = agg["ends"].get(r["end"], 0) + 1
            seen[k] = agg
        for _, s, _, _ in held:
            s.close()
        out.put(("seen", src_ip, seen))
    asyncio.run(run())


# ----------------------------------------------------------------------------- the server's side

def _addr(hexaddr):
    ip, port = hexaddr.split(":")
    return socket.inet_ntoa(bytes.fromhex(ip)[::-1]), int(port, 16)


def server_sockets(pid, port):
    """The server's accepted TCP connections: {(peer ip, peer port): send-queue bytes}, for the
    ones it still holds a descriptor of, and the count of orphans (closed by the process, the
    kernel still holding unsent data)."""
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if link.startswith("socket:["):
                inodes.add(link[8:-1])
    except OSError:
        pass
    held, orphans = {}, 0
    local = f"0100007F:{port:04X}"
    with open("/proc/net/tcp") as fh:
        next(fh)
        for line in fh:
            p = line.split()
            if p[1] != local or p[3] == "0A":
                continue
            if p[9] in inodes:
                held[_addr(p[2])] = int(p[4].split(":")[0], 16)
            elif p[9] == "0" and p[3] in ("04", "05", "0B", "09"):
                # FIN_WAIT1/2, CLOSING, LAST_ACK: closed by the server, not yet gone (not
                # TIME_WAIT, which every HTTP/1.1 `Connection: close` reply leaves).
                orphans += 1
    return held, orphans


def sockstat():
    out = {}
    with open("/proc/net/sockstat") as fh:
        for line in fh:
            if line.startswith("TCP:"):
                p = line.split()[1:]
                out = {p[i]: int(p[i + 1]) for i in range(0, len(p), 2)}
    return {"tcp_inuse": out.get("inuse"), "tcp_orphan": out.get("orphan"),
            "tcp_mem_mib": round(out.get("mem", 0) * 4096 / 2 ** 20, 1)}


def fd_count(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


async def metric_values(port, names):
    st, text = await f.http(port, "GET", "/metrics")
    got = {}
    for line in str(text).splitlines():
        m = re.match(r"^([a-z_]+)(\{[^}]*\})?\s+([0-9.eE+-]+)$", line)
        if m and m.group(1) in names:
            key = m.group(1) + (m.group(2) or "")
            got[key] = got.get(key, 0) + float(m.group(3))
    return {k: int(v) for k, v in got.items()}


def pct(xs, q):
    if not xs:
        return None
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(len(xs) * q))], 1)


# ----------------------------------------------------------------------------- the run

async def main(a):
    started = time.monotonic()
    work = f.new_work("silent")
    silent_total = a.replay + a.live + a.legacy
    env = {
        "SKY_REALERT_DELAY_SECS": "0", "SKY_SHUTDOWN_SECS": "3",
        "SKY_REPLAY_LIMIT": str(a.replay_limit),
        # Room for every silent socket and the screens, in all, in the one shop, in handshake.
        "SKY_MAX_CONNECTIONS": str(silent_total + 1000),
        "SKY_MAX_SOCKETS": str(silent_total + 500),
        "SKY_MAX_SOCKETS_PER_SHOP": str(silent_total + 500),
        "SKY_MAX_HANDSHAKES": str(silent_total + 500),
    }
    server = f.Server(f.free_port(), f"sqlite://{work}/sky.db", work, env=env)
    server.start()
    server.wait_up()
    pid, port = server.proc.pid, server.port
    db = f.Db(server.database_url)
    token = await f.merchant_token(port)
    load_start = f.uptime()
    f.log(f"seeding {a.backlog} paid orders; {load_start}")

    seeders = f.Payers([port], n=8)
    seeding = asyncio.create_task(seeders.run())
    seed_deadline = time.monotonic() + a.seed_secs
    while len(seeders.paid) < a.backlog and time.monotonic() < seed_deadline:
        await asyncio.sleep(0.2)
    seeders.stopped = True
    await asyncio.wait_for(seeding, 30)
    seq0 = int(db.scalar("SELECT alert_seq FROM shop WHERE id = 1"))

    # Healthy screens, from the log's last sequence: no replay, live alerts only.
    arrivals = []                       # per screen: order id -> first arrival
    screens = []
    for i in range(a.healthy):
        sc = f.Screen(f"h{i}", [port], token, max_backoff=0.5)
        sc.last_seq = seq0
        got = {}
        sc.on_alert = (lambda ev, got=got: got.setdefault(ev.get("orderId"), time.monotonic()))
        arrivals.append(got)
        screens.append(sc)
    screen_tasks = [asyncio.create_task(s.run()) for s in screens]
    for _ in range(100):
        if all(s.connections for s in screens):
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.0)

    samples = []
    watch = {}                          # (ip, port) -> {"kind", "opened", "queued", "progress", "closed"}
    seen_held = set()
    state = {"stop": False}

    async def sampler():
        while not state["stop"]:
            t = time.monotonic()
            held, orphans = await asyncio.get_running_loop().run_in_executor(None, server_sockets, pid, port)
            now = time.monotonic()
            for key, w in watch.items():
                q = held.get(key)
                if q is not None:
                    seen_held.add(key)
                    # Its send queue still grows: the server's writes still make progress.
                    if q > w["queued"]:
                        w["queued"], w["progress"] = q, now
                elif w["closed"] is None and (key in seen_held or now - w["opened"] > 2):
                    w["closed"] = now
            rss, hwm = f.rss_mib(pid)
            samples.append({"t": round(now - started, 1), "rss": rss, "hwm": hwm, "fds": fd_count(pid),
                            "held": len(held), "orphans": orphans, **sockstat()})
            await asyncio.sleep(max(0.0, a.sample_secs - (time.monotonic() - t)))

    sampling = asyncio.create_task(sampler())
    rss_base, hwm_base = f.rss_mib(pid)
    fds_base = fd_count(pid)

    payers = f.Payers([port], n=a.payers, pace=a.payers / a.rate)
    paying = asyncio.create_task(payers.run())
    t_base = time.monotonic()
    f.log(f"baseline {a.baseline_secs}s at ~{a.rate}/s, {a.healthy} healthy screens from seq {seq0}; {f.uptime()}")
    await asyncio.sleep(a.baseline_secs)

    # The silent phase.
    t_silent = time.monotonic()
    f.log(f"silent phase: {a.replay} replay + {a.live} live + {a.legacy} legacy sockets from {a.procs} processes; {f.uptime()}")
    q = multiprocessing.Queue()
    done = multiprocessing.Event()
    shares = []
    for p in range(a.procs):
        share = lambda n: n // a.procs + (1 if p < n % a.procs else 0)
        shares.append([("replay", share(a.replay)), ("live", share(a.live)), ("legacy", share(a.legacy))])
    procs = [multiprocessing.Process(target=silent_proc, daemon=True,
                                     args=(port, f"127.0.0.{2 + p}", shares[p], token, a.rcvbuf, a.concurrency,
                                           a.connect_secs, a.sample_clients, q, done))
             for p in range(a.procs)]
    for p in procs:
        p.start()
    loop = asyncio.get_running_loop()
    opened_reports = []
    bound = time.monotonic() + a.connect_secs + 60
    while len(opened_reports) < len(procs) and time.monotonic() < bound:
        try:
            msg = await loop.run_in_executor(None, q.get, True, 1.0)
        except Exception:  # queue.Empty
            continue
        if msg[0] == "open":
            for kind, lport, t in msg[2]:
                watch[(msg[1], lport)] = {"kind": kind, "opened": t, "queued": 0, "progress": t, "closed": None}
        else:
            opened_reports.append(msg)
            _, ip, failed, t0, t1, n = msg
            f.log(f"{ip}: {n} silent sockets open in {t1 - t0:.1f}s, failed {failed}; {f.uptime()}")
    t_all_open = max((m[4] for m in opened_reports), default=time.monotonic())
    load_silent = f.uptime()
    silent_end = t_silent + a.max_silent_secs
    all_closed_at = None
    while time.monotonic() < silent_end:
        await asyncio.sleep(0.5)
        if watch and all(w["closed"] for w in watch.values()):
            all_closed_at = max(w["closed"] for w in watch.values())
            break
    f.log(f"silent sockets closed: {sum(1 for w in watch.values() if w['closed'])}/{len(watch)}; {f.uptime()}")
    # A few more seconds of payments on the cleaned-up server, then catch-up.
    await asyncio.sleep(a.after_secs)
    t_end = time.monotonic()
    payers.stopped = True
    await asyncio.wait_for(paying, 30)
    paid_ids = set(payers.paid.values())
    catch = time.monotonic() + 15
    while time.monotonic() < catch and not all(paid_ids <= set(g) for g in arrivals):
        await asyncio.sleep(0.2)
    for s in screens:
        s.stopped = True
    for t in screen_tasks:
        t.cancel()

    # The silent processes: what the server had left on a sample of their sockets.
    done.set()
    seen = {}
    for _ in procs:
        try:
            msg = await loop.run_in_executor(None, q.get, True, 60)
            for k, v in msg[2].items():
                agg = seen.setdefault(k, {"sampled": 0, "close_codes": {}, "ends": {}, "cut_mid_frame": 0, "frames_median": []})
                agg["sampled"] += v["sampled"]
                agg["cut_mid_frame"] += v["cut_mid_frame"]
                agg["frames_median"].append(v["frames_median"])
                for d in ("close_codes", "ends"):
                    for c, n in v[d].items():
                        agg[d][c] = agg[d].get(c, 0) + n
        except Exception as e:  # a process that did not answer is reported, not fatal
            seen.setdefault("errors", []).append(repr(e))
    for p in procs:
        p.join(timeout=10)
        if p.is_alive():
            p.kill()
    await asyncio.sleep(a.idle_secs)
    state["stop"] = True
    await sampling
    rss_idle, hwm_end = f.rss_mib(pid)
    fds_idle = fd_count(pid)
    metrics = await metric_values(port, {"sky_write_deadline_closes_total", "sky_socket_write_timeouts_total",
                                         "sky_slow_socket_closes_total", "sky_connections_refused_total",
                                         "sky_replays_total", "sky_replayed_alerts_total"})

    # Healthy screens: pay -> screen latency by phase, and alerts lost.
    def lat(t_from, t_to):
        xs = [(got[oid] - t) * 1000 for oid, t in payers.pay_started.items() if t_from <= t < t_to and oid in paid_ids
              for got in arrivals if oid in got]
        n = sum(1 for oid, t in payers.pay_started.items() if t_from <= t < t_to and oid in paid_ids)
        return {"payments": n, "rate_per_s": round(n / max(t_to - t_from, 0.001), 1), "deliveries": len(xs),
                "p50_ms": pct(xs, 0.5), "p99_ms": pct(xs, 0.99), "max_ms": pct(xs, 1.0)}
    t_silent_end = all_closed_at or silent_end

    by_kind = {}
    for w in watch.values():
        k = by_kind.setdefault(w["kind"], {"open": 0, "closed": 0, "queued_kib_max": [], "open_to_closed": [],
                                           "stuck_to_closed": []})
        k["open"] += 1
        k["queued_kib_max"].append(w["queued"] / 1024)
        if w["closed"]:
            k["closed"] += 1
            k["open_to_closed"].append(w["closed"] - w["opened"])
            k["stuck_to_closed"].append(w["closed"] - w["progress"])
    for k in by_kind.values():
        k["queued_kib_max"] = {"p50": pct(k["queued_kib_max"], 0.5), "max": pct(k["queued_kib_max"], 1.0)}
        for name in ("open_to_closed", "stuck_to_closed"):
            xs = k.pop(name)
            k[name + "_s"] = {"p50": pct(xs, 0.5), "max": pct(xs, 1.0)}

    silent_samples = [s for s in samples if s["t"] >= t_silent - started]
    still_held = sum(1 for w in watch.values() if not w["closed"])
    lost = sum(len(paid_ids - set(g)) for g in arrivals)
    result = {
        "fault": "silent-clients", "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "silent_asked": {"replay": a.replay, "live": a.live, "legacy": a.legacy, "procs": a.procs, "rcvbuf": a.rcvbuf},
        "silent_opened": len(watch),
        "silent_failed": {k: v for m in opened_reports for k, v in m[2].items()},
        "connect_window_s": round(t_all_open - t_silent, 1),
        "backlog_seq": seq0, "replay_limit": a.replay_limit,
        "silent_by_kind": by_kind,
        "silent_still_held_at_end": still_held,
        "silent_phase_start_to_all_closed_s": None if all_closed_at is None else round(all_closed_at - t_silent, 1),
        "last_opened_to_all_closed_s": None if all_closed_at is None else round(all_closed_at - t_all_open, 1),
        "server_rss_mib": {"baseline": rss_base, "peak_sampled": max(s["rss"] for s in samples),
                           "vmhwm_end": hwm_end, "after_idle": rss_idle},
        "server_fds": {"baseline": fds_base, "peak": max(s["fds"] for s in samples), "after_idle": fds_idle},
        "kernel_tcp": {"mem_mib_peak": max(s["tcp_mem_mib"] for s in silent_samples) if silent_samples else None,
                       "orphans_peak": max(s["orphans"] for s in silent_samples) if silent_samples else None,
                       "orphans_end": samples[-1]["orphans"] if samples else None},
        "timeline": [{k: s[k] for k in ("t", "rss", "fds", "held", "orphans", "tcp_mem_mib")}
                     for s in samples[::max(1, len(samples) // 24)]],
        "what_silent_sockets_had": seen,
        "healthy": {"screens": a.healthy, "baseline": lat(t_base, t_silent), "silent": lat(t_silent, t_silent_end),
                    "after": lat(t_silent_end, t_end),
                    "alerts_lost": lost, "reconnects": sum(s.connections - 1 for s in screens),
                    "closes": {str(k): v for s in screens for k, v in s.closes.items()}},
        "metrics": metrics, "payer_errors": payers.errors,
        "server_alive": server.alive(), "server_panics": server.panics(),
        "run_s": round(time.monotonic() - started, 1), "load_start": load_start, "load_silent": load_silent,
        "load": f.uptime(),
    }
    server.stop()
    print(json.dumps(result, ensure_ascii=False))
    bad = still_held or lost or not result["server_alive"] or result["server_panics"]
    return 1 if bad else 0


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--replay", type=int, default=5000, help="silent /ws/v2 sockets with lastSeq 0")
    p.add_argument("--live", type=int, default=2500, help="silent /ws/v2 sockets without lastSeq")
    p.add_argument("--legacy", type=int, default=2500, help="silent /ws/{sid} sockets")
    p.add_argument("--procs", type=int, default=2, help="processes (and source addresses) for the silent sockets")
    p.add_argument("--rcvbuf", type=int, default=2048, help="SO_RCVBUF of each silent socket")
    p.add_argument("--concurrency", type=int, default=100, help="handshakes in flight per process")
    p.add_argument("--healthy", type=int, default=20)
    p.add_argument("--payers", type=int, default=4)
    p.add_argument("--rate", type=float, default=10, help="payments per second (paced, approximately)")
    p.add_argument("--backlog", type=int, default=600, help="orders paid before any screen connects")
    p.add_argument("--replay-limit", type=int, default=500)
    p.add_argument("--seed-secs", type=float, default=60)
    p.add_argument("--baseline-secs", type=float, default=15)
    p.add_argument("--connect-secs", type=float, default=60, help="bound on opening the silent sockets")
    p.add_argument("--max-silent-secs", type=float, default=100, help="bound on the silent phase")
    p.add_argument("--after-secs", type=float, default=5)
    p.add_argument("--idle-secs", type=float, default=5)
    p.add_argument("--sample-secs", type=float, default=0.5)
    p.add_argument("--sample-clients", type=int, default=100, help="silent sockets per kind and process read at the end")
    raise SystemExit(asyncio.run(main(p.parse_args())))
