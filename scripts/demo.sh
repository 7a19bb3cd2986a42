#!/usr/bin/env bash
# The demo (`make demo`): two partner MTAs in containers, provisioned by playbooks/site.yml from the
# example inventory in examples/inventory/, then one message from mx.a.test to alice@b.test and the proof
# that it crossed the partner link with verified TLS and SASL.
#
#   1. set-up: the venv (scripts/bootstrap.sh), a Docker engine (scripts/ensure-docker.sh) and the local
#      image partnermail/debian:13, or :12 (scripts/build-images.sh);
#   2. examples/demo-prepare.yml: network pm-demo, containers pm-demo-mx-a, pm-demo-mx-b and the demo's
#      DNS server pm-demo-ns (see that playbook);
#   3. playbooks/site.yml with examples/inventory, unchanged: what a user runs (its output is kept in
#      .demo/site.log; the number of tasks it changed is printed);
#   4. examples/demo-send.yml: send, wait for the delivery, check and write the proof to .demo/proof.txt;
#      printed below.
#
# Run it again: the containers are reused, site.yml changes nothing, a new message is sent.
# `make test` runs it twice and then cleans up; the second run must report 0 changed.
#
# Usage: scripts/demo.sh            set up and run the demo
#        scripts/demo.sh clean      remove the demo's containers, network and .demo/ (CAs, proof)
# Environment:
#   PARTNERMAIL_VENV          the Python venv (default: REPO/.venv)
#   PARTNERMAIL_SKIP_SETUP=1  do not run bootstrap.sh / ensure-docker.sh / build-images.sh
#   PARTNERMAIL_DEMO_SUBNET   subnet of the demo network (default 172.30.90.0/24; read at creation only)
#   PARTNERMAIL_DEMO_RELEASE  Debian release of the demo's containers: 13 (default, the current stable
#                             release) or 12. Changing it recreates the containers from the other image.
#   PARTNERMAIL_DEMO_EXPECT_UNCHANGED=1
#                             fail when site.yml changed anything (make test's second run)
set -euo pipefail

REPO=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${PARTNERMAIL_VENV:-$REPO/.venv}
INVENTORY=$REPO/examples/inventory
DEMO_DIR=$REPO/.demo
# Every container and network the demo creates carries this label (examples/demo-prepare.yml): clean
# removes those and nothing else.
LABEL=partnermail.demo
RELEASE=${PARTNERMAIL_DEMO_RELEASE:-13}
case $RELEASE in
    12 | 13) ;;
    *) printf 'demo: ERROR: PARTNERMAIL_DEMO_RELEASE=%s: supported releases are 12 and 13\n' "$RELEASE" >&2; exit 2 ;;
esac
export PARTNERMAIL_DEMO_RELEASE=$RELEASE

say() { printf 'demo: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# Put a docker client that talks to this daemon first on PATH (as scripts/molecule.sh does): the docker
# connection plugin runs the `docker` CLI.
docker_client() {
    if ! docker version >/dev/null 2>&1 && /usr/bin/docker version >/dev/null 2>&1; then
        local shim=${TMPDIR:-/tmp}/partnermail-docker-client
        mkdir -p "$shim"
        ln -sfn /usr/bin/docker "$shim/docker"
        export PATH=$shim:$PATH
    fi
}

clean() {
    local containers networks
    # Containers can exist only where a Docker engine is installed; do not install one just to clean.
    if command -v dockerd >/dev/null; then
        "$REPO/scripts/ensure-docker.sh"
        docker_client
        mapfile -t containers < <(docker ps -aq --filter "label=$LABEL")
        if ((${#containers[@]})); then
            say "removing containers: $(docker inspect -f '{{.Name}}' "${containers[@]}" | tr -d / | xargs)"
            docker rm -f "${containers[@]}" >/dev/null
        fi
        mapfile -t networks < <(docker network ls -q --filter "label=$LABEL")
        if ((${#networks[@]})); then
            say "removing network: $(docker network inspect -f '{{.Name}}' "${networks[@]}" | xargs)"
            docker network rm "${networks[@]}" >/dev/null
        fi
    fi
    if [[ -e $DEMO_DIR ]]; then
        say "removing $DEMO_DIR (the demo's CAs and proof)"
        rm -rf --one-file-system "$DEMO_DIR"
    fi
    say "clean"
}

playbook() {
    local t0=$SECONDS
    say "ansible-playbook -i examples/inventory $*"
    ansible-playbook -i "$INVENTORY" "$@"
    say "$1 done in $((SECONDS - t0))s"
}

# How many tasks site.yml changed (its PLAY RECAP, summed over the MTAs); fail on any when asked to.
site_changes() {
    local changed
    changed=$(awk '/^PLAY RECAP/ { recap = 1; next } recap && match($0, /changed=[0-9]+/) {
        n += substr($0, RSTART + 8, RLENGTH - 8) } END { print n + 0 }' "$DEMO_DIR/site.log")
    say "site.yml changed $changed task(s) (Debian $RELEASE containers; output in $DEMO_DIR/site.log)"
    if [[ ${PARTNERMAIL_DEMO_EXPECT_UNCHANGED:-0} == 1 ]] && ((changed > 0)); then
        grep -E '^(changed|TASK|PLAY RECAP)|changed=' "$DEMO_DIR/site.log" | grep -B1 '^changed' >&2 || true
        die "a second site.yml run changed $changed task(s); it must change nothing"
    fi
}

banner() {
    local rule
    rule=$(printf '=%.0s' {1..100})
    printf '\n%s\n  %s\n%s\n\n' "$rule" "$1" "$rule"
}

demo() {
    local t0=$SECONDS
    if [[ ${PARTNERMAIL_SKIP_SETUP:-0} != 1 ]]; then
        "$REPO/scripts/bootstrap.sh"
        "$REPO/scripts/ensure-docker.sh"
        # --no-check: the NAT check shares one network name with every other user of the script; the demo's
        # DNS container installs dnsmasq through NAT first thing, which checks the same.
        "$REPO/scripts/build-images.sh" --no-check "$RELEASE"
    fi
    [[ -x $VENV/bin/ansible-playbook ]] || die "no ansible-playbook in $VENV (run make setup)"
    [[ -e $REPO/.collections/ansible_collections/partnermail/links ]] ||
        die "missing $REPO/.collections/ansible_collections/partnermail/links (run make setup)"

    export PATH=$VENV/bin:$PATH
    docker_client
    export ANSIBLE_COLLECTIONS_PATH=$REPO/.collections
    export ANSIBLE_NOCOLOR=${ANSIBLE_NOCOLOR:-1}
    mkdir -p "$DEMO_DIR"
    rm -f "$DEMO_DIR/proof.txt"

    cd "$REPO"
    playbook examples/demo-prepare.yml
    playbook playbooks/site.yml | tee "$DEMO_DIR/site.log"
    site_changes
    playbook examples/demo-send.yml

    banner "partnermail demo: a message crossed the partner link, with verified TLS and SASL"
    cat "$DEMO_DIR/proof.txt"
    printf '\nThe link report site.yml wrote (%s):\n\n' "$DEMO_DIR/reports/links.md"
    cat "$DEMO_DIR/reports/links.md"
    printf '\n'
    say "done in $((SECONDS - t0))s. Run it again to send another message; \`make demo-clean\` removes it all."
}

case ${1:-} in
    "") demo ;;
    clean) clean ;;
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" ;;
    *) die "unknown argument ${1} (use: scripts/demo.sh [clean])" ;;
esac
