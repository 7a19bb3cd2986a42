#!/usr/bin/env bash
# The benchmarks (`make bench`). Each prints its figures and writes JSON under bench/results/ (gitignored);
# none passes or fails on time (see bench/README.md):
#
#   handshakes  bench/handshakes.py       TLS handshakes/s by server key type (no containers)
#   link        bench/link_throughput.py  partner link throughput: plaintext vs typical TLS+SASL vs ours
#   scale       bench/provision_scale.py  site.yml wall time and task count for 1, 100, 1000 partners
#   health      bench/health_check.py     CPU per health check run: a 100 MB log first, then one minute (no containers)
#
# The container benchmarks make their own network (pm-bench, BENCH_SUBNET, default 172.30.91.0/24) and
# containers (pm-bench-*, label partnermail.bench) and remove them when they end; nothing else is touched.
# The whole output is also written to bench/results/bench-latest.log.
#
# Usage: scripts/bench.sh [handshakes|link|scale|health]...      (default: all four, in that order)
# Environment:
#   BENCH_QUICK=1            a smoke run: small sizes, figures only indicative (~10 minutes)
#   BENCH_MESSAGES, BENCH_ROUNDS, BENCH_PARTNERS, BENCH_HANDSHAKE_SECONDS, ...  see bench/README.md
#   PARTNERMAIL_VENV         the Python venv (default: REPO/.venv)
#   PARTNERMAIL_SKIP_SETUP=1 do not run ensure-docker.sh / build-images.sh
set -euo pipefail

REPO=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${PARTNERMAIL_VENV:-$REPO/.venv}
RESULTS=$REPO/bench/results

say() { printf 'bench: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

declare -A SCRIPTS=([handshakes]=handshakes.py [link]=link_throughput.py [scale]=provision_scale.py
    [health]=health_check.py)
selected=("$@")
((${#selected[@]})) || selected=(handshakes link scale health)
needs_docker=0
for name in "${selected[@]}"; do
    [[ -n ${SCRIPTS[$name]:-} ]] || die "unknown benchmark '$name' (use: handshakes, link, scale, health)"
    [[ $name == handshakes || $name == health ]] || needs_docker=1
done

[[ -x $VENV/bin/python ]] || die "no Python venv in $VENV (run make setup)"
[[ -e $REPO/.collections/ansible_collections/partnermail/links ]] ||
    die "missing $REPO/.collections/ansible_collections/partnermail/links (run make setup)"

export PATH=$VENV/bin:$PATH
export ANSIBLE_COLLECTIONS_PATH=${ANSIBLE_COLLECTIONS_PATH:-$REPO/.collections}
export ANSIBLE_NOCOLOR=${ANSIBLE_NOCOLOR:-1}
export PYTHONDONTWRITEBYTECODE=1
export PYTHONUNBUFFERED=1

if ((needs_docker)); then
    if [[ ${PARTNERMAIL_SKIP_SETUP:-0} != 1 ]]; then
        "$REPO/scripts/ensure-docker.sh"
        # --no-check: the NAT check shares one network name with other users of the script; the benchmark's
        # DNS container installs dnsmasq through NAT first thing, which checks the same.
        "$REPO/scripts/build-images.sh" --no-check
    fi
    # The docker connection plugin runs the `docker` CLI: put Debian's first only when the one on PATH cannot
    # talk to this daemon (as scripts/molecule.sh does).
    if ! docker version >/dev/null 2>&1 && /usr/bin/docker version >/dev/null 2>&1; then
        shim=${TMPDIR:-/tmp}/partnermail-docker-client
        mkdir -p "$shim"
        ln -sfn /usr/bin/docker "$shim/docker"
        export PATH=$shim:$PATH
    fi
fi

# Whatever happens, leave no pm-bench-* container or network behind (the scripts clean up too; this covers a kill).
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
    ((needs_docker)) || return 0
    [[ ${BENCH_KEEP:-0} == 1 ]] && return 0
    (cd "$REPO/bench" && python -c 'import benchlib; benchlib.cleanup_docker()') >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$RESULTS"
exec > >(tee "$RESULTS/bench-latest.log") 2>&1

start=$SECONDS
summary=()
status=0
for name in "${selected[@]}"; do
    t0=$SECONDS
    say "running $name (bench/${SCRIPTS[$name]})"
    rc=0
    python "$REPO/bench/${SCRIPTS[$name]}" || rc=$?
    ((rc == 0)) || status=1
    summary+=("$(printf '%-11s %5ds  %s' "$name" $((SECONDS - t0)) "$( ((rc == 0)) && echo ok || echo "could not measure everything (exit $rc): see above")")")
done

printf '\n%s\n' "benchmarks done in $((SECONDS - start))s (figures above; JSON in bench/results/):"
printf '  %s\n' "${summary[@]}"
exit $status
