#!/usr/bin/env bash
# Builds Tern's browser bundle into a hashed, precompressed site directory.
#
#   scripts/build-site.sh [--dev]
#
# Steps: cargo (tern-frontend → wasm32, linked with relocations) → wasm-split-cli (the main module,
# the page modules and the chunks they share, a JS loader) → wasm-bindgen (--target web, main module)
# → wasm-opt -Oz on every module (release only) → scripts/site.mjs (content hashes, boot module,
# service worker, asset-manifest.json, .br/.gz).
#
# Environment:
#   CARGO_TARGET_DIR  cargo's target directory (default: <repo>/target)
#   TERN_SITE_DIR     output directory (default: $CARGO_TARGET_DIR/site)
#   TERN_CSS          stylesheet to bundle (default: <repo>/style/main.css)
#   WASM_BINDGEN      wasm-bindgen CLI (default: wasm-bindgen on PATH, else ~/.cargo/bin/wasm-bindgen)
#   WASM_SPLIT        wasm-split-cli (default: on PATH, else ~/.cargo/bin/wasm-split-cli)
#   WASM_OPT          wasm-opt (default: <repo>/node_modules/.bin/wasm-opt, binaryen from npm;
#                     Debian's binaryen is too old for current rustc output)
#
# The site is assembled in a temporary directory next to the output and swapped in at the end,
# so a running server never sees a half-written site. The previous build's first-load assets are
# kept for one more build, so a server that has not re-read asset-manifest.json yet (or a page
# loaded just before the swap) still finds them. wasm-bindgen/wasm-opt output and the .br/.gz
# files are cached by content hash under $CARGO_TARGET_DIR/tern-site-cache, so a rebuild without
# Rust changes takes about a second. --dev skips wasm-opt, disables the service worker and uses
# brotli quality 5 instead of 11 (a debug wasm is several megabytes).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODE=release
case "${1:-}" in
  "") ;;
  --dev) MODE=dev ;;
  -h | --help)
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit 0
    ;;
  *)
    echo "usage: $0 [--dev]" >&2
    exit 2
    ;;
esac

TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$TARGET" in /*) ;; *) TARGET="$PWD/$TARGET" ;; esac # relative to the caller's cwd, as cargo does
OUT="${TERN_SITE_DIR:-$TARGET/site}"
OUT="$(mkdir -p "$(dirname "$OUT")" && cd "$(dirname "$OUT")" && pwd)/$(basename "$OUT")"
CSS="${TERN_CSS:-$ROOT/style/main.css}"

if [[ -t 2 ]]; then
  log() { printf '\033[1mbuild-site:\033[0m %s\n' "$*" >&2; }
else
  log() { printf 'build-site: %s\n' "$*" >&2; }
fi
die() {
  printf 'build-site: error: %s\n' "$*" >&2
  exit 1
}

# --- tools -----------------------------------------------------------------------------------
command -v node >/dev/null || die "node is required (Node 20+)"
WASM_BINDGEN="${WASM_BINDGEN:-$(command -v wasm-bindgen || echo "$HOME/.cargo/bin/wasm-bindgen")}"
[[ -x "$WASM_BINDGEN" ]] || die "wasm-bindgen not found; install it with: cargo install wasm-bindgen-cli --version <the wasm-bindgen version in Cargo.lock>"
WASM_SPLIT="${WASM_SPLIT:-$(command -v wasm-split-cli || echo "$HOME/.cargo/bin/wasm-split-cli")}"
[[ -x "$WASM_SPLIT" ]] || die "wasm-split-cli not found; install it with: cargo install wasm_split_cli_support --version 0.2.4 --features build-binary --locked"
WASM_OPT="${WASM_OPT:-$ROOT/node_modules/.bin/wasm-opt}"
if [[ $MODE == release && ! -x "$WASM_OPT" ]]; then
  die "wasm-opt not found at $WASM_OPT; run 'npm ci' in $ROOT (binaryen from npm)"
fi
[[ -f "$CSS" ]] || die "stylesheet not found: $CSS"

# The CLI must match the wasm-bindgen crate exactly, or the generated glue does not fit the wasm.
bindgen_cli_version="$("$WASM_BINDGEN" --version | awk '{print $2}')"
bindgen_lock_version="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock" 2>/dev/null || true)"
if [[ -n "$bindgen_lock_version" && "$bindgen_cli_version" != "$bindgen_lock_version" ]]; then
  die "wasm-bindgen CLI is $bindgen_cli_version but Cargo.lock has $bindgen_lock_version; install the matching CLI: cargo install wasm-bindgen-cli --version $bindgen_lock_version"
fi

# --- 1. compile ------------------------------------------------------------------------------
if [[ $MODE == release ]]; then
  PROFILE=wasm-release PROFILE_DIR=wasm-release
else
  PROFILE=dev PROFILE_DIR=debug
fi
# The release wasm is built for size with the standard library compiled alongside it
# (-Zbuild-std, on the stable toolchain through RUSTC_BOOTSTRAP; needs the rust-src component):
# panics abort at once without formatting a message (-Cpanic=immediate-abort), `{:?}` prints
# nothing (-Zfmt-debug=none; user-visible text never uses Debug) and panic locations are dropped.
# Together about 30 KB brotli (9%) of the first load. RUSTFLAGS replaces .cargo/config.toml's
# flags, so `--cfg erase_components` is repeated here; it must match the server's build.
# The dev build keeps ordinary panics with messages (console_error_panic_hook).
# Both builds keep the linker's relocations (--emit-relocs): wasm-split needs them to move code
# and data into page modules.
cargo_env=(CARGO_TARGET_DIR="$TARGET")
cargo_args=(-p tern-frontend --target wasm32-unknown-unknown --profile "$PROFILE")
if [[ $MODE == release ]]; then
  cargo_env+=(RUSTC_BOOTSTRAP=1
    RUSTFLAGS="--cfg erase_components -Clink-args=--emit-relocs -Zunstable-options -Cpanic=immediate-abort -Zfmt-debug=none -Zlocation-detail=none")
  cargo_args+=(-Zbuild-std=std,panic_abort)
else
  cargo_env+=(RUSTFLAGS="--cfg erase_components -Clink-args=--emit-relocs")
fi
log "cargo build -p tern-frontend ($PROFILE)"
(cd "$ROOT" && env "${cargo_env[@]}" cargo build "${cargo_args[@]}")
WASM="$TARGET/wasm32-unknown-unknown/$PROFILE_DIR/tern_frontend.wasm"
[[ -f "$WASM" ]] || die "cargo did not produce $WASM"

# --- 2+3. wasm-split, wasm-bindgen and wasm-opt, cached by input ----------------------------
# wasm-split cuts the module at the app's split points (app/src/pages.rs): the main module keeps
# what the frame and the sync engine use; each page module (named at its split points) becomes
# split_<name>.wasm, code several modules share goes into chunk_<n>.wasm, and __wasm_split.js
# fetches them on demand. Only the main module
# goes through wasm-bindgen, which must keep the exports the page modules link against.
# Every feature rustc's wasm32-unknown-unknown target enables by default (Rust 1.82+: multivalue,
# reference-types; 1.87+: bulk-memory, nontrapping-fptoint) plus the older sign-ext and
# mutable-globals. wasm-opt must be told (the wasm-release profile strips the target_features
# section it would otherwise read), or it rejects the module ("memory.copy operations require bulk
# memory"). The strip flags drop names/producers/features sections browsers do not need.
# Not --ignore-implicit-traps (0.7 KB brotli less): with it, a device stopped syncing after a
# person's erasure (records.test.mjs), so something in the build relies on a trap.
WASM_OPT_FLAGS=(-Oz
  --enable-bulk-memory --enable-bulk-memory-opt --enable-nontrapping-float-to-int --enable-sign-ext
  --enable-mutable-globals --enable-reference-types --enable-multivalue --enable-call-indirect-overlong
  --strip-debug --strip-producers --strip-target-features)
opt_version=""
if [[ $MODE == release ]]; then opt_version="$("$WASM_OPT" --version) ${WASM_OPT_FLAGS[*]}"; fi
split_version="$(cd "$(dirname "$WASM_SPLIT")" && sha256sum "$(basename "$WASM_SPLIT")" | cut -c1-16)"
cache_key="$( { sha256sum "$WASM" | cut -d' ' -f1; echo "$MODE $bindgen_cli_version $split_version $opt_version"; } | sha256sum | cut -d' ' -f1)"
CACHE="$TARGET/tern-site-cache/$MODE"

if [[ -f "$CACHE/key" && "$(cat "$CACHE/key")" == "$cache_key" && -f "$CACHE/tern_bg.wasm" && -f "$CACHE/tern.js" ]]; then
  log "wasm unchanged; reusing wasm-split/wasm-bindgen/wasm-opt output"
else
  rm -rf "$CACHE"
  mkdir -p "$CACHE/split"
  log "wasm-split"
  "$WASM_SPLIT" --out-name tern "$WASM" "$CACHE/split"
  mv "$CACHE/split/tern.wasm" "$CACHE/main.wasm"
  [[ -f "$CACHE/split/__wasm_split.js" ]] || die "wasm-split wrote no __wasm_split.js"
  log "wasm-bindgen $bindgen_cli_version"
  "$WASM_BINDGEN" --target web --no-typescript --keep-lld-exports --out-dir "$CACHE" --out-name tern "$CACHE/main.wasm"
  rm "$CACHE/main.wasm"
  if [[ $MODE == release ]]; then
    for module in "$CACHE/tern_bg.wasm" "$CACHE"/split/*.wasm; do
      before=$(stat -c %s "$module")
      # wasm-opt validates its input and output; site.mjs additionally compiles the result in V8.
      "$WASM_OPT" "${WASM_OPT_FLAGS[@]}" "$module" -o "$module.opt"
      mv "$module.opt" "$module"
      log "wasm-opt $(basename "$module"): $before → $(stat -c %s "$module") bytes"
    done
  fi
  echo "$cache_key" >"$CACHE/key"
fi

# --- 4. assemble the site in a temporary directory next to the output, then swap it in ----------
WORK="$(mktemp -d "$OUT.tmp.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
site_args=(--root "$ROOT" --bindgen "$CACHE" --out "$WORK/site" --css "$CSS"
  --compress-cache "$TARGET/tern-site-cache/compressed-$MODE")
if [[ $MODE == dev ]]; then
  # A debug wasm is many megabytes, and brotli 11 would add half a minute to every rebuild.
  site_args+=(--dev --brotli-quality 5)
fi
if [[ -d "$OUT" ]]; then site_args+=(--previous "$OUT"); fi
node "$ROOT/scripts/site.mjs" "${site_args[@]}"

# renameat2(RENAME_EXCHANGE) swaps the two directories in one step; without it (no python3, or a
# filesystem that lacks it) two renames leave the output missing for an instant.
swap_dirs() {
  command -v python3 >/dev/null || return 1
  python3 - "$1" "$2" <<'PY' 2>/dev/null
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD, RENAME_EXCHANGE = -100, 2
a, b = (p.encode() for p in sys.argv[1:3])
sys.exit(0 if libc.renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) == 0 else 1)
PY
}
if [[ -d "$OUT" ]] && swap_dirs "$WORK/site" "$OUT"; then
  : # the old site is now at $WORK/site and goes with $WORK
else
  if [[ -e "$OUT" ]]; then mv -T "$OUT" "$WORK/previous"; fi
  mv -T "$WORK/site" "$OUT"
fi
log "site ready: $OUT"
