"""_health.classify: one reason class per deferral text, from the texts Postfix 3.7 and 3.10 really write."""

import pytest

from ansible_collections.partnermail.links.plugins.module_utils._health import classify

from .health_lines import STATUS_LINES


def _text(line):
    return line.split("status=deferred (", 1)[1][:-1]


@pytest.mark.parametrize(("release", "line", "reason"), [row for row in STATUS_LINES if row[2]],
                         ids=[f"{row[0]}-{row[2]}-{index}" for index, row in enumerate(STATUS_LINES) if row[2]])
def test_real_deferral_texts(release, line, reason):
    assert classify.classify(_text(line)) == reason


# Texts of the other branches, filled in from the format strings in the smtp binary and libpostfix-tls/-dns of
# both releases (not seen in the lab's logs), and the one older Postfix wrote.
@pytest.mark.parametrize(("text", "reason"), [
    ("TLS is required, but host mx.b.test[10.0.0.3] refused to start TLS: 454 4.7.0 TLS not available due to "
     "local problem", "no_starttls"),
    ("TLS is required, but our TLS engine is unavailable", "tls_handshake_failed"),
    ("SASL authentication failed: server mx.b.test[10.0.0.3] offered no compatible authentication mechanisms for "
     "this type of connection security", "auth_failed"),
    ("SASL authentication failed; cannot authenticate to server mx.b.test[10.0.0.3]: no mechanism available",
     "auth_failed"),
    ("conversation with mx.b.test[10.0.0.3] timed out while receiving the initial server greeting",
     "connection_failed"),
    ("connect to mx.b.test[10.0.0.3]:25: No route to host", "connection_failed"),
    ("Host or domain name not found. Name service error for name=b.test type=MX: Host not found",
     "dns_failure"),
    ("Name service error for name=mx.b.test type=A: Malformed or unexpected name server reply", "dns_failure"),
    ("delivery temporarily suspended: Host or domain name not found. Name service error for name=b.test type=MX: "
     "Host not found, try again", "dns_failure"),
    ("Server certificate not trusted", "certificate_untrusted"),  # Postfix before 3.x; not in 3.7 or 3.10
    ("host mx.b.test[10.0.0.3] said: 452 4.2.2 Mailbox full (in reply to RCPT TO command)", "other"),
    ("", "other"),
    (None, "other"),
])
def test_other_texts(text, reason):
    assert classify.classify(text) == reason


@pytest.mark.parametrize(("detail", "reason"), [
    ("num=62:hostname mismatch", "name_mismatch"),
    ("num=65:no matching DANE TLSA records", "certificate_untrusted"),
    ("untrusted issuer /CN=Lab ca2", "certificate_untrusted"),
    ("self-signed certificate", "certificate_untrusted"),
    ("certificate has expired", "certificate_untrusted"),
    ("not trusted by local or TLSA policy", "certificate_untrusted"),
])
def test_not_verified_is_refined_by_the_verification_line(detail, reason):
    assert classify.classify("Server certificate not verified", verification=detail) == reason


def test_a_verification_detail_does_not_change_other_classes():
    assert classify.classify("Cannot start TLS: handshake failure", "num=62:hostname mismatch") == \
        "tls_handshake_failed"


def test_the_tls_classes_are_classes():
    assert set(classify.TLS_REASONS) < set(classify.REASONS)
    assert len(set(classify.REASONS)) == len(classify.REASONS) == 8
