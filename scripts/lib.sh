# Shared setup steps for scripts/run.sh and scripts/test.sh. Each step installs
# what is missing and skips what is there, so a second run costs seconds.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
export PATH="$HOME/.cargo/bin:$PATH"

# The CLI must match the `wasm-bindgen` crate exactly; Cargo.toml pins it, read it from there.
WASM_BINDGEN_VERSION="$(sed -n 's/^wasm-bindgen = "=\(.*\)"$/\1/p' "$ROOT/Cargo.toml")"

# Splits the wasm into the main module and lazily loaded page modules (scripts/build-site.sh).
WASM_SPLIT_VERSION=0.2.4

# A step's heading, with the seconds since the script began (where the time of a run goes).
step() { printf '\n==> %s  [%s s]\n' "$*" "$SECONDS"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

ensure_wasm_target() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    step "Adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
  # The release wasm rebuilds the standard library for size (scripts/build-site.sh).
  if ! rustup component list --installed | grep -q '^rust-src'; then
    step "Adding the rust-src component"
    rustup component add rust-src
  fi
}

ensure_wasm_bindgen() {
  if ! wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION\$"; then
    step "Installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 6 minutes, once)"
    # Not --locked: its lock file names a crate version this registry lacks.
    cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force \
      --config 'resolver.incompatible-rust-versions="fallback"'
  fi
}

ensure_wasm_split() {
  # The CLI has no --version; cargo's install list knows it.
  if ! command -v wasm-split-cli >/dev/null \
    || ! cargo install --list | grep -qx "wasm_split_cli_support v$WASM_SPLIT_VERSION:"; then
    step "Installing wasm-split-cli $WASM_SPLIT_VERSION (about 5 minutes, once)"
    cargo install wasm_split_cli_support --version "$WASM_SPLIT_VERSION" --features build-binary \
      --locked --force
  fi
}

ensure_node_packages() {
  if ! command -v npm >/dev/null; then
    step "Installing Node.js and npm"
    as_root apt-get update -q && as_root apt-get install -y -q nodejs npm
  fi
  # npm ci is exact to the lock file; skip it when node_modules already matches.
  if [ ! -f "$ROOT/node_modules/.package-lock.json" ] \
    || [ "$ROOT/package-lock.json" -nt "$ROOT/node_modules/.package-lock.json" ]; then
    step "Installing npm packages from package-lock.json"
    (cd "$ROOT" && npm ci --no-audit --no-fund)
  fi
}

ensure_chromium() {
  if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    step "Installing Debian's chromium and chromium-driver"
    as_root apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver
  fi
}
