"""The partner link across the wire: real mail between mx-a and mx-b, with TLS and SASL, and what must fail."""

from __future__ import annotations

import base64
import contextlib
import re

import pytest
from mail import find, log_mark, log_since, queued, send, token, wait_delivered, wait_log

DNSMASQ_CONF = "/etc/dnsmasq.d/partnermail-test.conf"


@contextlib.contextmanager
def dns_changed(hosts, ipv4, mx: dict[str, str] | None = None, addresses: dict[str, str] | None = None):
    """Change MX targets ({domain: exchanger}) and A records ({name: platform}) on the test DNS, then restore."""
    ns = hosts("ns")
    original = ns.file(DNSMASQ_CONF).content_string
    changed = original
    for domain, exchanger in (mx or {}).items():
        changed, count = re.subn(rf"(?m)^mx-host={re.escape(domain)},[^,]+,", f"mx-host={domain},{exchanger},",
                                 changed)
        assert count == 1, f"no MX for {domain} in {DNSMASQ_CONF}"
    for name, platform in (addresses or {}).items():
        changed = re.sub(rf"(?m)^(host-record=.*),{re.escape(name)}(?=,)", r"\1", changed)
        changed = re.sub(rf"(?m)^host-record={re.escape(name)},[^,\n]*\n", "", changed)  # an earlier change's
        changed += f"host-record={name},{ipv4(platform)}\n"

    def install(text):
        encoded = base64.b64encode(text.encode()).decode()
        ns.check_output(f"echo {encoded} | base64 -d > {DNSMASQ_CONF} && service dnsmasq restart")

    install(changed)
    try:
        yield
    finally:
        install(original)


def received_from(message: str, sender_host: str) -> str:
    """The Received header our MTA added for the hop from ``sender_host``, unfolded."""
    headers = message.split("\n\n", 1)[0]
    unfolded = re.sub(r"\n[ \t]+", " ", headers)
    hops = [line for line in unfolded.splitlines() if line.startswith("Received: from " + sender_host)]
    assert hops, f"no Received header from {sender_host}:\n{headers}"
    return hops[0]


@pytest.mark.parametrize(
    ("src", "dst", "sender", "rcpt", "login", "peer"),
    [
        ("mx-a", "mx-b", "alice@a.test", "alice@b.test", "a-test", "mx.b.test"),
        ("mx-b", "mx-a", "alice@b.test", "alice@a.test", "b-test", "mx.a.test"),
    ],
    ids=["a-to-b", "b-to-a"],
)
def test_partner_mail_crosses_with_verified_tls_and_sasl(hosts, src, dst, sender, rcpt, login, peer):
    tag = token()
    mark = log_mark(hosts(src))
    send(hosts(src), sender, rcpt, tag)
    message = wait_delivered(hosts(dst), rcpt, tag)
    hop = received_from(message, f"mx.{src[-1]}.test")
    assert re.search(r"\(using TLSv1\.[23] with cipher \S+", hop), hop
    assert f"(Authenticated sender: {login})" in hop, hop
    assert " with ESMTPSA " in hop, hop
    log = wait_log(hosts(src), mark, "status=sent")
    assert f"Verified TLS connection established to {peer}" in log, log
    assert re.search(rf"postfix/partner/smtp\[\d+\]: \w+: to=<{re.escape(rcpt)}>.*status=sent", log), log


def test_internet_mail_goes_by_the_internet_connector(hosts):
    tag = token()
    mark = log_mark(hosts("mx-a"))
    send(hosts("mx-a"), "alice@a.test", "alice@c.test", tag)
    message = wait_delivered(hosts("outsider"), "alice@c.test", tag)
    assert "Authenticated sender" not in message
    log = wait_log(hosts("mx-a"), mark, "status=sent")
    assert re.search(r"postfix/smtp\[\d+\]: \w+: to=<alice@c\.test>, relay=mx\.c\.test\[", log), log
    assert "partner_" not in log


def test_when_the_cheapest_connector_is_down_the_next_one_delivers(hosts, ipv4):
    mx_a = hosts("mx-a")
    tag = token()
    with dns_changed(hosts, ipv4, mx={"b.test": "down.b.test"}):
        mx_a.check_output("postfix reload")  # drop cached connections to the real MX
        mark = log_mark(mx_a)
        send(mx_a, "alice@a.test", "alice@b.test", tag)
        wait_delivered(hosts("mx-b"), "alice@b.test", tag, flush=mx_a)
        log = log_since(mx_a, mark)
    assert re.search(r"to=<alice@b\.test>, relay=backup\.b\.test\[[\d.]+\]:2525,.*status=sent", log), log


def test_an_impostor_gets_nothing_and_the_mail_waits_for_the_real_partner(hosts, ipv4):
    mx_a, outsider = hosts("mx-a"), hosts("outsider")
    tag = token()
    outsider_mark = log_mark(outsider)
    # Both connectors of b now lead to the outsider, whose certificate (from another CA) names b.test.
    with dns_changed(hosts, ipv4, mx={"b.test": "mx.c.test"}, addresses={"backup.b.test": "outsider"}):
        mx_a.check_output("postfix reload")
        mark = log_mark(mx_a)
        send(mx_a, "alice@a.test", "alice@b.test", tag)
        log = wait_log(mx_a, mark, "status=deferred", flush=mx_a)
        assert "mx.c.test" in log
        assert re.search(r"certificate verification failed|Server certificate not trusted|not trusted", log), log
        assert queued(mx_a, tag)
        assert find(outsider, "alice@c.test", tag) is None
        assert tag not in log_since(outsider, outsider_mark)
        assert "alice@b.test" not in log_since(outsider, outsider_mark)
    mx_a.check_output("postfix reload")
    wait_delivered(hosts("mx-b"), "alice@b.test", tag, flush=mx_a)
    assert not queued(mx_a, tag)
