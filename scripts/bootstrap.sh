#!/usr/bin/env bash
# Create .venv with the test requirements and make the checkout importable as
# ansible_collections.partnermail.links. Safe to run again; does nothing when up to date.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v openssl >/dev/null || need_apt+=(openssl)
command -v shellcheck >/dev/null || need_apt+=(shellcheck)  # ansible-test sanity's shellcheck test
python3 -c 'import venv, ensurepip' 2>/dev/null || need_apt+=(python3-venv)
if ((${#need_apt[@]})); then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
    else
        echo "bootstrap: please install: ${need_apt[*]}" >&2
        exit 1
    fi
fi

stamp=.venv/.requirements.sha256
want=$(cat requirements.txt requirements-test.txt | sha256sum | cut -d' ' -f1)
if [[ ! -x .venv/bin/python || ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
    python3 -m venv .venv
    .venv/bin/pip install --quiet --upgrade pip
    .venv/bin/pip install --quiet -r requirements-test.txt
    echo "$want" > "$stamp"
fi

# promtool (checks and unit-tests the health role's alert rules) from Debian's prometheus package, unpacked
# into .cache without installing it: installing would start a Prometheus server on this machine.
if [[ ! -x .venv/bin/promtool ]]; then
    cache=.cache/prometheus
    rm -rf "$cache" && mkdir -p "$cache"
    if ! (cd "$cache" && apt-get download -q prometheus >/dev/null 2>&1); then
        if [[ $(id -u) -eq 0 ]]; then
            apt-get update -qq
            (cd "$cache" && apt-get download -q prometheus >/dev/null)
        else
            echo "bootstrap: 'apt-get download prometheus' failed (run apt-get update as root first)" >&2
            exit 1
        fi
    fi
    dpkg-deb -x "$cache"/prometheus_*.deb "$cache/root"
    mv "$cache/root/usr/bin/promtool" "$cache/promtool"
    rm -rf "$cache/root" "$cache"/prometheus_*.deb
    ln -sfn "../../$cache/promtool" .venv/bin/promtool
    .venv/bin/promtool --version | head -1
fi

mkdir -p .collections/ansible_collections/partnermail
ln -sfn ../../.. .collections/ansible_collections/partnermail/links
