#!/usr/bin/env python3
"""Tables (Markdown) and charts (SVG) from bench/results/runs.jsonl.

  bench/run.sh report [--session S]     (default: every session, newest run per target and N wins)

Writes bench/results/summary.md and bench/results/chart-*.svg. Standard library only.
"""
import argparse
import html
import json
import os
import statistics

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.environ.get("SKY_BENCH_RESULTS", os.path.join(HERE, "results"))

ORDER = ["ours", "ours-legacy", "ws", "socketio", "soketi", "java", "python"]
NAMES = {
    "ours": "sky-takeout /ws/v2/alerts (auth, paid-order trigger)",
    "ours-legacy": "sky-takeout /ws/{sid} (paid-order trigger)",
    "ws": "Node ws",
    "socketio": "Socket.IO 4",
    "soketi": "Soketi 1.6 (uWS)",
    "java": "Tomcat 9 javax.websocket (original design)",
    "python": "Python websockets",
}
COLORS = {"ours": "#d9480f", "ours-legacy": "#f08c00", "ws": "#1c7ed6", "socketio": "#7048e8",
          "soketi": "#0ca678", "java": "#868e96", "python": "#e64980"}


def load(session=None):
    rows = []
    with open(os.path.join(RESULTS, "runs.jsonl")) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            r = json.loads(line)
            if session and r.get("session") != session:
                continue
            rows.append(r)
    return rows


def g(d, *path):
    for p in path:
        if not isinstance(d, dict) or d.get(p) is None:
            return None
        d = d[p]
    return d


def f(v, fmt="{:.1f}"):
    return "n/a" if v is None else fmt.format(v)


def median(rows, *path):
    vals = [g(r, *path) for r in rows]
    vals = [v for v in vals if isinstance(v, (int, float))]
    return statistics.median(vals) if vals else None


def group(rows, scenario):
    out = {}
    for r in rows:
        if r.get("scenario") == scenario:
            out.setdefault((r["target"], r["n"]), []).append(r)
    # the newest session per (target, n)
    for k, v in out.items():
        newest = max(x.get("session", "") for x in v)
        out[k] = [x for x in v if x.get("session", "") == newest]
    return out


def ordered(keys):
    return sorted(keys, key=lambda k: (k[1], ORDER.index(k[0]) if k[0] in ORDER else 99))


def state(rs):
    r = rs[-1]
    return f"load {g(r, 'machine', 'loadavg')}, busy before {f(r.get('machine_busy_before'), '{:.0%}')}"


def idle_table(rows, scenario="idle"):
    gr = group(rows, scenario)
    if not gr:
        return "", {}
    lines = ["| target | N | connected | RSS before MiB | RSS connected MiB | **KiB per connection** | conn/s | machine |",
             "|---|---|---|---|---|---|---|---|"]
    chart = {}
    for (t, n) in ordered(gr):
        rs = gr[(t, n)]
        kb = median(rs, "rss_per_conn_kb")
        chart.setdefault(t, {})[n] = kb
        lines.append(f"| {t} | {n} | {median(rs, 'connected'):.0f} | {f((median(rs, 'server_rss_kb', 'before') or 0) / 1024)} | "
                     f"{f((median(rs, 'server_rss_kb', 'connected') or 0) / 1024)} | **{f(kb, '{:.2f}')}** | {f(median(rs, 'connect_rate'), '{:.0f}')} | {state(rs)} |")
    return "\n".join(lines), chart


def broadcast_table(rows):
    gr = group(rows, "broadcast")
    if not gr:
        return "", {}
    lines = ["| target | N | delivered | last screen p50 ms | last screen p99 ms | last screen max ms | delivery p99 ms | **server CPU µs / delivery** | tool CPU µs / delivery | machine |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    chart = {}
    for (t, n) in ordered(gr):
        rs = gr[(t, n)]
        cpu = median(rs, "server_cpu_us_per_delivery")
        tool = [1e6 * r["fanout_cpu_publish_s"] / r["delivered"] for r in rs if r.get("delivered")]
        chart.setdefault(t, {})[n] = cpu
        lines.append(f"| {t} | {n} | {median(rs, 'delivered'):.0f}/{median(rs, 'expected'):.0f} | {f(median(rs, 'time_to_last_client_ms', 'p50'))} | "
                     f"{f(median(rs, 'time_to_last_client_ms', 'p99'))} | {f(median(rs, 'time_to_last_client_ms', 'max'))} | {f(median(rs, 'latency_ms', 'p99'))} | "
                     f"**{f(cpu, '{:.2f}')}** | {f(statistics.median(tool) if tool else None, '{:.2f}')} | {state(rs)} |")
    return "\n".join(lines), chart


def overload_table(rows):
    gr = group(rows, "overload")
    if not gr:
        return "", {}
    lines = ["| target | N | alerts x screens | **lost** (10 s after the last alert) | delivered % | **deliveries/s** | lat p50 ms | **p99 ms** | max ms | RSS connected MiB | **RSS peak MiB** | server CPU µs / delivery | machine |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    chart = {}
    for (t, n) in ordered(gr):
        rs = gr[(t, n)]
        peak = median(rs, "server_mem", "peak_sampled_kb")
        chart.setdefault(t, {})[n] = (median(rs, "deliveries_per_s"), median(rs, "delivered_pct"))
        lines.append(f"| {t} | {n} | {median(rs, 'expected'):.0f} | **{median(rs, 'lost'):.0f}** | {f(median(rs, 'delivered_pct'), '{:.2f}')} | **{f(median(rs, 'deliveries_per_s'), '{:.0f}')}** | "
                     f"{f(median(rs, 'latency_ms', 'p50'))} | **{f(median(rs, 'latency_ms', 'p99'))}** | {f(median(rs, 'latency_ms', 'max'))} | "
                     f"{f((median(rs, 'server_rss_kb', 'connected') or 0) / 1024)} | **{f((peak or 0) / 1024)}** | {f(median(rs, 'server_cpu_us_per_delivery'), '{:.2f}')} | {state(rs)} |")
    return "\n".join(lines), chart


def mp_runs(rows):
    out = {}
    for r in rows:
        if r.get("scenario") in ("marketplace", "cluster"):
            key = (r["scenario"], r.get("backend"), r.get("broker"))
            if key not in out or r.get("session", "") >= out[key].get("session", ""):
                out[key] = r
    return out


def mp_table(rows):
    runs = mp_runs(rows)
    if not runs:
        return "", {}
    lines = ["| setup | offered /s | achieved /s | paid | lost | pay→screen p50 ms | p99 ms | max ms | cross-instance p50 / p99 ms | HTTP pay p99 ms | server CPU µs / order | other CPU s | held (p99 < 50 ms, 0 lost) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    chart = {}
    for key in sorted(runs):
        r = runs[key]
        label = f"{key[0]} {key[1]}" + (f" x{r.get('instances_n')} {key[2]}" if key[0] == "cluster" else "")
        pts = []
        for s in r["steps"]:
            cross = s.get("cross_instance_ms") or {}
            lines.append(f"| {label} | {s['rate']:.0f} | {f(s.get('achieved_rate'), '{:.0f}')} | {s['paid']} | {s['lost']} | {f(g(s, 'latency_ms', 'p50'))} | {f(g(s, 'latency_ms', 'p99'))} | "
                         f"{f(g(s, 'latency_ms', 'max'))} | {f(cross.get('p50')) + ' / ' + f(cross.get('p99')) if cross.get('n') else '—'} | "
                         f"{f(g(s, 'http_rtt_ms', 'p99'))} | {f(s.get('server_cpu_us_per_order'), '{:.0f}')} | {f(s.get('other_cpu_s'))} | {'yes' if s.get('held') else 'no'} |")
            pts.append((s["rate"], g(s, "latency_ms", "p50"), g(s, "latency_ms", "p99")))
        upto = None
        for st in r["steps"]:
            if not st.get("held"):
                break
            upto = st["rate"]
        lines.append(f"| **{label}: highest rate held** | **{f(r.get('max_rate_held'), '{:.0f}')}** "
                     f"(every step up to it: {f(upto, '{:.0f}')}) | | | | | | | | | | | |")
        chart[label] = pts
    return "\n".join(lines), chart


def before_after_table(rows, before="ba-head-before", after="ba-head-after"):
    """Our server before and after the changes of this round (HEAD vs HEAD + them), same tool."""
    out = {}
    for r in rows:
        if r.get("session") in (before, after) and r.get("target") == "ours":
            out.setdefault((r["scenario"], r["session"]), []).append(r)
    if not out:
        return ""
    lines = [f"Medians of the runs in sessions `{before}` and `{after}` (N = 10,000, interleaved).\n",
             "| scenario | metric | before | after | change |", "|---|---|---|---|---|"]
    specs = [("idle", "RSS per idle connection, KiB", ("rss_per_conn_kb",), "{:.2f}"),
             ("broadcast", "server CPU per delivery, µs", ("server_cpu_us_per_delivery",), "{:.2f}"),
             ("broadcast", "time to last screen p50, ms", ("time_to_last_client_ms", "p50"), "{:.1f}"),
             ("overload", "deliveries/s", ("deliveries_per_s",), "{:.0f}"),
             ("overload", "delivery p99, ms", ("latency_ms", "p99"), "{:.0f}"),
             ("overload", "server CPU per delivery, µs", ("server_cpu_us_per_delivery",), "{:.2f}"),
             ("overload", "RSS peak, MiB", ("server_mem", "peak_sampled_kb"), "{:.0f}")]
    for sc, label, path, fmt in specs:
        b = median(out.get((sc, before), []), *path)
        a = median(out.get((sc, after), []), *path)
        if path == ("server_mem", "peak_sampled_kb"):
            b, a = (b or 0) / 1024, (a or 0) / 1024
        ch = f"{(a / b - 1) * 100:+.0f}%" if a and b else "n/a"
        lines.append(f"| {sc} | {label} | {f(b, fmt)} | {f(a, fmt)} | {ch} |")
    return "\n".join(lines)


def pgbench_table(rows):
    rs = [r for r in rows if r.get("scenario") == "pgbench"]
    if not rs:
        return ""
    r = max(rs, key=lambda x: x.get("session", ""))
    return ("| pgbench (same box, -c 8 -j 2 -T 10, scale 10) | TPS | avg latency ms |\n|---|---|---|\n"
            f"| TPC-B-like (5 statements, 1 transaction) | {f(g(r, 'tpcb', 'tps'), '{:.0f}')} | {f(g(r, 'tpcb', 'latency_avg_ms'), '{:.2f}')} |\n"
            f"| select-only (-S) | {f(g(r, 'select-only', 'tps'), '{:.0f}')} | {f(g(r, 'select-only', 'latency_avg_ms'), '{:.2f}')} |")


# ----------------------------------------------------------------------------- SVG

def human(v):
    if abs(v) >= 10000:
        return f"{v / 1000:.0f}k"
    if abs(v) >= 100:
        return f"{v:.0f}"
    return f"{v:.3g}"


def svg_bars(path, title, unit, data, ns, log=False, better="lower"):
    """Grouped bar chart: data[target][n] = value."""
    targets = [t for t in ORDER if t in data]
    W, H, L, B, T = 860, 420, 70, 90, 50
    pw, ph = W - L - 20, H - T - B
    vals = [v for t in targets for v in data[t].values() if isinstance(v, (int, float))]
    if not vals:
        return
    vmax = max(vals) * 1.15
    gw = pw / max(1, len(ns))
    bw = gw * 0.8 / max(1, len(targets))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">{html.escape(title)}</text>',
           f'<text x="{W / 2}" y="40" text-anchor="middle" fill="#555">{html.escape(unit)} ({better} is better)</text>']
    for k in range(6):
        v = vmax * k / 5
        y = T + ph - ph * k / 5
        out.append(f'<line x1="{L}" x2="{L + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>')
        out.append(f'<text x="{L - 6}" y="{y + 4:.1f}" text-anchor="end">{human(v)}</text>')
    for i, n in enumerate(ns):
        gx = L + gw * i + gw * 0.1
        out.append(f'<text x="{L + gw * i + gw / 2:.1f}" y="{T + ph + 18}" text-anchor="middle" font-weight="bold">N = {n}</text>')
        for j, t in enumerate(targets):
            v = data[t].get(n)
            x = gx + bw * j
            if not isinstance(v, (int, float)):
                out.append(f'<text x="{x + bw / 2:.1f}" y="{T + ph - 4}" text-anchor="middle" fill="#999">–</text>')
                continue
            h = ph * v / vmax
            out.append(f'<rect x="{x:.1f}" y="{T + ph - h:.1f}" width="{bw * 0.92:.1f}" height="{h:.1f}" fill="{COLORS.get(t, "#333")}"/>')
            out.append(f'<text x="{x + bw * 0.46:.1f}" y="{T + ph - h - 3:.1f}" text-anchor="middle" font-size="10">{human(v)}</text>')
    lx = L
    for t in targets:
        out.append(f'<rect x="{lx}" y="{H - 40}" width="12" height="12" fill="{COLORS.get(t, "#333")}"/>')
        out.append(f'<text x="{lx + 16}" y="{H - 30}">{html.escape(t)}</text>')
        lx += 16 + 8 * len(t) + 18
    out.append("</svg>")
    with open(path, "w") as fh:
        fh.write("\n".join(out))


def svg_lines(path, title, series, target_ms=50.0):
    """p50 (dashed) and p99 (solid) pay-to-screen latency vs offered rate, log y axis."""
    import math
    W, H, L, B, T = 860, 500, 70, 140, 50
    pw, ph = W - L - 20, H - T - B
    pts = [(x, y) for s in series.values() for (x, a, b) in s for y in (a, b) if y]
    if not pts:
        return
    xmax = max(x for x, _ in pts) * 1.05
    ymin, ymax = 0.5, max(max(y for _, y in pts) * 1.5, target_ms * 2)
    ly = lambda v: T + ph - ph * (math.log10(max(v, ymin)) - math.log10(ymin)) / (math.log10(ymax) - math.log10(ymin))
    lx = lambda v: L + pw * v / xmax
    palette = ["#d9480f", "#1c7ed6", "#0ca678", "#7048e8", "#e64980", "#868e96"]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">{html.escape(title)}</text>',
           f'<text x="{W / 2}" y="40" text-anchor="middle" fill="#555">pay request start → alert on the shop\'s screens; solid p99, dashed p50; log scale</text>']
    v = ymin
    while v <= ymax:
        y = ly(v)
        out.append(f'<line x1="{L}" x2="{L + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>')
        out.append(f'<text x="{L - 6}" y="{y + 4:.1f}" text-anchor="end">{v:g} ms</text>')
        v *= 10
    y = ly(target_ms)
    out.append(f'<line x1="{L}" x2="{L + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="#c92a2a" stroke-dasharray="2,3"/>')
    out.append(f'<text x="{L + pw - 4}" y="{y - 4:.1f}" text-anchor="end" fill="#c92a2a">{target_ms:g} ms</text>')
    for xv in sorted({x for s in series.values() for (x, _, _) in s}):
        out.append(f'<text x="{lx(xv):.1f}" y="{T + ph + 16}" text-anchor="middle">{xv:g}</text>')
    out.append(f'<text x="{L + pw / 2}" y="{T + ph + 34}" text-anchor="middle">offered payments per second</text>')
    for i, (name, s) in enumerate(series.items()):
        c = palette[i % len(palette)]
        for idx, dash in ((2, ""), (1, ' stroke-dasharray="5,4"')):
            p = [(lx(x), ly(a if idx == 1 else b)) for (x, a, b) in s if (a if idx == 1 else b)]
            if p:
                out.append(f'<polyline fill="none" stroke="{c}" stroke-width="2"{dash} points="' + " ".join(f"{x:.1f},{yy:.1f}" for x, yy in p) + '"/>')
                for x, yy in p:
                    out.append(f'<circle cx="{x:.1f}" cy="{yy:.1f}" r="3" fill="{c}"/>')
        ly0 = T + ph + 50 + 18 * (i // 2)
        lx0 = L + 10 + 400 * (i % 2)
        out.append(f'<rect x="{lx0}" y="{ly0}" width="12" height="12" fill="{c}"/>')
        out.append(f'<text x="{lx0 + 18}" y="{ly0 + 10}">{html.escape(name)}</text>')
    out.append("</svg>")
    with open(path, "w") as fh:
        fh.write("\n".join(out))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--session", default=None)
    args = ap.parse_args()
    rows = load(args.session)
    parts = ["# Benchmark results (generated by bench/report.py from results/runs.jsonl)\n"]
    t, ch = idle_table(rows)
    if t:
        parts += ["## 1. Idle dashboards: server memory per authenticated idle connection\n", t, ""]
        ns = sorted({n for v in ch.values() for n in v})
        svg_bars(os.path.join(RESULTS, "chart-idle-memory.svg"), "Server RSS per idle connection", "KiB per connection", ch, ns)
    t, ch = idle_table(rows, "idle-c20")
    if t:
        parts += ["### Steady state: the same with 20 handshakes in flight instead of 200\n", t, ""]
        ns = sorted({n for v in ch.values() for n in v})
        svg_bars(os.path.join(RESULTS, "chart-idle-memory-c20.svg"), "Server RSS per idle connection (20 handshakes in flight)", "KiB per connection", ch, ns)
    t, ch = broadcast_table(rows)
    if t:
        parts += ["## 2. Broadcast: one shop, N screens, one alert at a time\n", t, ""]
        ns = sorted({n for v in ch.values() for n in v})
        svg_bars(os.path.join(RESULTS, "chart-broadcast-cpu.svg"), "Server CPU per delivered alert (broadcast, one at a time)", "µs of server CPU per delivery", ch, ns)
    t, ch = overload_table(rows)
    if t:
        parts += ["## 3. Overload: 10,000 screens, 20 alerts/s for 10 s\n", t, ""]
        ns = sorted({n for v in ch.values() for n in v})
        svg_bars(os.path.join(RESULTS, "chart-overload-throughput.svg"), "Overload: deliveries per second (10,000 screens, 20 alerts/s)",
                 "deliveries/s", {k: {n: v[0] for n, v in d.items()} for k, d in ch.items()}, ns, better="higher")
    t, ch = mp_table(rows)
    if t:
        parts += ["## 4-5. Marketplace and cross-instance\n", t, ""]
        any_run = next(iter(mp_runs(rows).values()))
        svg_lines(os.path.join(RESULTS, "chart-marketplace-latency.svg"),
                  f"Marketplace: {any_run.get('shops', 0):,} shops, {any_run.get('screens', 0):,} screens", ch)
    ba = before_after_table(load(None))
    if ba:
        parts += ["## Our server before / after this round's changes\n", ba, ""]
    pg = pgbench_table(rows)
    if pg:
        parts += ["### pgbench on the same box (the PostgreSQL ceiling)\n", pg, ""]
    text = "\n".join(parts) + "\n"
    with open(os.path.join(RESULTS, "summary.md"), "w") as fh:
        fh.write(text)
    print(text)


if __name__ == "__main__":
    main()
