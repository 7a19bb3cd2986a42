"""What the partner link refuses: wrong passwords, spoofed partner senders, relaying, AUTH in clear, old TLS."""

from __future__ import annotations

import re

import pytest
from mail import log_mark, log_since, queued, send, token, wait_delivered, wait_log

SASL_MAP = "/etc/postfix/partnermail/sasl_passwd"


def swaks(host, *args: str, quiet: bool = True):
    """Run swaks on ``host``; quiet prints only errors, otherwise the whole transcript."""
    return host.run("swaks --timeout 20 " + ("--silent 1 " if quiet else "") + " ".join(args) + " 2>&1")


def test_a_wrong_password_defers_and_never_bounces(hosts):
    mx_a = hosts("mx-a")
    tag = token()
    mx_a.check_output(f"cp -p {SASL_MAP} {SASL_MAP}.orig && sed -i 's/:[^:]*$/:not-the-password-0000/' {SASL_MAP} "
                      f"&& postmap hash:{SASL_MAP} && postfix reload")
    try:
        mark = log_mark(mx_a)
        send(mx_a, "alice@a.test", "alice@b.test", tag)
        log = wait_log(mx_a, mark, "status=deferred", flush=mx_a)
        assert re.search(r"SASL authentication failed", log), log
        assert "status=bounced" not in log
        assert queued(mx_a, tag)
    finally:
        mx_a.check_output(f"mv {SASL_MAP}.orig {SASL_MAP} && postmap hash:{SASL_MAP} && postfix reload")
    wait_delivered(hosts("mx-b"), "alice@b.test", tag, flush=mx_a)
    assert "status=bounced" not in log_since(mx_a, mark)


@pytest.mark.parametrize("tls", ["", "--tls"], ids=["plain", "starttls"])
def test_a_partner_sender_from_anyone_else_is_refused(hosts, tls):
    """outsider poses as b.test towards mx-a: refused, with or without TLS."""
    result = swaks(hosts("outsider"), "--server mx.a.test", "--from ceo@b.test", "--to alice@a.test", tls)
    assert result.rc != 0, result.stdout
    assert re.search(r"<ceo@b\.test>: Sender address rejected: not (logged in|owned by user)", result.stdout), \
        result.stdout


def partner_login(hosts, mta: str, partner: str) -> tuple[str, str]:
    """The SASL login ``partner`` uses at ``mta``, read from the inventory."""
    variables = hosts(mta).ansible.get_variables()  # raw, untemplated inventory values
    auth = next(p for p in variables["partnermail_partners"] if p["name"] == partner)["inbound_auth"]
    reference = re.fullmatch(r"\{\{\s*(\w+)\s*\}\}", auth["password"])
    return auth["username"], variables[reference.group(1)] if reference else auth["password"]


def test_a_partner_login_does_not_grant_relaying(hosts):
    user, password = partner_login(hosts, "mx-a", "b")
    result = swaks(hosts("outsider"), "--server mx.a.test", "--tls", "--auth PLAIN", f"--auth-user {user}",
                   f"--auth-password '{password}'", "--from ceo@b.test", "--to victim@c.test", quiet=False)
    assert "235 2.7.0 Authentication successful" in result.stdout, result.stdout
    assert result.rc == 24, result.stdout
    assert "Relay access denied" in result.stdout


def test_a_partner_login_may_send_as_the_partner(hosts):
    user, password = partner_login(hosts, "mx-a", "b")
    tag = token()
    result = swaks(hosts("outsider"), "--server mx.a.test", "--tls", "--auth PLAIN", f"--auth-user {user}",
                   f"--auth-password '{password}'", "--from ceo@b.test", "--to alice@a.test",
                   f"--header 'X-Partnermail-Test: {tag}'")
    assert result.rc == 0, result.stdout
    wait_delivered(hosts("mx-a"), "alice@a.test", tag)


def test_a_wrong_partner_password_is_refused(hosts):
    user, _password = partner_login(hosts, "mx-a", "b")
    result = swaks(hosts("outsider"), "--server mx.a.test", "--tls", "--auth PLAIN", f"--auth-user {user}",
                   "--auth-password 'wrong-password-123'", "--from ceo@b.test", "--to alice@a.test")
    assert result.rc != 0
    assert re.search(r"535 5\.7\.8", result.stdout), result.stdout


@pytest.mark.parametrize("server", ["mx.a.test", "mx.b.test"])
def test_relaying_is_refused(hosts, server):
    result = swaks(hosts("outsider"), f"--server {server}", "--from eve@c.test", "--to victim@elsewhere.test")
    assert result.rc == 24, result.stdout
    assert "Relay access denied" in result.stdout


@pytest.mark.parametrize(("server", "port"), [("mx.a.test", 25), ("mx.b.test", 25), ("mx.b.test", 2525)])
def test_auth_is_offered_only_after_starttls(hosts, server, port):
    outsider = hosts("outsider")
    clear = swaks(outsider, f"--server {server}:{port}", "--quit-after EHLO", quiet=False)
    assert clear.rc == 0, clear.stdout
    assert not re.search(r"(?m)^<-\s+250[- ]AUTH", clear.stdout), clear.stdout
    assert re.search(r"(?m)^<-\s+250[- ]STARTTLS", clear.stdout), clear.stdout
    secured = swaks(outsider, f"--server {server}:{port}", "--tls", "--quit-after EHLO", quiet=False)
    assert secured.rc == 0, secured.stdout
    assert re.search(r"(?m)^<~\s+250[- ]AUTH PLAIN", secured.stdout), secured.stdout


def starttls(client, server: str, port: int, options: str):
    """An openssl s_client STARTTLS handshake from ``client``; the result with its whole transcript."""
    return client.run(f"openssl s_client -starttls smtp -connect {server}:{port} -servername {server} {options} "
                      "</dev/null 2>&1")


def assert_no_handshake(result):
    """The handshake failed: no cipher was ever agreed, no certificate was sent."""
    assert result.rc != 0, result.stdout
    assert re.search(r"Cipher is \(NONE\)|Cipher\s*:\s*0000", result.stdout), result.stdout
    assert "BEGIN CERTIFICATE" not in result.stdout


@pytest.mark.parametrize("port", [25, 2525])
def test_the_partner_listener_refuses_tls_below_1_2(hosts, port):
    outsider = hosts("outsider")
    assert_no_handshake(starttls(outsider, "mx.b.test", port, "-tls1_1 -cipher 'DEFAULT:@SECLEVEL=0'"))
    new = starttls(outsider, "mx.b.test", port, "-tls1_2")
    assert "Protocol  : TLSv1.2" in new.stdout or "Protocol: TLSv1.2" in new.stdout, new.stdout
