#!/usr/bin/env bash
# galaxy-importer (what Galaxy and Automation Hub run on an uploaded collection) on the tarball that
# `ansible-galaxy collection build` makes from this checkout. Its settings: scripts/galaxy-importer.cfg.
# Fails on an import error and on any warning the importer prints.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

ansible-galaxy collection build --force --output-path "$work" . >/dev/null
cd "$work"  # the importer writes importer_result.json into the current directory
status=0
GALAXY_IMPORTER_CONFIG=$root/scripts/galaxy-importer.cfg python -m galaxy_importer.main \
    "$work"/partnermail-links-*.tar.gz >log 2>&1 || status=$?
if ((status)) || grep -qE '^(WARNING|ERROR)' log || ! grep -q 'Importer processing completed successfully' log; then
    cat log >&2
    echo "galaxy-importer: the collection does not import cleanly" >&2
    exit 1
fi
echo "galaxy-importer: $(tail -n 1 log)"
