#!/usr/bin/env bash
# ansible-doc must render every module and filter of the collection.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
for file in plugins/modules/*.py; do
    name=$(basename "$file" .py)
    ansible-doc "partnermail.links.$name" >/dev/null || { echo "ansible-doc failed: module $name" >&2; status=1; }
done
for file in plugins/lookup/*.py; do
    name=$(basename "$file" .py)
    ansible-doc -t lookup "partnermail.links.$name" >/dev/null || { echo "ansible-doc failed: lookup $name" >&2; status=1; }
done
for file in plugins/filter/*.yml; do
    name=$(basename "$file" .yml)
    ansible-doc -t filter "partnermail.links.$name" >/dev/null || { echo "ansible-doc failed: filter $name" >&2; status=1; }
done
[[ $status -eq 0 ]] && echo "ansible-doc renders every module, lookup and filter"
exit $status
