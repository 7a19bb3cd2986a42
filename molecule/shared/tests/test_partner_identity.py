"""Partners that send without a login: bound to their client certificate or to their network, on every listener.

mx-a's partners c-cert and c-net (../inventory/host_vars/mx-a.yml) are both played by the outsider. c-cert pins the
certificate "pinned" and the public key of "renewed"; "other" comes from the same CA and is pinned by nobody
(../prepare.yml made the three). c-net is the outsider's address.
"""

from __future__ import annotations

import re
import shlex

import pytest
from mail import log_mark, token, wait_delivered, wait_log
from test_guards import partner_login, swaks

CERTS = "/etc/postfix/partner-c"
REFUSED = r"<{sender}>: Sender address rejected: not the partner that owns this domain"
PORTS = [25, 2525]


def tls_args(port: int, cert: str | None = None) -> str:
    args = f"--server mx.a.test:{port} --tls"
    if cert:
        args += f" --tls-cert {CERTS}/{cert}.pem --tls-key {CERTS}/{cert}.key"
    return args


def assert_refused(result, sender: str, why: str = REFUSED) -> None:
    assert result.rc == 24, result.stdout
    assert re.search(why.format(sender=re.escape(sender)), result.stdout), result.stdout


def delivered(hosts, *args: str) -> None:
    tag = token()
    result = swaks(hosts("outsider"), *args, "--to alice@a.test", f"--header 'X-Partnermail-Test: {tag}'")
    assert result.rc == 0, result.stdout
    wait_delivered(hosts("mx-a"), "alice@a.test", tag)


SMTP_FROM_ELSEWHERE = r"""
import smtplib, ssl, sys
sender, tls = sys.argv[1], sys.argv[2] == "tls"
client = smtplib.SMTP("mx.a.test", 25, timeout=20)
client.ehlo("elsewhere.test")
if tls:
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    client.starttls(context=context)
    client.ehlo("elsewhere.test")
client.mail(sender)
code, reply = client.rcpt("alice@a.test")
print(code, reply.decode())
"""


def from_elsewhere(host, sender: str, tls: bool) -> str:
    """What mx-a answers at RCPT to ``host`` (another address than the outsider's) sending as ``sender``."""
    return host.check_output(f"python3 -c {shlex.quote(SMTP_FROM_ELSEWHERE)} {shlex.quote(sender)} "
                             f"{'tls' if tls else 'plain'}")


# ---------------------------------------------------------------- by certificate


@pytest.mark.parametrize("port", PORTS)
@pytest.mark.parametrize("cert", ["pinned", "renewed"], ids=["certificate-pin", "public-key-pin"])
def test_the_pinned_partner_sends_as_its_domain_with_its_certificate(hosts, port, cert):
    delivered(hosts, tls_args(port, cert), "--from boss@cert.c.test")
    log = hosts("mx-a").check_output("tail -c 20000 /var/log/mail.log")
    assert not re.search(r"warning: .*(unexpected dictionary|check_ccert_access)", log), log


@pytest.mark.parametrize("port", PORTS)
@pytest.mark.parametrize("cert", ["other", None], ids=["same-ca-not-pinned", "no-certificate"])
def test_its_domain_is_refused_without_a_pinned_certificate(hosts, port, cert):
    assert_refused(swaks(hosts("outsider"), tls_args(port, cert), "--from boss@cert.c.test", "--to alice@a.test"),
                   "boss@cert.c.test")


def test_its_domain_is_refused_in_clear(hosts):
    assert_refused(swaks(hosts("outsider"), "--server mx.a.test:25", "--from boss@cert.c.test", "--to alice@a.test"),
                   "boss@cert.c.test")


@pytest.mark.parametrize("sender", ["boss@cert.c.test", "boss@net.c.test"])
def test_another_partners_login_may_not_send_as_it(hosts, sender):
    """b's login, even from the pinned client and the partner's own address: no login owns these domains."""
    user, password = partner_login(hosts, "mx-a", "b")
    result = swaks(hosts("outsider"), tls_args(25, "pinned"), "--auth PLAIN", f"--auth-user {user}",
                   f"--auth-password '{password}'", f"--from {sender}", "--to alice@a.test", quiet=False)
    assert "235 2.7.0 Authentication successful" in result.stdout, result.stdout
    assert_refused(result, sender, r"<{sender}>: Sender address rejected: not owned by user " + user)


def test_the_pinned_certificate_does_not_send_as_another_partner_or_as_us(hosts):
    """(The outsider's address is c-net's, so it may send as net.c.test: that is the network binding.)"""
    for sender in ("ceo@b.test", "ceo@a.test"):
        result = swaks(hosts("outsider"), tls_args(25, "pinned"), f"--from {sender}", "--to alice@a.test")
        assert result.rc == 24, (sender, result.stdout)


@pytest.mark.parametrize("cert", [None, "other"], ids=["no-certificate", "unknown-certificate"])
def test_asking_for_client_certificates_does_not_turn_internet_senders_away(hosts, cert):
    """Port 25 asks every TLS client for a certificate now: one without, or with one nobody trusts, still gets in."""
    outsider = hosts("outsider")
    mailbox = outsider.ansible.get_variables()["pmtest_outsider_mailbox"]
    assert "smtpd_tls_ask_ccert = yes" in hosts("mx-a").check_output("postconf smtpd_tls_ask_ccert")
    delivered(hosts, tls_args(25, cert), f"--from {mailbox}")


# ---------------------------------------------------------------- by network


@pytest.mark.parametrize("port", PORTS)
def test_the_network_partner_sends_as_its_domain_from_its_address_over_tls(hosts, port):
    delivered(hosts, tls_args(port), "--from boss@net.c.test")


def test_the_network_partner_is_deferred_in_clear(hosts):
    """From its own address without TLS: a temporary refusal, so its mail waits for TLS instead of bouncing."""
    result = swaks(hosts("outsider"), "--server mx.a.test:25", "--from boss@net.c.test", "--to alice@a.test")
    assert result.rc == 24, result.stdout
    assert re.search(r"450 4\.7\.1 .*Session encryption is required", result.stdout), result.stdout


@pytest.mark.parametrize("tls", [True, False], ids=["starttls", "plain"])
@pytest.mark.parametrize("sender", ["boss@net.c.test", "boss@cert.c.test"])
def test_another_address_may_not_send_as_either_partner(hosts, sender, tls):
    answer = from_elsewhere(hosts("mx-b"), sender, tls)
    assert re.match(r"55\d 5\.7\.1 <" + re.escape(sender) + r">: Sender address rejected: not the partner", answer), \
        answer


def test_only_our_listeners_ask_for_a_client_certificate(hosts):
    """Port 25 and the partner listener ask (the client's certificate shows in the log as Untrusted: no CA here vouches
    for it, only the pins count); the site's submission service, for its people's mail programs, does not."""
    mx_a = hosts("mx-a")
    for port, service, grade in ((25, "smtpd", "Untrusted"), (2525, "partner-2525/smtpd", "Untrusted"),
                                 (587, "submission/smtpd", "Anonymous")):
        mark = log_mark(mx_a)
        result = swaks(hosts("outsider"), tls_args(port, "pinned"), "--quit-after TLS")
        assert result.rc == 0, result.stdout
        log = wait_log(mx_a, mark, "TLS connection established from")
        assert re.search(rf"postfix/{service}\[\d+\]: {grade} TLS connection established from", log), (port, log)
