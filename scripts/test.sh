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

# Say which suites will skip, here where the test runner does not capture it. Under CI (or
# SKY_REQUIRE_SERVICES) a missing service fails now, and the tests themselves fail too.
pg_url="${SKY_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/test}"
skips=()
if [ -z "${SKY_TEST_PG_URL:-}" ] && ! (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
  skips+=("every *::postgres test (the PostgreSQL half of each backend_tests! suite) and tests/cluster.rs: $pg_url is unreachable")
fi
for bin in redis-server nats-server; do
  if ! command -v "$bin" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$bin" ] && [ ! -x "/usr/bin/$bin" ]; then
    skips+=("the tests/cluster.rs tests that need $bin: it is not installed")
  fi
done
if [ ${#skips[@]} -gt 0 ]; then
  {
    echo "!!!!! These tests will SKIP (pass without running):"
    for s in "${skips[@]}"; do echo "!!!!!   - $s"; done
  } >&2
  if [ -n "${CI:-}" ] || [ -n "${SKY_REQUIRE_SERVICES:-}" ]; then
    echo "!!!!! CI / SKY_REQUIRE_SERVICES is set: a missing service is a failure." >&2
    exit 1
  fi
fi

cargo build --bins
cargo test --all-targets -- --test-threads 4
if [ ${#skips[@]} -gt 0 ]; then
  echo "!!!!! Reminder: ${#skips[@]} group(s) of tests skipped (see above)." >&2
fi

if [ -x tests/browser/run.sh ]; then
  SKY_BIN="${SKY_BIN:-$PWD/target/debug/sky-takeout}" tests/browser/run.sh
fi
