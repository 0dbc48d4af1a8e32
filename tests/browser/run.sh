#!/usr/bin/env bash
# Browser tests of the merchant dashboard, then of the course's unmodified admin app behind
# the course's nginx (tests/browser/stock/): headless Debian chromium (never a downloaded
# browser) driven by playwright-core, node's built-in test runner, one test file at a time
# (each file starts its own sky-takeout server; a stock file also its nginx on port 80, under
# flock /tmp/sky-port80.lock). Builds nothing: expects the server binary.
#
#   tests/browser/run.sh                 # uses target/debug/sky-takeout
#   SKY_BIN=target/release/sky-takeout CHROMIUM=/usr/bin/chromium tests/browser/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
SKY_BIN="${SKY_BIN:-target/debug/sky-takeout}"

# Chromium and a CJK font (the screenshots must render Chinese) from the distribution.
packages=()
if [ "$CHROMIUM" = /usr/bin/chromium ] && [ ! -x /usr/bin/chromium ]; then
  packages+=(chromium fonts-noto-cjk)
elif command -v dpkg >/dev/null && ! dpkg -s fonts-noto-cjk >/dev/null 2>&1; then
  packages+=(fonts-noto-cjk)
fi
# nginx for the stock app's tests (the course's layout), when the stock clients are there.
stock_admin="${SKY_STOCK_ADMIN:-../shared/stock-clients/admin}"
if [ -d "$stock_admin" ] && ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
  packages+=(nginx-light)
fi
if [ "${#packages[@]}" -gt 0 ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "run.sh: installing ${packages[*]} with apt-get" >&2
  # Another process may hold the dpkg lock (another run's apt-get): wait for it.
  $sudo apt-get -o DPkg::Lock::Timeout=300 update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends "${packages[@]}"
fi
if [ ! -x "$CHROMIUM" ]; then
  echo "run.sh: chromium not found at $CHROMIUM (set CHROMIUM or install the chromium package)" >&2
  exit 1
fi

if [ ! -x "$SKY_BIN" ]; then
  echo "run.sh: server binary $SKY_BIN not found: run 'cargo build' first (or set SKY_BIN)" >&2
  exit 1
fi
export SKY_BIN CHROMIUM

if [ ! -d tests/browser/node_modules ]; then
  (cd tests/browser && npm ci --no-audit --no-fund)
fi

# The files are listed explicitly: node 20 also accepts the directory, node >= 21 treats a
# directory argument as a file pattern and fails with MODULE_NOT_FOUND. The stock tests run
# after the dashboard's (a second run: node sorts the files of one run by path); where
# ../shared/stock-clients is absent they skip loudly (and fail under CI=true).
status=0
node --test --test-concurrency=1 tests/browser/*.test.mjs || status=$?
node --test --test-concurrency=1 tests/browser/stock/*.test.mjs || status=$?
exit "$status"
