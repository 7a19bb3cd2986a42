"""Sender identity on every listener: no one may pose as us, a partner only as itself, no AUTH over anonymous TLS."""

from __future__ import annotations

import re
import shlex

import pytest
from mail import token, wait_delivered
from test_guards import assert_no_handshake, partner_login, starttls, swaks

# mx-a's third-party allowance (../inventory/host_vars/mx-a.yml): the outsider may send as news@a.test only.
ALLOWED_SENDER = "news@a.test"
PORTS = [25, 2525]


def ports_args(port: int) -> str:
    """swaks arguments for a listener: the partner listener requires STARTTLS."""
    return f"--server mx.a.test:{port}" + (" --tls" if port != 25 else "")


@pytest.mark.parametrize("port", PORTS)
@pytest.mark.parametrize("sender", ["ceo@a.test", "CEO@A.TEST", "root@mx.a.test"])
def test_our_own_domain_from_a_client_that_is_not_logged_in_is_refused(hosts, port, sender):
    result = swaks(hosts("outsider"), ports_args(port), f"--from {sender}", "--to alice@a.test")
    assert result.rc == 24, result.stdout
    assert re.search(rf"<{re.escape(sender)}>: Sender address rejected: not logged in: only our own servers",
                     result.stdout, re.IGNORECASE), result.stdout


@pytest.mark.parametrize("port", PORTS)
@pytest.mark.parametrize("sender", ["ceo@a.test", "boss@c.test", "news@a.test", "postmaster@mx.a.test"])
def test_a_partner_login_may_not_send_as_anyone_but_the_partner(hosts, port, sender):
    """b's login at mx-a: not as us, not as a third domain (even one a third party may use unauthenticated)."""
    user, password = partner_login(hosts, "mx-a", "b")
    result = swaks(hosts("outsider"), ports_args(port), "--tls", "--auth PLAIN", f"--auth-user {user}",
                   f"--auth-password '{password}'", f"--from {sender}", "--to alice@a.test", quiet=False)
    assert "235 2.7.0 Authentication successful" in result.stdout, result.stdout
    assert result.rc == 24, result.stdout
    assert re.search(rf"<{re.escape(sender)}>: Sender address rejected: not owned by user {user}",
                     result.stdout), result.stdout


@pytest.mark.parametrize("sender", ["alice@b.test", "<>"])
def test_a_partner_login_may_send_as_the_partner_and_with_the_null_sender(hosts, sender):
    user, password = partner_login(hosts, "mx-a", "b")
    tag = token()
    result = swaks(hosts("outsider"), ports_args(2525), "--auth PLAIN", f"--auth-user {user}",
                   f"--auth-password '{password}'", f"--from '{sender}'",
                   "--to alice@a.test", f"--header 'X-Partnermail-Test: {tag}'")
    assert result.rc == 0, result.stdout
    wait_delivered(hosts("mx-a"), "alice@a.test", tag)


def test_a_third_party_allowance_lets_exactly_its_sender_through_from_its_client(hosts):
    tag = token()
    allowed = swaks(hosts("outsider"), ports_args(25), f"--from {ALLOWED_SENDER}", "--to alice@a.test",
                    f"--header 'X-Partnermail-Test: {tag}'")
    assert allowed.rc == 0, allowed.stdout
    wait_delivered(hosts("mx-a"), "alice@a.test", tag)
    # The same sender from any other client is refused: mx-b here, as a plain unauthenticated SMTP client.
    script = (
        "import smtplib\n"
        "s = smtplib.SMTP('mx.a.test', 25, local_hostname='mx.b.test', timeout=20)\n"
        "s.ehlo()\n"
        f"print(*s.mail('{ALLOWED_SENDER}'))\n"
        "code, reply = s.rcpt('alice@a.test')\n"
        "print(code, reply.decode())\n"
        "s.quit()\n"
    )
    other = hosts("mx-b").run(f"python3 -c {shlex.quote(script)}")
    assert other.rc == 0, other.stderr
    assert other.stdout.splitlines()[-1].startswith("554 "), other.stdout
    assert "Sender address rejected: not logged in" in other.stdout, other.stdout


@pytest.mark.parametrize("port", PORTS)
def test_an_anonymous_tls_suite_is_refused(hosts, port):
    """No TLS session without a server certificate, where AUTH is offered after STARTTLS."""
    outsider = hosts("outsider")
    assert_no_handshake(starttls(outsider, "mx.a.test", port, "-tls1_2 -cipher 'aNULL:@SECLEVEL=0'"))
    regular = starttls(outsider, "mx.a.test", port, "-tls1_2")
    assert re.search(r"Cipher is ECDHE-", regular.stdout), regular.stdout


def test_the_partner_listener_requires_tls(hosts):
    result = swaks(hosts("outsider"), "--server mx.a.test:2525", "--from alice@b.test", "--to alice@a.test",
                   quiet=False)
    assert result.rc != 0, result.stdout
    assert re.search(r"530 5\.7\.0 Must issue a STARTTLS command first", result.stdout), result.stdout
