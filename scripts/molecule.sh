#!/usr/bin/env bash
# Run the molecule scenarios from the repository root, with everything they need:
# a running Docker engine (ensure-docker.sh), the local test image (build-images.sh), the venv's
# tools first on PATH (molecule shells out to ansible-config and ansible-playbook) and the
# collections paths.
#
# Usage:
#   scripts/molecule.sh                        the release matrix: molecule test of
#                                                default with mx-a on Debian 12 and mx-b on 13,
#                                                default with mx-a on 13 and mx-b on 12, dane on 13
#   scripts/molecule.sh SCENARIO               molecule test -s SCENARIO
#   scripts/molecule.sh SCENARIO COMMAND [ARG...]
#                                              molecule COMMAND -s SCENARIO [ARG...]
#                                              (create, prepare, converge, verify, login -h mx-a, destroy...)
# Environment:
#   PARTNERMAIL_VENV         the Python venv with ansible, molecule, testinfra (default: REPO/.venv)
#   PARTNERMAIL_SKIP_SETUP=1 do not run ensure-docker.sh / build-images.sh
#   PARTNERMAIL_PYTEST_ARGS  extra pytest arguments for verify (e.g. "-k dns -x")
#   PARTNERMAIL_RELEASE      Debian release (12 or 13) of every platform of a single-scenario run;
#                            default 13. PARTNERMAIL_RELEASE_MX_A, PARTNERMAIL_RELEASE_MX_B and
#                            PARTNERMAIL_RELEASE_INFRA (ns, outsider) choose per platform (molecule.yml
#                            reads these three).
set -euo pipefail

REPO=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${PARTNERMAIL_VENV:-$REPO/.venv}

die() { printf 'molecule.sh: ERROR: %s\n' "$*" >&2; exit 1; }

[[ -x $VENV/bin/molecule ]] || die "no molecule in $VENV (install requirements-test.txt into it)"
[[ -e $REPO/.collections/ansible_collections/partnermail/links ]] ||
    die "missing $REPO/.collections/ansible_collections/partnermail/links (a symlink to the repository)"

# Single-scenario runs: PARTNERMAIL_RELEASE fills in the per-platform releases that are not set.
release=${PARTNERMAIL_RELEASE:-13}
export PARTNERMAIL_RELEASE_MX_A=${PARTNERMAIL_RELEASE_MX_A:-$release}
export PARTNERMAIL_RELEASE_MX_B=${PARTNERMAIL_RELEASE_MX_B:-$release}
export PARTNERMAIL_RELEASE_INFRA=${PARTNERMAIL_RELEASE_INFRA:-$release}

if [[ ${PARTNERMAIL_SKIP_SETUP:-0} != 1 ]]; then
    "$REPO/scripts/ensure-docker.sh"
    "$REPO/scripts/build-images.sh" 12 13
fi

# molecule runs `ansible-config`, `ansible-playbook` and `pytest` from PATH: the venv's must win.
export PATH=$VENV/bin:$PATH
# The docker connection plugin and testinfra use the `docker` CLI. Another client may shadow Debian's
# (here /usr/local/bin/docker, 28.x, which negotiates down to the 20.10 daemon's API and works): put
# Debian's first only when the shadowing one cannot talk to the daemon.
if ! docker version >/dev/null 2>&1 && /usr/bin/docker version >/dev/null 2>&1; then
    shim=${TMPDIR:-/tmp}/partnermail-docker-client
    mkdir -p "$shim"
    ln -sfn /usr/bin/docker "$shim/docker"
    export PATH=$shim:$PATH
fi
# partnermail.links is found through the repository symlink in .collections/; community.docker and
# ansible.posix come from the `ansible` package in the venv's site-packages, which Ansible and
# ansible-compat both scan by themselves (do not set ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false).
export ANSIBLE_COLLECTIONS_PATH=$REPO/.collections
export ANSIBLE_NOCOLOR=${ANSIBLE_NOCOLOR:-1}
export PY_COLORS=${PY_COLORS:-0}
# This repository is a collection (galaxy.yml): molecule 26 would then look for scenarios under
# extensions/molecule/ (and warns when it finds molecule/). Our scenarios live in molecule/.
export MOLECULE_GLOB=${MOLECULE_GLOB:-molecule/*/molecule.yml}

# Run "$@" while printing, as they happen, the tests' outcomes that molecule/shared/tests/conftest.py appends to
# PARTNERMAIL_PYTEST_PROGRESS (molecule shows pytest's own output only when it ends).
with_progress() {
    local progress tailer rc=0
    progress=$(mktemp "${TMPDIR:-/tmp}/partnermail-pytest.XXXXXX")
    export PARTNERMAIL_PYTEST_PROGRESS=$progress
    tail -n +1 -F "$progress" >&2 2>/dev/null &
    tailer=$!
    "$@" || rc=$?
    sleep 1
    kill "$tailer" 2>/dev/null || true
    wait "$tailer" 2>/dev/null || true
    rm -f "$progress"
    return $rc
}

# One `molecule test` of the matrix: SCENARIO MX_A_RELEASE MX_B_RELEASE INFRA_RELEASE.
matrix_run() {
    local t0=$SECONDS rc=0
    printf '\nmolecule.sh: === %s: mx-a on Debian %s, mx-b on Debian %s, ns/outsider on Debian %s\n' "$@" >&2
    PARTNERMAIL_RELEASE_MX_A=$2 PARTNERMAIL_RELEASE_MX_B=$3 PARTNERMAIL_RELEASE_INFRA=$4 \
        with_progress molecule test -s "$1" || rc=$?
    timings+=("$(printf '%-8s mx-a %s mx-b %s  %4ds  %s' "$1" "$2" "$3" $((SECONDS - t0)) \
        "$( ((rc == 0)) && echo passed || echo "FAILED (exit $rc)")")")
    return $rc
}

cd "$REPO"
if (($# == 0)); then
    timings=()
    status=0
    # Two crossed runs instead of 12/12, 13/13 and a mixed 12/13: every role of the test (mx-a the hand-configured
    # server, mx-b the partner, the infrastructure) runs once on each release, and in both runs the two releases
    # talk to each other. Three default runs took CI past its 90 minutes. The long health tests (they wait for
    # the check's schedule) run in the second, with the health check on Debian 13.
    PARTNERMAIL_SKIP_LONG=1 matrix_run default 12 13 13 || status=1
    matrix_run default 13 12 12 || status=1
    matrix_run dane 13 13 13 || status=1
    printf '\nmolecule.sh: the release matrix (wall time per scenario):\n' >&2
    printf '  %s\n' "${timings[@]}" >&2
    exit $status
fi
scenario=$1
shift
[[ -f $REPO/molecule/$scenario/molecule.yml ]] || die "no scenario molecule/$scenario/molecule.yml"
if (($# == 0)); then
    with_progress molecule test -s "$scenario"
    exit
fi
command=$1
shift
with_progress molecule "$command" -s "$scenario" "$@"
