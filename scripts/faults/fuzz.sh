#!/usr/bin/env bash
# The long fuzz run: tests/fuzz in release with every case count multiplied by SKY_FUZZ_SCALE
# (default 200: about 300,000 HTTP requests, 30,000 notifications and uploads, 8,000 socket
# connections, 4,000,000 parser inputs, 1,000,000 images), one target at a time; prints each
# target's count and the total. Another seed: SKY_FUZZ_SEED=<u64>.
#
#   scripts/faults/fuzz.sh            # SKY_FUZZ_SCALE=200
#   SKY_FUZZ_SCALE=20 scripts/faults/fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
export SKY_FUZZ_SCALE="${SKY_FUZZ_SCALE:-200}"
log="${TMPDIR:-/tmp}/sky-fuzz-$(date -u +%Y%m%dT%H%M%SZ).log"
echo "$(date -u) scale=$SKY_FUZZ_SCALE seed=${SKY_FUZZ_SEED:-default} $(uptime)" | tee "$log"
start=$(date +%s)
cargo test --release --test fuzz -- --test-threads 1 --nocapture 2>&1 | tee -a "$log"
status=${PIPESTATUS[0]}
end=$(date +%s)
echo "---"
grep '^fuzz-inputs' "$log" | awk '{split($2,t,"=");split($3,n,"=");s+=n[2];print t[2]": "n[2]} END {print "total generated inputs: "s}'
echo "wall time: $((end - start)) s; $(uptime); log: $log"
exit "$status"
