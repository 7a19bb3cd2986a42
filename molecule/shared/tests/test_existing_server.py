"""On a server that already runs: Dovecot stays the admin's, partner and local logins never meet, a configuration we
did not write is only replaced with consent (and kept), and extension points that would weaken the links are refused.
"""

from __future__ import annotations

import base64
import time

import pytest
from mail import send, token
from runner import playbook
from test_guards import partner_login, swaks
from test_lifecycle import WATCHED

CHECKSUMS = f"find {WATCHED} -type f -print0 | sort -z | xargs -0 sha256sum"
LOCAL_USER, LOCAL_PASSWORD = "pmlocal", "local-user-secret-1234"


def site(pytestconfig, tmp_path, extra_vars: dict | None = None):
    return playbook(pytestconfig, tmp_path, "site.yml", extra_vars)


@pytest.mark.parametrize("mta", ["mx-a", "mx-b"])
def test_dovecot_conf_stays_the_packages_and_our_part_is_a_snippet(hosts, mta):
    host = hosts(mta)
    # dpkg -V names a conffile whose content differs from the package's.
    assert "/etc/dovecot/dovecot.conf" not in host.run("dpkg -V dovecot-core").stdout
    snippet = host.file("/etc/dovecot/conf.d/90-partnermail.conf")
    assert snippet.exists and snippet.mode == 0o640 and snippet.group == "dovecot"
    assert "protocol partnermail {" in snippet.content_string


@pytest.fixture
def local_user(hosts):
    mx_a = hosts("mx-a")
    mx_a.check_output(f"useradd -M {LOCAL_USER} && echo '{LOCAL_USER}:{LOCAL_PASSWORD}' | chpasswd")
    yield LOCAL_USER, LOCAL_PASSWORD
    mx_a.run(f"userdel {LOCAL_USER}")


def auth_test(host, service: str, user: str, password: str) -> bool:
    result = host.run(f"doveadm auth test -x service={service} {user} '{password}'")
    return "auth succeeded" in result.stdout


def test_partner_logins_and_the_servers_own_users_never_meet(hosts, local_user):
    mx_a = hosts("mx-a")
    user, password = local_user
    partner, partner_password = partner_login(hosts, "mx-a", "b")
    # The server's own user logs in wherever the admin's Dovecot lets it (submission: service smtp; IMAP) ...
    assert auth_test(mx_a, "smtp", user, password)
    assert auth_test(mx_a, "imap", user, password)
    # ... but not as a partner: the partner listeners ask for the service partnermail.
    assert not auth_test(mx_a, "partnermail", user, password)
    # A partner's login is valid there only: no mailbox, no submission.
    assert auth_test(mx_a, "partnermail", partner, partner_password)
    assert not auth_test(mx_a, "imap", partner, partner_password)
    assert not auth_test(mx_a, "smtp", partner, partner_password)
    # Across the wire: the local user cannot log in on the partner listener, the partner can.
    refused = swaks(hosts("outsider"), "--server mx.a.test", "--tls", "--auth PLAIN", f"--auth-user {user}",
                    f"--auth-password '{password}'", "--quit-after AUTH", quiet=False)
    assert "535 5.7.8" in refused.stdout, refused.stdout
    accepted = swaks(hosts("outsider"), "--server mx.a.test", "--tls", "--auth PLAIN", f"--auth-user {partner}",
                     f"--auth-password '{partner_password}'", "--quit-after AUTH", quiet=False)
    assert "235 2.7.0" in accepted.stdout, accepted.stdout


@pytest.mark.parametrize(("extra_vars", "message"), [
    ({"postfix_main_cf_extra": {"smtpd_tls_auth_only": "no"}},
     "postfix_main_cf_extra.smtpd_tls_auth_only: may not be set here: AUTH must only ever be offered after STARTTLS"),
    ({"postfix_master_cf_extra": [{"name": "587", "type": "inet", "command": "smtpd",
                                   "options": {"smtpd_relay_restrictions": "permit_sasl_authenticated, reject"}}]},
     "postfix_master_cf_extra[0] (587).options.smtpd_relay_restrictions: permit_sasl_authenticated would let a "
     "partner's login relay"),
])
def test_extension_points_that_weaken_the_links_are_refused_before_any_change(
        hosts, pytestconfig, tmp_path, extra_vars, message):
    mx_a = hosts("mx-a")
    before = mx_a.check_output(CHECKSUMS)
    rc, out = site(pytestconfig, tmp_path, extra_vars)
    assert rc != 0, out
    assert message in out, out
    assert "changed=0" in out, out
    assert mx_a.check_output(CHECKSUMS) == before


def test_a_main_cf_we_did_not_write_is_replaced_only_with_consent_and_kept(hosts, pytestconfig, tmp_path):
    mx_a = hosts("mx-a")
    ours = mx_a.file("/etc/postfix/main.cf").content_string
    # The admin's main.cf: ours without the header (so not written by us), plus a milter we do not render.
    foreign = "".join(ours.splitlines(keepends=True)[1:]) + "smtpd_milters = inet:127.0.0.1:11332\n"
    copy = "/etc/postfix/main.cf.before-partnermail"
    encoded = base64.b64encode(foreign.encode()).decode()
    mx_a.check_output(f"cp -p /etc/postfix/main.cf /tmp/main.cf.pmtest && "
                      f"echo {encoded} | base64 -d > /etc/postfix/main.cf")
    try:
        before = mx_a.check_output(CHECKSUMS)
        rc, out = site(pytestconfig, tmp_path)
        assert rc != 0, out
        assert "mx-a: partnermail.links did not write these files and they are not the package's own" in out, out
        assert "/etc/postfix/main.cf: would lose:" in out and "smtpd_milters = inet:127.0.0.1:11332 (dropped)" in out
        assert "changed=0" in out, out
        assert mx_a.check_output(CHECKSUMS) == before
        assert not mx_a.file(copy).exists
        # --check --diff: goes on (saying a real run would refuse), shows what main.cf would become, changes nothing.
        rc, out = playbook(pytestconfig, tmp_path, "site.yml", options=("--check", "--diff"))
        assert rc == 0, out
        assert "A real run would stop here, nothing is changed in check mode" in out, out
        assert "-smtpd_milters = inet:127.0.0.1:11332" in out, out
        assert f"+{ours.splitlines()[0]}" in out, out
        assert mx_a.check_output(CHECKSUMS) == before
        assert not mx_a.file(copy).exists
        # With consent: replaced, and the admin's file kept beside it.
        rc, out = site(pytestconfig, tmp_path, {"postfix_take_over": True})
        assert rc == 0, out
        assert mx_a.file(copy).content_string == foreign
        assert mx_a.file("/etc/postfix/main.cf").content_string == ours
        # Ours from now on: later runs need no consent and never touch the copy.
        rc, out = site(pytestconfig, tmp_path)
        assert rc == 0, out
        assert mx_a.file(copy).content_string == foreign
    finally:
        mx_a.run(f"rm -f {copy}; cp -p /tmp/main.cf.pmtest /etc/postfix/main.cf && postfix reload")


@pytest.mark.parametrize("mta", ["mx-a", "mx-b"])
def test_mail_to_the_postmaster_arrives(hosts, mta):
    """aliases(5) built with postalias: Postfix's own notices to the postmaster reach root's mailbox."""
    host = hosts(mta)
    assert host.check_output("postalias -q postmaster hash:/etc/aliases") == "root"
    tag = token()
    name = host.check_output("postconf -h myhostname")
    send(host, f"root@{name}", f"postmaster@{name}", tag)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if host.run(f"grep -q 'X-Partnermail-Test: {tag}' /var/mail/root").rc == 0:
            break
        time.sleep(1)
    else:
        pytest.fail(f"no mail to postmaster@{name} in /var/mail/root: {host.run('tail -5 /var/log/mail.log').stdout}")


def test_the_sites_own_setting_and_submission_service_are_there(hosts):
    mx_a = hosts("mx-a")
    assert mx_a.check_output("postconf -h message_size_limit") == "20480000"
    ehlo = swaks(hosts("outsider"), "--server mx.a.test:587", "--tls", "--quit-after EHLO", quiet=False)
    assert "250-SIZE 20480000" in ehlo.stdout, ehlo.stdout


def test_submission_serves_the_servers_own_users_and_refuses_partners(hosts, local_user):
    user, password = local_user
    outsider = hosts("outsider")
    login = f"--server mx.a.test:587 --tls --auth PLAIN --auth-user {user} --auth-password '{password}'"
    # The server's own user relays to the Internet through its submission service ...
    sent = swaks(outsider, login, f"--from {user}@a.test", "--to someone@c.test", quiet=False)
    assert sent.rc == 0 and "250 2.0.0 Ok: queued" in sent.stdout, sent.stdout
    # ... but cannot pose as a partner there (the partner-sender check starts the service's sender list).
    posing = swaks(outsider, login, "--from ceo@b.test", "--to alice@a.test", quiet=False)
    assert posing.rc == 24 and "not owned by user" in posing.stdout, posing.stdout
    # A partner's login is no submission login.
    partner, partner_password = partner_login(hosts, "mx-a", "b")
    refused = swaks(outsider, "--server mx.a.test:587 --tls --auth PLAIN", f"--auth-user {partner}",
                    f"--auth-password '{partner_password}'", "--quit-after AUTH", quiet=False)
    assert "535 5.7.8" in refused.stdout, refused.stdout
    # Nobody unauthenticated gets past the client restrictions.
    anonymous = swaks(outsider, "--server mx.a.test:587 --tls", f"--from {user}@a.test", "--to alice@a.test")
    assert anonymous.rc != 0, anonymous.stdout


def test_removing_an_extra_removes_it_from_the_host(hosts, pytestconfig, tmp_path):
    mx_a = hosts("mx-a")
    try:
        rc, out = site(pytestconfig, tmp_path, {"postfix_master_cf_extra": [], "postfix_main_cf_extra": {}})
        assert rc == 0, out
        assert "submission" not in mx_a.check_output("postconf -M")
        assert mx_a.check_output("postconf -h message_size_limit") == "10240000"  # Postfix's default again
    finally:
        rc, out = site(pytestconfig, tmp_path)
    assert rc == 0, out
    assert "submission" in mx_a.check_output("postconf -M")
    assert mx_a.check_output("postconf -h message_size_limit") == "20480000"
