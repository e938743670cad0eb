#!/usr/bin/env bash
# Builds a release of Tern for deployment: the optimised browser app and an optimised server,
# put together as one folder and one archive that unpack to /opt/tern (see "Deploying" in
# the README). Sets up what is missing first, as scripts/run.sh does.
#
#   deploy/build-release.sh        → target/release-bundle/tern/ and target/tern-<version>-<arch>.tar.gz
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
cd "$ROOT"
started=$(date +%s)

ensure_wasm_target
ensure_wasm_bindgen
ensure_wasm_split
ensure_node_packages

step "Building the browser app (release)"
scripts/build-site.sh

step "Building the server (release)"
cargo build --release --locked --bin tern

version="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)"
arch="$(uname -m)"
bundle="$CARGO_TARGET_DIR/release-bundle/tern"
archive="$CARGO_TARGET_DIR/tern-$version-$arch.tar.gz"

step "Putting the release together in $bundle"
rm -rf "$bundle"
mkdir -p "$bundle/bin" "$bundle/deploy"
# Without the symbol table (a fifth of the file): panics are one log line with their
# location, never a backtrace, so nothing reads it.
install -m 0755 --strip "$CARGO_TARGET_DIR/release/tern" "$bundle/bin/tern"
cp -R "$CARGO_TARGET_DIR/site" "$bundle/site"
install -m 0644 deploy/tern.service deploy/tern-backup.service deploy/tern-backup.timer \
  deploy/tern.env.example deploy/nginx-tern.conf "$bundle/deploy/"
install -m 0755 deploy/backup.sh "$bundle/deploy/backup.sh"
install -m 0644 README.md "$bundle/README.md"
echo "$version" >"$bundle/VERSION"
tar -C "$(dirname "$bundle")" -czf "$archive" tern

printf '\nRelease %s built in %d s:\n' "$version" "$(( $(date +%s) - started ))"
printf '  server binary  %s bytes  (%s)\n' "$(stat -c %s "$bundle/bin/tern")" "$bundle/bin/tern"
printf '  browser app    %s bytes  (%s)\n' "$(du -sb "$bundle/site" | cut -f1)" "$bundle/site"
printf '  archive        %s bytes  (%s)\n' "$(stat -c %s "$archive")" "$archive"
