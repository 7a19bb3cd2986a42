"""On a server that already runs (mx-a, configured by hand before converge and taken over with consent): what it did
still works (IMAP for its own user, the milter, submission with its size limit), its files are kept, Dovecot stays
the admin's, partner and local logins never meet, and extension points that would weaken the links are refused.
The refusal without consent and --check --diff are tested before converge (test_takeover.py).
"""

from __future__ import annotations

import re
import time

import pytest
from mail import imap_inbox, send, token, wait_delivered
from runner import playbook
from test_guards import partner_login, swaks
from test_lifecycle import WATCHED

CHECKSUMS = f"find {WATCHED} -type f -print0 | sort -z | xargs -0 sha256sum"
LOCAL_USER, LOCAL_PASSWORD = "pmlocal", "local-user-secret-1234"
ORIGINALS = "/root/hand-configured"  # the admin's files as hand-configured.yml left them, before converge


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


def test_the_admins_files_are_kept_as_they_were_and_ours_replace_them(hosts):
    """mx-a was configured by hand before converge (../hand-configured.yml) and taken over with consent."""
    mx_a = hosts("mx-a")
    for name in ("main.cf", "master.cf"):
        original = mx_a.file(f"{ORIGINALS}/{name}").content_string
        assert original and "partnermail" not in original
        # Still the admin's file after converge, the idempotence run and every site.yml run of the tests before.
        assert mx_a.file(f"/etc/postfix/{name}.before-partnermail").content_string == original
        assert mx_a.file(f"/etc/postfix/{name}").content_string.startswith("# Managed by partnermail.links")


def test_the_admins_dovecot_files_are_untouched_and_ours_is_one_snippet(hosts):
    mx_a = hosts("mx-a")
    check = mx_a.run(f"sha256sum --check --strict {ORIGINALS}/dovecot.sha256")
    assert check.rc == 0, check.stdout + check.stderr
    sums = mx_a.file(f"{ORIGINALS}/dovecot.sha256").content_string
    listed = {line.split(maxsplit=1)[1] for line in sums.splitlines()}
    now = set(mx_a.check_output("find /etc/dovecot -type f").splitlines())
    assert now - listed == {"/etc/dovecot/conf.d/90-partnermail.conf", "/etc/dovecot/partnermail-users"}


def test_imap_still_serves_the_servers_own_user_and_no_partner(hosts):
    var = hosts("mx-a").ansible.get_variables()
    user, outsider = var["pmtest_hand_user"], hosts("outsider")
    inbox = imap_inbox(outsider, "mx.a.test", user["name"], user["password"], var["pmtest_hand_mail_subject"])
    assert inbox["greeting"].endswith(var["pmtest_hand_imap_greeting"]), inbox
    assert inbox["login"] and inbox["found"] == 1, inbox
    partner, partner_password = partner_login(hosts, "mx-a", "b")
    assert not imap_inbox(outsider, "mx.a.test", partner, partner_password, "x")["login"]


def test_the_admins_milter_still_signs_what_the_servers_own_user_submits(hosts):
    var = hosts("mx-a").ansible.get_variables()
    user, outsider, tag = var["pmtest_hand_user"], hosts("outsider"), token()
    sent = swaks(outsider, "--server mx.a.test:587 --tls --auth PLAIN", f"--auth-user {user['name']}",
                 f"--auth-password '{user['password']}'", f"--from {user['name']}@a.test",
                 f"--to {outsider.ansible.get_variables()['pmtest_outsider_mailbox']}",
                 f"--header 'X-Partnermail-Test: {tag}'", quiet=False)
    assert sent.rc == 0, sent.stdout
    message = wait_delivered(outsider, "alice@c.test", tag, flush=hosts("mx-a"))
    assert re.search(r"(?m)^DKIM-Signature: .*\bd=a\.test;", message.replace("\n\t", " ")), message


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
