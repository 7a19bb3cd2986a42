"""site.yml runs that change the inventory: a broken configuration is rolled back, a removed partner is gone."""

from __future__ import annotations

import os

import pytest
import yaml
from mail import send, token, wait_delivered
from runner import HOST_VARS, playbook
from test_guards import partner_login, swaks


def site(pytestconfig, tmp_path, extra_vars: dict | None = None):
    return playbook(pytestconfig, tmp_path, "site.yml", extra_vars)


@pytest.fixture
def mx_a_partners():
    with open(os.path.join(HOST_VARS, "mx-a.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)["partnermail_partners"]


# Every file the snapshot role covers: kind, mode, owner, mtime (a map's .db is rebuilt by age) and content.
MANAGED = ("/etc/postfix /etc/dovecot /etc/partnermail /usr/local/lib/partnermail /usr/local/sbin/partnermail-health "
           "/etc/cron.d/partnermail-health /etc/logrotate.d/partnermail-health")
SNAPSHOT = "/var/lib/partnermail/run-snapshot.tar"


def managed_state(host) -> str:
    entries = host.check_output(f"find {MANAGED} -xdev \\( -type f -o -type l \\) -printf '%p %y %m %U:%G %Ts %l\\n' "
                                "2>/dev/null | sort")
    directories = host.check_output(f"find {MANAGED} -xdev -type d -printf '%p %m %U:%G\\n' 2>/dev/null | sort")
    sums = host.check_output(f"find {MANAGED} -xdev -type f -print0 2>/dev/null | sort -z | xargs -0 sha256sum")
    return "\n".join([entries, directories, sums])


def second_partner(partners: list) -> dict:
    """A second partner for mx-a: its maps rows, trust anchor and inbound password are new files and lines."""
    return {
        "name": "c2",
        "domains": ["c.test2"],
        "connectors": [{"cost": 3, "host": "relay.c.test2", "port": 587}],
        "tls": {"level": "secure", "match": ["c.test2"], "ca_file": partners[0]["tls"]["ca_file"]},
        "outbound_auth": {"username": "a-test", "password": "a-logs-in-at-c2-1234"},
        "inbound_auth": {"username": "c2-test", "password": "c2-logs-in-at-a-1234"},
    }


def assert_put_back(hosts, before: str) -> None:
    mx_a = hosts("mx-a")
    assert managed_state(mx_a) == before
    assert not mx_a.file(SNAPSHOT).exists
    assert not mx_a.run("ls /etc/postfix/ | grep -E '^(main|master)\\.cf\\..*~$'").stdout
    assert "c.test2" not in mx_a.check_output("postmap -s hash:/etc/postfix/partnermail/transport")
    # The running server kept serving with the old configuration.
    tag = token()
    send(mx_a, "alice@a.test", "alice@b.test", tag)
    wait_delivered(hosts("mx-b"), "alice@b.test", tag)


def test_a_configuration_that_fails_its_check_is_rolled_back(hosts, pytestconfig, tmp_path, mx_a_partners):
    mx_a = hosts("mx-a")
    before = managed_state(mx_a)
    # A new partner too: its maps, anchor and password were written before the check, and go back with main.cf.
    rc, out = site(pytestconfig, tmp_path, {"postfix_main_cf_extra": {"disable_vrfy_command": "maybe"},
                                            "partnermail_partners": [*mx_a_partners, second_partner(mx_a_partners)]})
    assert rc != 0, out
    assert "failed its check and was not applied: Postfix was not reloaded" in out, out
    assert "bad boolean configuration: disable_vrfy_command = maybe" in out, out
    assert "every file this run had written was put back" in out, out
    assert_put_back(hosts, before)


def test_a_run_that_fails_after_writing_the_maps_puts_every_file_back(hosts, pytestconfig, tmp_path, mx_a_partners):
    """The partners role dies between writing a new partner's maps and rebuilding their .db files."""
    mx_a = hosts("mx-a")
    before = managed_state(mx_a)
    # A postmap that fails: the module writes the tables, then dies building the first .db.
    mx_a.check_output("mv /usr/sbin/postmap /usr/sbin/postmap.pmtest && printf '#!/bin/sh\\nexit 75\\n' "
                      "> /usr/sbin/postmap && chmod 0755 /usr/sbin/postmap")
    try:
        rc, out = site(pytestconfig, tmp_path,
                       {"partnermail_partners": [*mx_a_partners, second_partner(mx_a_partners)]})
    finally:
        mx_a.check_output("mv /usr/sbin/postmap.pmtest /usr/sbin/postmap")
    assert rc != 0, out
    assert ('mx-a: "Write the partner maps, and rebuild the map databases that are missing or older than their '
            'source" failed, so every file this run had written was put back') in out, out
    assert "failed (exit 75)" in out, out
    assert_put_back(hosts, before)


def test_a_map_database_older_than_its_source_is_rebuilt(hosts, pytestconfig, tmp_path):
    """The table is right and its .db is not (what a run that died before postmap leaves): the next run rebuilds it
    by age, though no content changed."""
    mx_a = hosts("mx-a")
    transport = "/etc/postfix/partnermail/transport"
    mx_a.check_output(f"printf 'stale.test discard:\\n' | postmap -i hash:{transport} "
                      f"&& touch -d '1 hour ago' {transport}.db")
    assert mx_a.run(f"postmap -q stale.test hash:{transport}").rc == 0
    rc, out = site(pytestconfig, tmp_path)
    assert rc == 0, out
    assert mx_a.run(f"postmap -q stale.test hash:{transport}").rc == 1
    assert "partner:" in mx_a.check_output(f"postmap -s hash:{transport}")
    assert mx_a.file(f"{transport}.db").mtime >= mx_a.file(transport).mtime


ARTIFACTS = {
    "/etc/postfix/partnermail/transport": "c.test2",
    "/etc/postfix/partnermail/tls_policy": "[relay.c.test2]:587",
    "/etc/postfix/partnermail/sender_logins.pcre": "c2-test",
    "/etc/dovecot/partnermail-users": "c2-test:",
}


def test_removing_a_partner_removes_every_artifact(hosts, pytestconfig, tmp_path, mx_a_partners):
    mx_a = hosts("mx-a")
    second = second_partner(mx_a_partners)
    master_cf = mx_a.file("/etc/postfix/master.cf").content_string
    try:
        rc, out = site(pytestconfig, tmp_path, {"partnermail_partners": [*mx_a_partners, second]})
        assert rc == 0, out
        for path, needle in ARTIFACTS.items():
            assert needle in mx_a.file(path).content_string, path
        assert mx_a.file("/etc/postfix/partnermail/trust/c2.pem").exists
        assert "[relay.c.test2]:587" in mx_a.check_output("postmap -s hash:/etc/postfix/partnermail/sasl_passwd")
        # Every partner leaves through the one partner transport: master.cf does not change.
        assert mx_a.file("/etc/postfix/master.cf").content_string == master_cf
        routes = mx_a.check_output("postmap -s hash:/etc/postfix/partnermail/transport")
        assert "c.test2\tpartner:[relay.c.test2]:587" in routes, routes
        # With two partners, b's login may not pose as the other one; nor may anyone unauthenticated.
        user, password = partner_login(hosts, "mx-a", "b")
        posing = swaks(hosts("outsider"), "--server mx.a.test:2525", "--tls", "--auth PLAIN", f"--auth-user {user}",
                       f"--auth-password '{password}'", "--from boss@c.test2", "--to alice@a.test")
        assert posing.rc == 24 and f"not owned by user {user}" in posing.stdout, posing.stdout
        anonymous = swaks(hosts("outsider"), "--server mx.a.test", "--from boss@c.test2", "--to alice@a.test")
        assert anonymous.rc == 24 and "not logged in as the partner" in anonymous.stdout, anonymous.stdout
    finally:
        # Back to the scenario's inventory, whatever failed above: later tests expect it.
        rc, out = site(pytestconfig, tmp_path)
    assert rc == 0, out
    for path, needle in ARTIFACTS.items():
        assert needle not in mx_a.file(path).content_string, path
    assert not mx_a.file("/etc/postfix/partnermail/trust/c2.pem").exists
    assert "c.test2" not in mx_a.check_output("postmap -s hash:/etc/postfix/partnermail/sasl_passwd")
    assert "c.test2" not in mx_a.check_output("postmap -s hash:/etc/postfix/partnermail/transport")
    assert mx_a.file("/etc/postfix/master.cf").content_string == master_cf
    # b is untouched and still reachable.
    tag = token()
    send(mx_a, "alice@a.test", "alice@b.test", tag)
    wait_delivered(hosts("mx-b"), "alice@b.test", tag)


# What Ansible reads to tell the release (distribution facts): swapped for Debian 11's for one run.
RELEASE_FILES = {
    "/etc/os-release": 'PRETTY_NAME="Debian GNU/Linux 11 (bullseye)"\nNAME="Debian GNU/Linux"\nVERSION_ID="11"\n'
                       'VERSION="11 (bullseye)"\nVERSION_CODENAME=bullseye\nID=debian\n',
    "/etc/debian_version": "11.11\n",
}
WATCHED = "/etc/postfix /etc/dovecot /etc/partnermail"


def test_an_mta_on_an_unsupported_release_is_refused_before_any_change(hosts, pytestconfig, tmp_path):
    mx_a = hosts("mx-a")
    checksums = f"find {WATCHED} -type f -print0 | sort -z | xargs -0 sha256sum"
    before = mx_a.check_output(checksums)
    moves = " && ".join(f"mv {path} {path}.pmtest && printf '{content}' > {path}"
                        for path, content in RELEASE_FILES.items())
    mx_a.check_output(moves)
    try:
        rc, out = site(pytestconfig, tmp_path)
    finally:
        mx_a.check_output(" && ".join(f"mv -f {path}.pmtest {path}" for path in RELEASE_FILES))
    assert rc != 0, out
    assert ("mx-a runs Debian 11.11 (bullseye), which partnermail.links does not support; "
            "supported releases: Debian 12 (bookworm), Debian 13 (trixie)") in out, out
    assert "changed=0" in out, out
    assert mx_a.check_output(checksums) == before
