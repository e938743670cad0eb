#!/usr/bin/env bash
# Checks the deployment files (scripts/test.sh runs this): every systemd unit passes
# `systemd-analyze verify` without a warning, the unit's flags are the binary's, the
# environment example names only real settings, and the scripts parse.
#
#   deploy/verify.sh [tern-binary]     default: the debug build
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
cd "$ROOT"
binary="${1:-$CARGO_TARGET_DIR/debug/tern}"

if ! command -v systemd-analyze >/dev/null; then
  step "Installing Debian's systemd (for systemd-analyze)"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q systemd
fi

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
# The units as installed, with /opt/tern pointing at a staged copy (verify checks that every
# command exists and is executable).
mkdir -p "$stage/opt/bin" "$stage/opt/deploy" "$stage/units"
install -m 0755 "$binary" "$stage/opt/bin/tern"
install -m 0755 deploy/backup.sh "$stage/opt/deploy/backup.sh"
for unit in deploy/*.service deploy/*.timer; do
  sed "s|/opt/tern|$stage/opt|g" "$unit" >"$stage/units/$(basename "$unit")"
done
if ! report="$(systemd-analyze verify --man=no "$stage"/units/* 2>&1)" || [ -n "$report" ]; then
  echo "systemd-analyze verify found problems in deploy/:" >&2
  echo "$report" >&2
  exit 1
fi
echo "systemd units: $(ls deploy/*.service deploy/*.timer | xargs -n1 basename | tr '\n' ' ')pass systemd-analyze verify"

# The unit's command line parses (clap checks every flag before it prints the help).
exec_start="$(sed -n 's|^ExecStart=/opt/tern/bin/tern ||p' deploy/tern.service)"
# shellcheck disable=SC2086 # the flags are words
"$binary" $exec_start --help >/dev/null
echo "tern.service: ExecStart's flags are the binary's"

# Every variable the example sets (or shows commented out) is one the binary reads.
help="$("$binary" --help)"
for variable in $(sed -n 's/^#\{0,1\}\(TERN_[A-Z_]*\)=.*/\1/p' deploy/tern.env.example); do
  if ! grep -q "\[env: $variable[]=]" <<<"$help" && [ "$variable" != TERN_ADMIN_PASSWORD ]; then
    echo "deploy/tern.env.example: $variable is not a setting of tern (see tern --help)" >&2
    exit 1
  fi
done
echo "tern.env.example: every variable is a setting of tern"

bash -n deploy/build-release.sh deploy/backup.sh
echo "deploy scripts parse"
