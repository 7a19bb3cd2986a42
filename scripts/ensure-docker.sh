#!/usr/bin/env bash
# Ensure a working Docker engine for the molecule tests.
#
# If `docker info` answers, do nothing. Otherwise (root on Debian only): install Debian's docker.io
# with iptables and debootstrap, start dockerd in the background (nothing else starts it: no systemd
# here) with its log in /var/log/partnermail-dockerd.log, wait until it answers, and check what the
# test network needs (IP forwarding and NAT for containers on user-defined networks).
#
# Idempotent: run it as often as you like.
#
# What was found on the reference machine (Debian 12 VM, kernel 6.18, no systemd, ext4 root):
#   - storage driver: overlay2 works on the ext4 root (dockerd's default choice; nothing to set);
#   - iptables: Debian's default iptables-nft backend works (iptables-legacy works too); no switch;
#   - cgroups: v1 hierarchy (+ unified v2 mount), cgroupfs driver: works as is;
#   - net.ipv4.ip_forward is 0 at boot; dockerd sets it to 1 itself (checked below);
#   - the uplink MTU is 1400 and docker networks use 1500: apt downloads through NAT still work;
#   - containers resolve through docker's embedded DNS, which forwards to the host's nameserver;
#   - /usr/local/bin/docker (a 28.x client) shadows Debian's /usr/bin/docker (20.10) and works with the
#     20.10 daemon through API version negotiation (API 1.41). scripts/molecule.sh puts Debian's client
#     first on PATH only when the shadowing client cannot talk to the daemon.
#
# Environment:
#   PARTNERMAIL_DOCKERD_LOG      dockerd log file (default /var/log/partnermail-dockerd.log)
#   PARTNERMAIL_DOCKERD_TIMEOUT  seconds to wait for dockerd to answer (default 60)
set -euo pipefail

LOG=${PARTNERMAIL_DOCKERD_LOG:-/var/log/partnermail-dockerd.log}
TIMEOUT=${PARTNERMAIL_DOCKERD_TIMEOUT:-60}
DEBIAN_DOCKER=/usr/bin/docker
# docker.io pulls containerd, runc, tini and iptables; debootstrap (+ keyring) builds the test image.
PACKAGES=(docker.io iptables debootstrap debian-archive-keyring ca-certificates xz-utils)

say() { printf 'ensure-docker: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# Any client that can talk to the daemon will do: the one on PATH, or Debian's.
docker_ok() {
    docker info >/dev/null 2>&1 || { [[ -x $DEBIAN_DOCKER ]] && "$DEBIAN_DOCKER" info >/dev/null 2>&1; }
}

dockerd_running() { pgrep -x dockerd >/dev/null; }

show_log() {
    say "last lines of $LOG:"
    tail -n 30 "$LOG" >&2 || true
}

if docker_ok; then
    exit 0
fi

[[ $(id -u) -eq 0 ]] || die "docker is not answering and I am not root: start dockerd yourself"
[[ -r /etc/debian_version ]] || die "docker is not answering and this is not Debian: install and start Docker yourself"

# --- packages ---------------------------------------------------------------------------------
export DEBIAN_FRONTEND=noninteractive
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if ((${#missing[@]})); then
    say "installing ${missing[*]}"
    # Refresh the package lists only when apt cannot install from the lists it has.
    if ! apt-get install -y -q --no-install-recommends --dry-run "${missing[@]}" >/dev/null 2>&1; then
        say "apt-get update"
        apt-get update -q >/dev/null
    fi
    # Recommends left out on purpose: apparmor, needrestart and git are not wanted here.
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- dockerd ----------------------------------------------------------------------------------
if dockerd_running; then
    say "dockerd is running but not answering yet; waiting"
else
    # A dockerd that died (VM snapshot, kill -9) leaves pid files that make the next one refuse to start.
    rm -f /var/run/docker.pid /var/run/docker/containerd/containerd.pid
    say "starting dockerd (log: $LOG)"
    mkdir -p "$(dirname "$LOG")"
    # setsid + nohup: dockerd must outlive this script and the shell that ran it. It runs its own
    # containerd (no containerd service here).
    setsid nohup /usr/sbin/dockerd >>"$LOG" 2>&1 </dev/null &
fi

deadline=$((SECONDS + TIMEOUT))
until docker_ok; do
    if ((SECONDS >= deadline)); then
        say "dockerd did not answer within ${TIMEOUT}s"
        show_log
        exit 1
    fi
    if ! dockerd_running; then
        say "dockerd exited"
        show_log
        exit 1
    fi
    sleep 1
done

# --- what the test network needs ----------------------------------------------------------------
client=docker
if ! docker version >/dev/null 2>&1; then
    client=$DEBIAN_DOCKER
    say "WARNING: $(command -v docker || echo docker) cannot talk to this daemon; $DEBIAN_DOCKER can" \
        "(scripts/molecule.sh puts it first on PATH)"
fi

# Containers on user-defined networks reach the mirror through the host: forwarding and masquerading.
[[ $(cat /proc/sys/net/ipv4/ip_forward) == 1 ]] || {
    say "net.ipv4.ip_forward is 0 (dockerd normally sets it): setting it"
    echo 1 >/proc/sys/net/ipv4/ip_forward
}
if ! iptables -t nat -S POSTROUTING 2>/dev/null | grep -q MASQUERADE; then
    show_log
    die "dockerd installed no NAT (MASQUERADE) rule: containers cannot reach the mirror; see the log above"
fi
if grep -Eq '^nameserver[[:space:]]+(127\.|::1)' /etc/resolv.conf; then
    say "WARNING: the host resolves through a loopback nameserver; docker will give containers public" \
        "resolvers instead, which may be unreachable here"
fi

say "docker is up: $("$client" info --format \
    'engine {{.ServerVersion}}, storage {{.Driver}}, cgroup v{{.CgroupVersion}} ({{.CgroupDriver}})')"
