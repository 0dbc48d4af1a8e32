#!/usr/bin/env bash
# Where does our server's time go under the broadcast scenario?
#   bench/profile.sh [perf|callgrind|heaptrack] [N] [M]     (default: perf, 10000 screens, 200 alerts one at a time)
# perf: `perf record -e cpu-clock` (software clock: this VM has no hardware counters) of the
#       server process, user and kernel, flat and by caller; callgrind: instruction counts of
#       the user-space code (about 50x slower, so use a small N); heaptrack: the heap of the
#       connect phase (N screens, 200 handshakes in flight, no alert): the server is killed
#       3 s after the last screen is up, so "peak" is the connect phase's highest heap and
#       "leaked" what the N idle screens hold. PROFILE_LEGACY=1 profiles /ws/{sid} instead.
# Output: bench/results/profile-<tool>-<date>.txt (top symbols) and the raw data in $SKY_BENCH_DATA.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
TOOL="${1:-perf}"; N="${2:-10000}"; M="${3:-200}"
BENCH="${SKY_BENCH_DIR:-/tmp/bench}"; DATA="${SKY_BENCH_DATA:-/tmp/sky-bench}"
BIN="${SKY_BIN:-$REPO/target/release/sky-takeout}"
mkdir -p "$DATA" "$REPO/bench/results"
OUT="$REPO/bench/results/profile-$TOOL-broadcast${PROFILE_LABEL:+-$PROFILE_LABEL}-$(date +%Y%m%d-%H%M).txt"
# a fresh database with M unpaid orders and the tokens (the same preparation as the benchmarks)
python3 - "$M" <<PY > "$DATA/profile-tokens.json"
import json, sys
sys.path.insert(0, "$REPO/bench")
import sky_bench as b
m = int(sys.argv[1])
tok = b.sqlite_template("$DATA/profile.db", orders=[(b.ORDER_BASE + i, 1) for i in range(1, m + 1)])
print(json.dumps(tok))
PY
MT=$(python3 -c "import json;print(json.load(open('$DATA/profile-tokens.json'))['merchant_token'])")
CT=$(python3 -c "import json;print(json.load(open('$DATA/profile-tokens.json'))['customer_token'])")
PORT=${SKY_BENCH_PORT:-28080}
ENVV=(SKY_LISTEN=127.0.0.1:$PORT DATABASE_URL="sqlite://$DATA/profile.db" SKY_JWT_SECRET="$(python3 -c "import sys;sys.path.insert(0,'$REPO/bench');import sky_bench as b;print(b.JWT_SECRET)")"
      SKY_REALERT_DELAY_SECS=0 SKY_PAYMENT_TIMEOUT_MINS=100000 RUST_LOG=warn
      SKY_MAX_SOCKETS_PER_SHOP=19600 SKY_MAX_SOCKETS=19600 SKY_MAX_HANDSHAKES=19600)
ulimit -n "$(ulimit -Hn)"
case "$TOOL" in
  perf)      env "${ENVV[@]}" "$BIN" >"$DATA/profile-server.log" 2>&1 & ;;
  heaptrack) env "${ENVV[@]}" SKY_ALLOW_ANONYMOUS_WS=true heaptrack -o "$DATA/heaptrack" "$BIN" >"$DATA/profile-server.log" 2>&1 & ;;
  callgrind) env "${ENVV[@]}" valgrind --tool=callgrind --callgrind-out-file="$DATA/callgrind.out" "$BIN" >"$DATA/profile-server.log" 2>&1 & ;;
  *) echo "perf|callgrind|heaptrack" >&2; exit 2 ;;
esac
SRV=$!
trap 'kill -TERM $SRV 2>/dev/null || true' EXIT
for _ in $(seq 600); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.2; done
FAN=("$BENCH/fanout/target/release/fanout" -q --url "ws://127.0.0.1:$PORT/ws/v2/alerts" -n "$N" -m "$M" --rate 0
     --send-after-connect "{\"type\":\"auth\",\"token\":\"$MT\"}" --settle-ms 3000 --source-ips 127.0.0.1-8
     --trigger-url "http://127.0.0.1:$PORT/user/order/payment" --trigger-method PUT
     --trigger-body '{"orderNumber":"{i}","payMethod":1}' -H "authentication: $CT" -H 'content-type: application/json'
     --index-offset 1000001 --trigger-timeout 30 --max-duration 600 --server-pid "$SRV")
if [[ $TOOL == heaptrack ]]; then
  URL="ws://127.0.0.1:$PORT/ws/v2/alerts"; AUTH=(--send-after-connect "{\"type\":\"auth\",\"token\":\"$MT\"}")
  [[ -n ${PROFILE_LEGACY:-} ]] && { URL="ws://127.0.0.1:$PORT/ws/{c}"; AUTH=(); }
  "$BENCH/fanout/target/release/fanout" -q --url "$URL" -n "$N" -m 1 "${AUTH[@]}" --settle-ms 30000 \
    --trigger-url "http://127.0.0.1:$PORT/user/order/payment" --source-ips 127.0.0.1-8 --concurrency 200 --max-duration 600 --server-pid "$SRV" > "$DATA/profile-fanout.json" 2>&1 &
  FPID=$!
  # the server process itself (heaptrack's script runs it as a child)
  APP=""
  for _ in $(seq 100); do
    for c in $(cat /proc/$SRV/task/*/children 2>/dev/null); do
      [[ $(readlink "/proc/$c/exe") == "$(readlink -f "$BIN")" ]] && APP=$c
    done
    [[ -n $APP ]] && break; sleep 0.1
  done
  for _ in $(seq 1500); do
    kill -0 $FPID 2>/dev/null || break
    up=$(curl -s "http://127.0.0.1:$PORT/metrics" | awk '/^sky_connections_open/ {s+=$2} END {print s+0}')
    (( up >= N )) && break; sleep 0.2
  done
  sleep 3
  grep VmRSS "/proc/$APP/status" > "$DATA/profile-rss.txt" || true
  kill -KILL "$APP"; wait $SRV || true; kill -TERM $FPID 2>/dev/null || true; wait $FPID 2>/dev/null || true
  DATAF=$(ls -t "$DATA"/heaptrack*.zst "$DATA"/heaptrack*.gz 2>/dev/null | head -1 || true)
  {
    echo "# heaptrack of sky-takeout, connect phase: $URL, N=$N, 200 in flight, killed 3 s after the last screen, $(date)"
    echo "# $(cat "$DATA/profile-rss.txt") at the kill (heaptrack's own bookkeeping included)"
    heaptrack_print -f "$DATAF" -p 1 -l 1 -a 0 -T 0 -n 25 -s 3 2>/dev/null | head -700
  } > "$OUT"
elif [[ $TOOL == perf ]]; then
  # record only the publish phase: start perf once the screens are connected
  "${FAN[@]}" > "$DATA/profile-fanout.json" &
  FPID=$!
  # connect phase (~N/3000 s) + fanout's 3 s settle
  sleep $(( N / 3000 + 4 ))
  perf record -e cpu-clock -F 1000 -g -p "$SRV" -o "$DATA/perf.data" -- sleep 120 2>"$DATA/perf-record.log" &
  PERF=$!
  wait $FPID || true
  kill -INT $PERF 2>/dev/null || true; wait $PERF 2>/dev/null || true
  {
    echo "# perf (cpu-clock) of sky-takeout, broadcast N=$N, M=$M one at a time, $(date)"
    python3 -c "import json;d=json.load(open('$DATA/profile-fanout.json'));print('# fanout:', {k:d.get(k) for k in ('delivered','expected','server_cpu_s','time_to_last_client_ms')})"
    echo; echo "## by shared object (kernel = the send() path, incl. the receiver's loopback softirq)"
    perf report -i "$DATA/perf.data" --stdio --no-children -g none --sort dso 2>/dev/null | grep -E '^ +[0-9]' | head -8
    echo; echo "## flat, by symbol (self)"
    perf report -i "$DATA/perf.data" --stdio --no-children -g none --sort sym 2>/dev/null | grep -E '^ +[0-9]' | head -60
  } > "$OUT"
else
  "${FAN[@]}" > "$DATA/profile-fanout.json" || true
  kill -TERM $SRV; wait $SRV || true
  {
    echo "# callgrind (instructions) of sky-takeout, broadcast N=$N, M=$M one at a time, $(date)"
    callgrind_annotate --inclusive=no "$DATA/callgrind.out" 2>/dev/null | head -80
    echo; echo "## inclusive"
    callgrind_annotate --inclusive=yes "$DATA/callgrind.out" 2>/dev/null | head -80
  } > "$OUT"
fi
echo "$OUT"
