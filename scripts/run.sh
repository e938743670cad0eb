#!/usr/bin/env bash
# Sets up what is missing, builds Tern and runs it on http://127.0.0.1:3000 with
# its embedded database in ./data. Extra arguments go to the server (see --help).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

ensure_wasm_target
ensure_wasm_bindgen
ensure_wasm_split
ensure_node_packages

step "Building the browser app"
scripts/build-site.sh

step "Building the server"
# No -p: building the default members together keeps one feature set, so the
# tests and this command share every compiled dependency.
cargo build --bin tern

step "Starting Tern on http://${TERN_LISTEN:-127.0.0.1:3000} (data in ${TERN_DATA_DIR:-$ROOT/data}; Ctrl-C stops it)"
exec "$CARGO_TARGET_DIR/debug/tern" \
  --listen "${TERN_LISTEN:-127.0.0.1:3000}" \
  --data-dir "${TERN_DATA_DIR:-$ROOT/data}" \
  --site-dir "$CARGO_TARGET_DIR/site" \
  "$@"
