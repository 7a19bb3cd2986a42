#!/usr/bin/env bash
# ansible-test sanity on the collection. ansible-test only runs inside a directory named
# .../ansible_collections/partnermail/links and resolves symlinks, so the .collections link does not do:
# the files git knows (committed or not, less the deleted ones) are copied to such a directory in a
# temporary place, and ansible-test runs there with the venv's Python.
# Arguments go to ansible-test (e.g. --test validate-modules).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dest=$work/ansible_collections/partnermail/links
mkdir -p "$dest"
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
    [[ -e $f ]] && printf '%s\0' "$f"
done | tar -C "$root" --null -T - -cf - | tar -C "$dest" -xf -

# ansible-test keeps its sanity venvs and its pip bootstrap script under $HOME/.ansible/test; a HOME of the
# checkout's own (.cache/, ignored by git) keeps them out of the user's home and reuses them between runs.
# The bootstrap script is downloaded from a host this machine cannot reach: ours (scripts/get_pip.py) stands in.
home=$root/.cache/ansible-test-home
mkdir -p "$home/.ansible/test/cache"
cp scripts/get_pip.py "$home/.ansible/test/cache/get_pip_24_2.py"

cd "$dest"
# A git repository is what makes ansible-test use the git file list (and honour .gitignore) as it does in CI.
git init -q && git add -A
HOME=$home ansible-test sanity --python 3.11 --local --color no "$@"
