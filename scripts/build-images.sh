#!/usr/bin/env bash
# Build the local test images (no registry is reachable: everything is built here).
#
#   partnermail/debian:12   bare Debian 12 (bookworm)  } debootstrap --variant=minbase plus what Ansible
#   partnermail/debian:13   bare Debian 13 (trixie)    } needs to manage the host; apt configured like the
#                                                        host's Debian sources.
#
# The mirror is read from the host's deb822 apt sources (/etc/apt/sources.list.d/*.sources), never
# written here. An entry whose Suites contain the release's codename gives the URI for debootstrap, and
# every entry whose Suites are CODENAME or CODENAME-* (updates, security, ...) is copied into the image.
# A release the host has no entry for (a Debian 12 host building the Debian 13 image) takes the host's
# own release's entries with the codename replaced: the same mirrors, the other suite.
#
# Each image is cached by tag: its build is skipped when the tag exists, unless --force.
# Afterwards a container on a user-defined network runs `apt-get update` to prove that containers reach
# the mirror through NAT (skip with --no-check).
#
# Usage: scripts/build-images.sh [--force] [--no-check] [RELEASE...]     RELEASE: 12, 13 (default: both)
# Environment:
#   PARTNERMAIL_APT_SOURCES_DIR   where the host's deb822 sources are (default /etc/apt/sources.list.d)
set -euo pipefail

SOURCES_DIR=${PARTNERMAIL_APT_SOURCES_DIR:-/etc/apt/sources.list.d}
# The releases the collection supports, and their codenames.
declare -A CODENAMES=([12]=bookworm [13]=trixie)
# Set per release by select_release.
RELEASE="" SUITE="" IMAGE="" HOST_SUITE=""
# Only what Ansible needs to manage the host (python3, python3-apt for the apt module), what the
# tests and roles use on every host (TLS trust store, `ip`, `ps`/`pgrep`), and tini as PID 1: the
# containers run no init, and without a reaper every daemon restarted by a playbook leaves a zombie
# that init scripts (start-stop-daemon --retry) wait ~30 s for. Everything else is installed by the
# playbooks, as on a real host.
INCLUDE=python3,python3-apt,ca-certificates,iproute2,procps,tini

force=0
check=1
releases=()
for arg in "$@"; do
    case $arg in
        --force) force=1 ;;
        --no-check) check=0 ;;
        -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        [0-9]*)
            [[ -n ${CODENAMES[$arg]:-} ]] || {
                printf 'build-images: unsupported release %s (supported: %s)\n' "$arg" "${!CODENAMES[*]}" >&2
                exit 2
            }
            releases+=("$arg")
            ;;
        *) printf 'build-images: unknown argument %s\n' "$arg" >&2; exit 2 ;;
    esac
done
((${#releases[@]})) || releases=(12 13)

say() { printf 'build-images: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# Print one line per enabled deb822 paragraph: types|uris|suites|components|signed-by
# (fields joined by single spaces; comments and continuation lines of multi-line fields are ignored).
deb822_entries() {
    local f
    shopt -s nullglob
    for f in "$SOURCES_DIR"/*.sources; do
        awk '
            function flush() {
                if (types != "" && tolower(enabled) != "no")
                    printf "%s|%s|%s|%s|%s\n", types, uris, suites, comps, signed
                types = uris = suites = comps = signed = ""; enabled = "yes"
            }
            BEGIN { enabled = "yes" }
            /^[ \t]*#/ { next }
            /^[ \t]*$/ { flush(); next }
            /^[A-Za-z-]+:/ {
                key = tolower($1); sub(/:$/, "", key)
                val = $0; sub(/^[^:]*:[ \t]*/, "", val); gsub(/[ \t]+/, " ", val); sub(/ $/, "", val)
                if (key == "types") types = val
                else if (key == "uris") uris = val
                else if (key == "suites") suites = val
                else if (key == "components") comps = val
                else if (key == "signed-by") signed = val
                else if (key == "enabled") enabled = val
            }
            END { flush() }
        ' "$f"
    done
    shopt -u nullglob
}

has_word() { [[ " $1 " == *" $2 "* ]]; }

# True when some deb entry of the host lists suite $1.
host_has_suite() {
    local types uris suites comps signed
    while IFS='|' read -r types uris suites comps signed; do
        has_word "$types" deb && has_word "$suites" "$1" && return 0
    done < <(deb822_entries)
    return 1
}

# The release to build: its codename, its image tag, and whose entries of the host's sources to use.
select_release() {
    local c
    RELEASE=$1
    SUITE=${CODENAMES[$RELEASE]}
    IMAGE=partnermail/debian:$RELEASE
    HOST_SUITE=""
    if host_has_suite "$SUITE"; then
        HOST_SUITE=$SUITE
        return
    fi
    for c in "${CODENAMES[@]}"; do
        if host_has_suite "$c"; then
            HOST_SUITE=$c
            return
        fi
    done
    die "no deb822 entry in $SOURCES_DIR/*.sources lists a suite of ${CODENAMES[*]}: no mirror to build $IMAGE from"
}

image_exists() { docker image inspect "$IMAGE" >/dev/null 2>&1; }

# Render the image's /etc/apt/sources.list.d/debian.sources from the host's $HOST_SUITE* entries, each
# suite renamed to the release's ($HOST_SUITE-security becomes $SUITE-security).
render_sources() {
    local rootfs=$1 types uris suites comps signed s keep
    while IFS='|' read -r types uris suites comps signed; do
        has_word "$types" deb || continue
        keep=""
        for s in $suites; do
            [[ $s == "$HOST_SUITE" || $s == "$HOST_SUITE"-* ]] && keep+="${keep:+ }$SUITE${s#"$HOST_SUITE"}"
        done
        [[ -n $keep ]] || continue
        printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: %s\n' "$uris" "$keep" "${comps:-main}"
        if [[ -n $signed && $signed == /* && -e $rootfs$signed ]]; then
            printf 'Signed-By: %s\n' "$signed"
        fi
        printf '\n'
    done < <(deb822_entries)
}

build() {
    local mirror keyring types uris suites comps signed workdir rootfs t0 old_id
    command -v debootstrap >/dev/null || die "debootstrap is missing (scripts/ensure-docker.sh installs it)"
    [[ $(id -u) -eq 0 ]] || die "debootstrap needs root"

    mirror="" keyring=""
    while IFS='|' read -r types uris suites comps signed; do
        if has_word "$types" deb && has_word "$suites" "$HOST_SUITE"; then
            mirror=${uris%% *}
            keyring=$signed
            break
        fi
    done < <(deb822_entries)
    [[ -n $mirror ]] || die "no deb822 entry with Suites containing '$HOST_SUITE' in $SOURCES_DIR/*.sources"
    say "$IMAGE: $SUITE from the mirror of the host's apt sources: $mirror"

    workdir=$(mktemp -d /var/tmp/partnermail-image.XXXXXX)
    rootfs=$workdir/rootfs
    # shellcheck disable=SC2064  # expand now: the trap must clean this very directory
    trap "umount -l '$rootfs/proc' 2>/dev/null || true; rm -rf --one-file-system '$workdir'" EXIT

    t0=$SECONDS
    local args=(--variant=minbase --components=main --include="$INCLUDE")
    [[ -n $keyring && -r $keyring ]] && args+=(--keyring="$keyring")
    say "debootstrap $SUITE into $rootfs"
    debootstrap "${args[@]}" "$SUITE" "$rootfs" "$mirror" >"$workdir/debootstrap.log" 2>&1 || {
        tail -n 30 "$workdir/debootstrap.log" >&2
        die "debootstrap failed"
    }
    say "debootstrap done in $((SECONDS - t0))s"

    # apt sources like the host (main + updates + security as configured there).
    rm -f "$rootfs/etc/apt/sources.list"
    render_sources "$rootfs" >"$rootfs/etc/apt/sources.list.d/debian.sources"
    grep -q '^URIs:' "$rootfs/etc/apt/sources.list.d/debian.sources" || die "no apt sources rendered for the image"

    # Bring the image up to date with $SUITE-updates/-security (debootstrap only knows the base suite).
    say "apt-get upgrade inside the rootfs"
    mount -t proc proc "$rootfs/proc"
    chroot "$rootfs" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
        sh -ec 'apt-get update -q; apt-get -y -q -o Dpkg::Options::=--force-confold dist-upgrade; apt-get clean' \
        >"$workdir/upgrade.log" 2>&1 || {
        tail -n 30 "$workdir/upgrade.log" >&2
        die "apt-get upgrade in the rootfs failed"
    }
    umount "$rootfs/proc"

    # Container hygiene, as Debian's official images do it:
    # - no service is started by package installation (playbooks start what they need, explicitly);
    # - no apt lists/caches in the image; docker provides resolv.conf, hostname and hosts.
    printf '#!/bin/sh\n# Installed by partnermail build-images.sh: do not start services from maintainer scripts.\nexit 101\n' \
        >"$rootfs/usr/sbin/policy-rc.d"
    chmod 0755 "$rootfs/usr/sbin/policy-rc.d"
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
        "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/* "$rootfs"/tmp/* "$rootfs"/var/tmp/*
    # No lists in the image, so the lists directory must look ancient: Ansible's apt module trusts its
    # mtime for cache_valid_time and would otherwise skip the update and find no packages at all.
    mkdir -p "$rootfs/var/lib/apt/lists/partial"
    touch -d @0 "$rootfs/var/lib/apt/lists"
    : >"$rootfs/etc/resolv.conf"
    : >"$rootfs/etc/hostname"
    : >"$rootfs/etc/machine-id"  # empty, like Debian's official images

    say "importing into docker as $IMAGE"
    old_id=$(docker image inspect -f '{{.Id}}' "$IMAGE" 2>/dev/null || true)
    tar --numeric-owner --xattrs -C "$rootfs" -c . |
        docker import \
            --change 'ENV LANG=C.UTF-8' \
            --change 'ENTRYPOINT ["/usr/bin/tini", "--"]' \
            --change 'CMD ["sleep", "infinity"]' \
            --change "LABEL org.opencontainers.image.title=partnermail-debian-$RELEASE partnermail.mirror=$mirror partnermail.built=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
            - "$IMAGE" >/dev/null
    say "built $IMAGE in $((SECONDS - t0))s ($(docker image inspect -f '{{.Size}}' "$IMAGE" | awk '{printf "%d MB", $1/1e6}'))"

    # The image this one replaces (--force) is dangling now; keep it only if a container still uses it.
    if [[ -n $old_id && $old_id != "$(docker image inspect -f '{{.Id}}' "$IMAGE")" ]]; then
        docker image rm "$old_id" >/dev/null 2>&1 || say "kept the previous image $old_id (still in use)"
    fi

    rm -rf --one-file-system "$workdir"
    trap - EXIT
}

# A container on a user-defined network (like molecule's) must reach the mirror through NAT.
check_nat() {
    local net=partnermail-natcheck t0=$SECONDS rc=0
    docker network rm "$net" >/dev/null 2>&1 || true
    docker network create "$net" >/dev/null
    docker run --rm --network "$net" "$IMAGE" \
        sh -ec 'apt-get update -q >/tmp/update.log 2>&1 || { cat /tmp/update.log; exit 1; }; grep -cE "^(Get|Hit)" /tmp/update.log' \
        >/dev/null || rc=$?
    docker network rm "$net" >/dev/null
    ((rc == 0)) || die "a container on a user-defined network cannot apt-get update (NAT/DNS/MTU): see scripts/ensure-docker.sh"
    say "NAT check: apt-get update in a container on a user-defined network works ($((SECONDS - t0))s)"
}

for release in "${releases[@]}"; do
    select_release "$release"
    if ((force == 0)) && image_exists; then
        say "$IMAGE exists, not rebuilding (use --force to rebuild)"
    else
        build
    fi
done
# One NAT check is enough: it proves the network path, which is the same for every image.
((check == 0)) || check_nat
