#!/usr/bin/env bash
# Sync throughput: 10,000 one-character edits queued offline on one device,
# pushed to the real `tern` binary on loopback (embedded SurrealKV in a temporary
# dir) and pulled into a second device. Prints push, pull and total time, ops/s
# and bytes. Debug build by default (a release build of the server takes about
# 35 minutes on two cores); `bench/sync.sh --release` measures the release build.
# TERN_BENCH_EDITS=n changes the number of edits; TERN_BENCH_ROLE=member pushes
# as a member (every op checked for fields only the secretariat may change).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$HOME/.cargo/bin:$PATH"
profile=()
if [ "${1:-}" = "--release" ]; then
  profile=(--release)
fi
cargo test "${profile[@]}" --test sync_bench -- --ignored --nocapture --test-threads=1 2>&1 \
  | grep -v -e '^running ' -e '^test result' -e '^$' -e '^test push_and_pull'
