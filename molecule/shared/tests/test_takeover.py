"""Before converge (marker before_converge, run by the scenario's side_effect step): mx-a is the server its admin
configured by hand (../hand-configured.yml). Pointed at it, site.yml refuses without consent and changes nothing,
and ``--check --diff`` shows what a real run would change, changing nothing either. test_existing_server.py checks,
after converge, that the consented takeover kept what the admin's server does.
"""

from __future__ import annotations

import os
import re

import pytest
from mail import imap_inbox
from runner import controller_module, playbook
from test_guards import swaks

pytestmark = pytest.mark.before_converge

WATCHED = "/etc/postfix /etc/dovecot /etc/aliases"
CHECKSUMS = f"find {WATCHED} -type f -print0 | sort -z | xargs -0 sha256sum"
COPIES = "/etc/postfix/main.cf.before-partnermail /etc/postfix/master.cf.before-partnermail"


def hand(hosts) -> dict:
    return hosts("mx-a").ansible.get_variables()


@pytest.fixture(scope="module")
def partner_ca():
    """b's CA on the controller, as a partner's CA file arrives out of band before the first run of mx-a."""
    directory = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "pki", "b")
    os.makedirs(os.path.join(directory, "certs"), mode=0o700, exist_ok=True)
    rc, out = controller_module("partnermail.links.ca", {
        "path": f"{directory}/ca.pem", "privatekey_path": f"{directory}/ca.key",
        "common_name": "b.test partner-link CA"})
    assert rc == 0, out


def test_the_hand_configured_server_serves_its_own_users(hosts):
    """The baseline: what the takeover must keep works before it (IMAP, submission with its size, the milter)."""
    mx_a, var = hosts("mx-a"), hand(hosts)
    user = var["pmtest_hand_user"]
    inbox = imap_inbox(hosts("outsider"), "mx.a.test", user["name"], user["password"], var["pmtest_hand_mail_subject"])
    assert inbox["greeting"].endswith(var["pmtest_hand_imap_greeting"]) and inbox["login"] and inbox["found"] == 1
    ehlo = swaks(hosts("outsider"), "--server mx.a.test:587", "--tls", "--quit-after EHLO", quiet=False)
    assert "250-SIZE 20480000" in ehlo.stdout, ehlo.stdout
    assert mx_a.socket("tcp://127.0.0.1:8891").is_listening
    assert "partnermail" not in mx_a.file("/etc/postfix/main.cf").content_string


def test_without_consent_site_refuses_and_changes_nothing(hosts, pytestconfig, tmp_path, partner_ca):
    mx_a = hosts("mx-a")
    before = mx_a.check_output(CHECKSUMS)
    rc, out = playbook(pytestconfig, tmp_path, "site.yml", {"postfix_take_over": False})
    assert rc != 0, out
    assert "mx-a: partnermail.links did not write these files and they are not the package's own" in out, out
    # What the admin's files hold that the inventory does not express: named per file, so nothing goes unnoticed.
    assert "/etc/postfix/main.cf: would lose:" in out, out
    assert "smtpd_sasl_path = private/auth (ours: private/partnermail-auth)" in out, out
    # The installer's mydestination delivered a.test to local users (carol): after a takeover a.test is one of our
    # virtual domains, so that ends, and the refusal says so.
    assert re.search(r"mydestination = [^\n]*\(ours: \$myhostname, localhost\): local delivery ends for [^\n]*"
                     r"\ba\.test\b", out), out
    assert "/etc/postfix/master.cf: would lose:" in out, out
    assert ("submission/inet (replaced by ours): submission inet n - y - - smtpd -o syslog_name=postfix/submission"
            in out), out
    # What the inventory does express (the milter, the size limit) is no loss.
    assert "smtpd_milters" not in out and "message_size_limit" not in out, out
    assert re.search(r"mx-a +: ok=\d+ +changed=0 .*failed=1", out), out
    assert mx_a.check_output(CHECKSUMS) == before
    assert mx_a.run(f"ls {COPIES}").rc != 0


def test_check_diff_shows_what_a_real_run_would_change_and_changes_nothing(
        hosts, pytestconfig, tmp_path, partner_ca):
    mx_a = hosts("mx-a")
    before = mx_a.check_output(CHECKSUMS)
    rc, out = playbook(pytestconfig, tmp_path, "site.yml", {"postfix_take_over": False}, options=("--check", "--diff"))
    assert rc == 0, out
    assert "A real run would stop here, nothing is changed in check mode" in out, out
    assert "-smtpd_sasl_path = private/auth" in out, out
    assert "+smtpd_sasl_path = private/partnermail-auth" in out, out
    assert "+# Managed by partnermail.links" in out, out
    assert mx_a.check_output(CHECKSUMS) == before
    assert mx_a.run(f"ls {COPIES}").rc != 0


def test_a_tagged_run_refuses_too(hosts, pytestconfig, tmp_path, partner_ca):
    """--tags partners writes only the maps, but onto a Postfix that is not ours: the refusal runs on every run."""
    mx_a = hosts("mx-a")
    before = mx_a.check_output(CHECKSUMS)
    rc, out = playbook(pytestconfig, tmp_path, "site.yml", {"postfix_take_over": False}, options=("--tags", "partners"))
    assert rc != 0, out
    assert "mx-a: partnermail.links did not write these files and they are not the package's own" in out, out
    assert mx_a.check_output(CHECKSUMS) == before
    left = [path for path in ("/etc/postfix/partnermail", "/var/lib/partnermail/run-snapshot.tar")
            if mx_a.file(path).exists]
    assert left == [], left
