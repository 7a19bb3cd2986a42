"""Partner x: an Exim nobody here wrote, set up as a certificate-only platform (the way Exchange Online links).

It offers no AUTH and sends without it. Its certificate comes from the test world's public CA, which is in every
platform's system trust store as a public CA is: mx-a verifies it with the system's bundle (tls.level secure, no
ca_file). It proves itself to mx-a by that certificate, pinned in mx-a's inventory. It requires mx-a's client
certificate, verified against mx-a's private CA (../prepare.yml, ../templates/exim4.conf.j2).
"""

from __future__ import annotations

import re
import shlex

import pytest
from mail import log_mark, queued, send, token, wait_delivered, wait_log
from test_guards import partner_login, swaks

EXIM_LOG = "/var/log/exim4/mainlog"
EXIM_MAILDIR = "/var/mail/x"
EXIM_TLS = "/etc/exim4/tls"


def exim_send(exim, sender: str, rcpt: str, tag: str) -> None:
    message = f"From: <{sender}>\nTo: <{rcpt}>\nSubject: {tag}\nX-Partnermail-Test: {tag}\n\nbody of {tag}\n"
    exim.check_output(f"printf %s {shlex.quote(message)} | exim -odi -f {shlex.quote(sender)} {shlex.quote(rcpt)}")


def exim_received(exim, local: str, tag: str, timeout: float = 60, flush=None) -> str:
    """The message carrying ``tag`` in the Exim Maildir of ``local``@x.test; ``flush`` (a host) is flushed meanwhile."""
    pattern = shlex.quote("X-Partnermail-Test: " + tag)
    command = f"grep -rl -- {pattern} {EXIM_MAILDIR}/{local}/new 2>/dev/null"
    for _attempt in range(int(timeout)):
        found = exim.run(command)
        if found.rc == 0 and found.stdout.strip():
            return exim.file(found.stdout.split()[0]).content_string
        if flush is not None:
            flush.run("postqueue -f")
        exim.run("sleep 1")
    raise AssertionError(f"{tag} did not reach {local}@x.test within {timeout}s:\n"
                         f"{exim.run(f'tail -20 {EXIM_LOG}').stdout}")


def test_mail_to_x_goes_out_verified_by_the_system_bundle_with_our_certificate_and_no_login(hosts):
    mx_a, exim = hosts("mx-a"), hosts("exim")
    tag, mark, exim_mark = token(), log_mark(mx_a), log_mark(exim, EXIM_LOG)
    send(mx_a, "alice@a.test", "bob@x.test", tag)
    log = wait_log(mx_a, mark, "status=sent", flush=mx_a)
    assert re.search(r"postfix/partner/smtp\[\d+\]: Verified TLS connection established to mx\.x\.test", log), log
    assert re.search(r"relay=mx\.x\.test\[[\d.]+\]:25, .*status=sent", log), log
    assert "SASL" not in log, log
    exim_received(exim, "bob", tag)
    # Exim verified our client certificate against our private CA (CV=yes) and logged whose it is.
    exim_log = wait_log(exim, exim_mark, tag, path=EXIM_LOG)
    assert re.search(r"<= alice@a\.test H=\S+ \[[\d.]+\] .*X=TLS\S+ CV=yes DN=\"CN=mx\.a\.test", exim_log), exim_log


def test_mail_from_x_arrives_bound_by_its_pinned_certificate(hosts):
    mx_a, exim = hosts("mx-a"), hosts("exim")
    tag, exim_mark = token(), log_mark(exim, EXIM_LOG)
    exim_send(exim, "bob@x.test", "alice@a.test", tag)
    message = wait_delivered(mx_a, "alice@a.test", tag)
    # Over TLS, with Exim's certificate (no CA here vouches for client certificates: only the pin counts).
    assert re.search(r'\(Client CN "mx\.x\.test", Issuer "Test World Public Root" \(not verified\)\)', message), message
    exim_log = wait_log(exim, exim_mark, "=> alice@a.test", path=EXIM_LOG)
    assert re.search(r"=> alice@a\.test .*X=TLS\S+ CV=yes DN=\"CN=mx\.a\.test", exim_log), exim_log


@pytest.mark.parametrize("cert", ["other", None], ids=["same-public-ca", "no-certificate"])
def test_xs_domain_is_refused_without_its_certificate(hosts, cert):
    """Another certificate of the same public CA proves nothing: only x's own (pinned) does."""
    args = "--server mx.a.test:25 --tls"
    if cert:
        args += f" --tls-cert /etc/postfix/partner-c/{cert}.pem --tls-key /etc/postfix/partner-c/{cert}.key"
    result = swaks(hosts("outsider"), args, "--from bob@x.test", "--to alice@a.test")
    assert result.rc == 24, result.stdout
    assert "<bob@x.test>: Sender address rejected: not the partner that owns this domain" in result.stdout, \
        result.stdout


def test_xs_domain_is_refused_to_another_partners_login(hosts):
    user, password = partner_login(hosts, "mx-a", "b")
    result = swaks(hosts("outsider"), "--server mx.a.test:25 --tls", "--auth PLAIN", f"--auth-user {user}",
                   f"--auth-password '{password}'", "--from bob@x.test", "--to alice@a.test", quiet=False)
    assert "235 2.7.0 Authentication successful" in result.stdout, result.stdout
    assert f"<bob@x.test>: Sender address rejected: not owned by user {user}" in result.stdout, result.stdout


def test_mail_to_x_stays_queued_while_its_certificate_does_not_verify(hosts):
    """x's server presents a certificate no CA here vouches for: the mail waits in mx-a's queue, never goes out."""
    mx_a, exim = hosts("mx-a"), hosts("exim")
    exim.check_output(
        f"cd {EXIM_TLS} && cp -p server.pem server.pem.good && cp -p server.key server.key.good && "
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=mx.x.test "
        "-addext subjectAltName=DNS:mx.x.test -keyout server.key -out server.pem 2>/dev/null && "
        "chown root:Debian-exim server.key && chmod 0640 server.key && /etc/init.d/exim4 restart")
    tag = token()
    try:
        mark = log_mark(mx_a)
        send(mx_a, "alice@a.test", "carol@x.test", tag)
        log = wait_log(mx_a, mark, "status=deferred", flush=mx_a)
        assert re.search(r"relay=mx\.x\.test\[[\d.]+\]:25, .*status=deferred \(Server certificate not verified\)",
                         log), log
        assert "status=sent" not in log and "status=bounced" not in log, log
        assert queued(mx_a, tag)
        assert exim.run(f"grep -rl {shlex.quote(tag)} {EXIM_MAILDIR}").rc != 0
    finally:
        exim.check_output(f"cd {EXIM_TLS} && mv server.pem.good server.pem && mv server.key.good server.key && "
                          "/etc/init.d/exim4 restart")
    exim_received(exim, "carol", tag, flush=mx_a)  # and once it verifies again, the mail goes out
