#!/usr/bin/env bash
# One command per scenario, from the repository root:
#   bench/run.sh idle | broadcast | overload | marketplace | marketplace-sqlite | marketplace-pg
#              | cluster | cluster-redis | cluster-nats | pgbench | profile | report | all   [extra sky_bench.py flags]
#   bench/run.sh reports | reports-sqlite | reports-pg   [--orders N --shops S --n R]   (bench/reports_bench.py)
#   bench/run.sh menu | menu-sqlite | menu-pg   [--shops S --secs T --conns C]   (bench/menu_bench.py, needs wrk)
# Results: bench/results/runs.jsonl (one JSON line per run), bench/results/*.md and *.svg (report).
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
what="${1:-}"; shift || true
case "$what" in
  idle|broadcast|overload|marketplace|marketplace-sqlite|marketplace-pg|cluster|cluster-redis|cluster-nats|pgbench)
    "$REPO/bench/setup.sh"
    exec python3 "$REPO/bench/sky_bench.py" "$what" "$@" ;;
  reports|reports-sqlite|reports-pg)
    # Needs only our server (SKY_BIN, default target/release/sky-takeout) and, for pg, PostgreSQL.
    [[ -x ${SKY_BIN:-$REPO/target/release/sky-takeout} ]] || (cd "$REPO" && cargo build --release >&2)
    backend="${what#reports}"; backend="${backend#-}"
    exec python3 "$REPO/bench/reports_bench.py" "${backend:-both}" "$@" ;;
  menu|menu-sqlite|menu-pg)
    # Our server, wrk (Debian: apt-get install wrk) and, for pg, PostgreSQL.
    [[ -x ${SKY_BIN:-$REPO/target/release/sky-takeout} ]] || (cd "$REPO" && cargo build --release >&2)
    command -v wrk >/dev/null || (apt-get install -y -qq wrk >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq wrk)) >/dev/null 2>&1 || { echo "bench/run.sh menu needs wrk (apt-get install wrk)" >&2; exit 2; }
    backend="${what#menu}"; backend="${backend#-}"
    exec python3 "$REPO/bench/menu_bench.py" "${backend:-both}" "$@" ;;
  profile)
    "$REPO/bench/setup.sh"
    exec "$REPO/bench/profile.sh" "$@" ;;
  report)
    exec python3 "$REPO/bench/report.py" "$@" ;;
  all)
    "$REPO/bench/setup.sh"
    for s in idle broadcast overload marketplace cluster; do python3 "$REPO/bench/sky_bench.py" "$s" "$@"; done
    exec python3 "$REPO/bench/report.py" ;;
  *) sed -n '2,5p' "$0" >&2; exit 2 ;;
esac
