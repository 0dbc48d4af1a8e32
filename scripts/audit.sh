#!/usr/bin/env bash
# Dependency audit: Cargo.lock against the offline snapshot of the RustSec advisory database
# (its git host is out of reach, so nothing is fetched). Fails on any vulnerability and, with
# --deny warnings, on unmaintained, unsound or yanked crates too; an advisory that is
# understood and accepted goes in .cargo/audit.toml's ignore list with a comment saying why.
#
#   scripts/audit.sh                      # the database beside the repository: ../shared/advisory-db
#   SKY_ADVISORY_DB=/path scripts/audit.sh
set -euo pipefail
cd "$(dirname "$0")/.."
db="${SKY_ADVISORY_DB:-../shared/advisory-db}"
if [ ! -d "$db/crates" ]; then
  echo "audit: no advisory database at $db (expected ../shared/advisory-db beside the repository; set SKY_ADVISORY_DB)" >&2
  exit 1
fi
# cargo-audit takes ~9 minutes of both cores to build: only when it is missing.
if ! command -v cargo-audit >/dev/null 2>&1; then
  cargo install cargo-audit --version 0.22.2 --locked
fi
cargo audit --db "$db" --no-fetch --deny warnings "$@"
