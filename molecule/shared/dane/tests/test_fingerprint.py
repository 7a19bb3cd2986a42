"""tls.level fingerprint: mx-b delivers to a only to a host that shows a's pinned public key."""

from __future__ import annotations

import re

from dane import TLS_POLICY, colons, records_changed, sha256_of, spki_sha256, tls_policy_changed
from mail import find, log_mark, log_since, queued, send, token, wait_delivered, wait_log


def pin_of_a(hosts) -> str:
    return colons(spki_sha256(hosts("dane-mx-a")))


def test_mx_b_pins_the_public_key_of_mx_a(hosts):
    policy = hosts("dane-mx-b").file(TLS_POLICY).content_string
    assert re.search(rf"(?m)^a\.test\tfingerprint match={pin_of_a(hosts)} protocols=", policy), policy


def test_mail_to_a_crosses_to_the_pinned_key(hosts):
    mx_b = hosts("dane-mx-b")
    tag = token()
    mark = log_mark(mx_b)
    send(mx_b, "alice@b.test", "alice@a.test", tag)
    message = wait_delivered(hosts("dane-mx-a"), "alice@a.test", tag)
    assert "(Authenticated sender: b-test)" in re.sub(r"\n[ \t]+", " ", message)
    log = wait_log(mx_b, mark, "status=sent")
    assert re.search(r"postfix/partner/smtp\[\d+\]: Verified TLS connection established to mx\.a\.test\[", log), log


def test_with_a_wrong_pin_the_mail_waits_for_the_right_one(hosts):
    mx_b, mx_a = hosts("dane-mx-b"), hosts("dane-mx-a")
    tag = token()
    with tls_policy_changed(mx_b, pin_of_a(hosts), colons(sha256_of("not the key of mx.a.test"))):
        mark = log_mark(mx_b)
        send(mx_b, "alice@b.test", "alice@a.test", tag)
        log = wait_log(mx_b, mark, "status=deferred", flush=mx_b)
        assert re.search(r"to=<alice@a\.test>, relay=mx\.a\.test\[[\d.]+\]:25,.*status=deferred", log), log
        assert re.search(r"status=deferred \(Server certificate not verified\)", log), log
        assert "status=sent" not in log
        assert queued(mx_b, tag)
        assert find(mx_a, "alice@a.test", tag) is None
    wait_delivered(mx_a, "alice@a.test", tag, flush=mx_b)
    assert not queued(mx_b, tag)


def test_an_impostor_gets_nothing_and_the_mail_waits_for_a(hosts, ipv4):
    """a.test's MX leads to the outsider, whose certificate names mx.a.test but holds another key."""
    mx_b, outsider = hosts("dane-mx-b"), hosts("dane-outsider")
    tag = token()
    outsider_mark = log_mark(outsider)
    with records_changed(hosts, {("a.test.", "MX"): ["10 mx.c.test."]}, reload=("dane-mx-b",)):
        mark = log_mark(mx_b)
        send(mx_b, "alice@b.test", "alice@a.test", tag)
        log = wait_log(mx_b, mark, "status=deferred", flush=mx_b)
        assert re.search(rf"to=<alice@a\.test>, relay=mx\.c\.test\[{re.escape(ipv4('dane-outsider'))}\]:25,"
                         r".*status=deferred \(Server certificate not verified\)", log), log
        assert queued(mx_b, tag)
        seen = log_since(outsider, outsider_mark)
        assert tag not in seen
        assert "alice@a.test" not in seen
        assert not re.search(r"disconnect from .* (mail|rcpt|data|auth)=", seen), seen
    wait_delivered(hosts("dane-mx-a"), "alice@a.test", tag, flush=mx_b)
    assert not queued(mx_b, tag)
