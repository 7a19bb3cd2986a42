"""tls.level dane-only: mx-a delivers to b only to a host whose key matches b's DNSSEC-validated TLSA record."""

from __future__ import annotations

import json
import os
import re

from dane import records_changed, sha256_of
from mail import find, log_mark, log_since, queued, send, token, wait_delivered, wait_log

TLSA_NAME = "_25._tcp.mx.b.test."
REPORT = os.path.join(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", ""), "reports", "links.json")


def received_from(message: str, sender_host: str) -> str:
    """The Received header the receiving MTA added for the hop from ``sender_host``, unfolded."""
    unfolded = re.sub(r"\n[ \t]+", " ", message.split("\n\n", 1)[0])
    hops = [line for line in unfolded.splitlines() if line.startswith("Received: from " + sender_host)]
    assert hops, f"no Received header from {sender_host}:\n{message}"
    return hops[0]


def test_site_reported_both_links_verified():
    with open(REPORT, encoding="utf-8") as handle:
        report = json.load(handle)
    rows = {mta: [(row["partner"], row["policy"], row["verified"], row["auth_ok"], row["ok"])
                  for row in report[mta]["rows"]] for mta in report}
    assert rows == {
        "mx.a.test": [("b", "dane-only", True, True, True)],
        "mx.b.test": [("a", "fingerprint", True, True, True)],
    }


def test_mail_to_b_crosses_over_dane_verified_tls(hosts):
    mx_a = hosts("dane-mx-a")
    tag = token()
    mark = log_mark(mx_a)
    send(mx_a, "alice@a.test", "alice@b.test", tag)
    hop = received_from(wait_delivered(hosts("dane-mx-b"), "alice@b.test", tag), "mx.a.test")
    assert re.search(r"\(using TLSv1\.[23] with cipher \S+", hop), hop
    assert "(Authenticated sender: a-test)" in hop, hop
    log = wait_log(mx_a, mark, "status=sent")
    assert re.search(r"postfix/partner/smtp\[\d+\]: Verified TLS connection established to mx\.b\.test\[", log), log
    delivered = r"postfix/partner/smtp\[\d+\]: \w+: to=<alice@b\.test>, relay=mx\.b\.test\[[\d.]+\]:25,.*status=sent"
    assert re.search(delivered, log), log
    # Postfix's start-up check found a validating resolver.
    assert "DNSSEC validation may be unavailable" not in mx_a.file("/var/log/mail.log").content_string


def test_with_a_wrong_tlsa_record_the_mail_waits_for_the_right_one(hosts):
    mx_a, mx_b = hosts("dane-mx-a"), hosts("dane-mx-b")
    tag = token()
    b_mark = log_mark(mx_b)
    with records_changed(hosts, {(TLSA_NAME, "TLSA"): [f"3 1 1 {sha256_of('not the key of mx.b.test')}"]},
                         reload=("dane-mx-a",)):
        mark = log_mark(mx_a)
        send(mx_a, "alice@a.test", "alice@b.test", tag)
        log = wait_log(mx_a, mark, "status=deferred", flush=mx_a)
        assert re.search(r"to=<alice@b\.test>, relay=mx\.b\.test\[[\d.]+\]:25,.*status=deferred", log), log
        assert re.search(r"server certificate verification failed for mx\.b\.test\[[\d.]+\]:25: "
                         r"num=65:no matching DANE TLSA records", log), log
        assert re.search(r"to=<alice@b\.test>, .*status=deferred \(Server certificate not verified\)", log), log
        assert "status=sent" not in log
        assert queued(mx_a, tag)
        assert find(mx_b, "alice@b.test", tag) is None
        # mx-b saw TLS handshakes and nothing more: no login, no message.
        b_log = log_since(mx_b, b_mark)
        assert re.search(r"disconnect from mx\.a\.test\[[\d.]+\] ehlo=1 starttls=1", b_log), b_log
        assert not re.search(r"disconnect from mx\.a\.test\[[\d.]+\] .*\bauth=", b_log), b_log
    wait_delivered(mx_b, "alice@b.test", tag, flush=mx_a)
    assert not queued(mx_a, tag)


def test_an_impostor_named_in_the_mx_gets_nothing_and_the_mail_waits_for_b(hosts):
    """b.test's MX leads to the outsider: it publishes no TLSA record, so Postfix does not even connect."""
    mx_a, outsider = hosts("dane-mx-a"), hosts("dane-outsider")
    tag = token()
    outsider_mark = log_mark(outsider)
    with records_changed(hosts, {("b.test.", "MX"): ["10 mx.c.test."]}, reload=("dane-mx-a",)):
        mark = log_mark(mx_a)
        send(mx_a, "alice@a.test", "alice@b.test", tag)
        log = wait_log(mx_a, mark, "status=deferred", flush=mx_a)
        assert "TLS policy lookup for b.test/mx.c.test: no TLSA records found" in log, log
        assert re.search(r"to=<alice@b\.test>, relay=none, .*status=deferred \(no TLSA records found\)", log), log
        assert "status=sent" not in log
        assert queued(mx_a, tag)
        assert "connect from" not in log_since(outsider, outsider_mark)
    wait_delivered(hosts("dane-mx-b"), "alice@b.test", tag, flush=mx_a)
    assert not queued(mx_a, tag)


def test_an_impostor_at_b_s_address_gets_nothing_and_the_mail_waits_for_b(hosts, ipv4):
    """mx.b.test's address leads to the outsider, whose certificate names mx.b.test but holds another key."""
    mx_a, outsider = hosts("dane-mx-a"), hosts("dane-outsider")
    impostor = ipv4("dane-outsider")
    tag = token()
    outsider_mark = log_mark(outsider)
    with records_changed(hosts, {("mx.b.test.", "A"): [impostor]}, reload=("dane-mx-a",)):
        mark = log_mark(mx_a)
        send(mx_a, "alice@a.test", "alice@b.test", tag)
        log = wait_log(mx_a, mark, "status=deferred", flush=mx_a)
        assert f"server certificate verification failed for mx.b.test[{impostor}]:25" in log, log
        assert re.search(rf"to=<alice@b\.test>, relay=mx\.b\.test\[{re.escape(impostor)}\]:25, "
                         r".*status=deferred \(Server certificate not verified\)", log), log
        assert "status=sent" not in log
        assert queued(mx_a, tag)
        assert find(outsider, "alice@c.test", tag) is None
        # The outsider saw a TLS handshake and nothing more: no login attempt, no envelope, no message.
        seen = log_since(outsider, outsider_mark)
        assert re.search(r"disconnect from mx\.a\.test\[[\d.]+\] ehlo=1 starttls=1", seen), seen
        assert not re.search(r"disconnect from .* (auth|mail|rcpt|data)=", seen), seen
        assert tag not in seen
        assert "alice@b.test" not in seen
    wait_delivered(hosts("dane-mx-b"), "alice@b.test", tag, flush=mx_a)
    assert not queued(mx_a, tag)
