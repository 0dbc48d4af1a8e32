#!/usr/bin/env bash
# One-time setup of the benchmark box (idempotent): a writable copy of ../shared/bench in
# $SKY_BENCH_DIR (default /tmp/bench), the fanout and marketplace load tools, the peers'
# dependencies (npm, PyPI, Debian only), and our release binary.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
BENCH="${SKY_BENCH_DIR:-/tmp/bench}"
SHARED="${SKY_SHARED_BENCH:-$REPO/../shared/bench}"

if [[ ! -f $BENCH/compare.py ]]; then
  echo "copying $SHARED -> $BENCH" >&2
  cp -r "$SHARED" "$BENCH" && chmod -R u+w "$BENCH"
fi
# load tools (the marketplace tool shares fanout's target dir, so its dependencies build once)
[[ -x $BENCH/fanout/target/release/fanout ]] || cargo build --release --manifest-path "$BENCH/fanout/Cargo.toml" >&2
if [[ ! -x $BENCH/fanout/target/release/marketplace || -n $(find "$REPO/bench/marketplace/src" -newer "$BENCH/fanout/target/release/marketplace" -name '*.rs') ]]; then
  CARGO_TARGET_DIR="$BENCH/fanout/target" cargo build --release --manifest-path "$REPO/bench/marketplace/Cargo.toml" >&2
fi
# peers
[[ -d $BENCH/peers/node/node_modules/ws ]] || (cd "$BENCH/peers/node" && npm install --no-audit --no-fund >&2)
[[ -d $BENCH/peers/soketi/node_modules/@soketi ]] || (cd "$BENCH/peers/soketi" && npm install --no-audit --no-fund >&2)
if [[ ! -x $BENCH/peers/python/.venv/bin/python ]]; then
  python3 -m venv "$BENCH/peers/python/.venv"
  "$BENCH/peers/python/.venv/bin/pip" install -q -r "$BENCH/peers/python/requirements.txt" >&2
fi
if [[ ! -f /usr/share/java/tomcat9-websocket.jar ]]; then
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libtomcat9-java >&2
fi
# our server
[[ -x $REPO/target/release/sky-takeout ]] || (cd "$REPO" && cargo build --release >&2)
echo "setup done: $BENCH" >&2
