#!/usr/bin/env bash
# Backs up Tern's embedded database: stops the service, archives its data directory, starts
# it again (a few seconds; browsers keep every edit on the device meanwhile and sync after).
# An open database is not copied: the files of a running store are not a consistent copy.
#
#   backup.sh [destination]      default /var/backups/tern; keeps the newest $TERN_BACKUPS_KEPT (14)
#
# Run by tern-backup.timer every night. Restoring: see "Deploying" in the README.
set -euo pipefail
data_dir="${TERN_DATA_DIR:-/var/lib/tern}"
destination="${1:-/var/backups/tern}"
kept="${TERN_BACKUPS_KEPT:-14}"
service="${TERN_SERVICE:-tern.service}"

mkdir -p "$destination"
chmod 0700 "$destination"
archive="$destination/tern-$(date -u +%Y%m%dT%H%M%SZ).tar.gz"

systemctl stop "$service"
# Started again whatever happens to the archive.
trap 'systemctl start "$service"' EXIT
tar -C "$data_dir" -czf "$archive.partial" .
mv "$archive.partial" "$archive"
echo "backed up $data_dir to $archive ($(stat -c %s "$archive") bytes)"

# The newest $kept archives stay.
ls -1t "$destination"/tern-*.tar.gz | tail -n +"$(( kept + 1 ))" | xargs -r rm --
