#!/usr/bin/env bash
# The project's test command (README): every Rust test on SQLite and PostgreSQL, then the
# browser tests in headless Chromium. Installs what it needs; fails (never skips) under CI.
set -euo pipefail
cd "$(dirname "$0")/.."

# PostgreSQL: the machine normally runs one on 127.0.0.1:5432; start it if it is installed
# but stopped.
if ! (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  fi
fi

# Brokers for the cluster tests (they start their own on free ports).
missing=()
for bin in redis-server nats-server; do
  command -v "$bin" >/dev/null 2>&1 || [ -x "/usr/sbin/$bin" ] || [ -x "/usr/bin/$bin" ] || missing+=("$bin")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# s3rver, the S3-compatible server the object-storage tests start on loopback (tests/s3).
if [ ! -x tests/s3/node_modules/.bin/s3rver ]; then
  (cd tests/s3 && npm ci --no-audit --no-fund)
fi

cargo build --bins
cargo test --all-targets -- --test-threads 4

if [ -x tests/browser/run.sh ]; then
  SKY_BIN="${SKY_BIN:-$PWD/target/debug/sky-takeout}" tests/browser/run.sh
fi
