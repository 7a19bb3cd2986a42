"""One reason class for what Postfix says when partner mail is not delivered.

The texts are those Postfix 3.7 (Debian 12) and 3.10 (Debian 13) write - taken from their logs and from the
strings in their smtp binary and TLS library (see tests/unit/test_health_classify.py). Two facts shape the rules:

- Both releases say only "Server certificate not verified" for an untrusted chain, a name that does not match
  and a wrong fingerprint alike (with the per-partner ``tafile`` the collection configures, and with a CAfile).
  What went wrong is on a separate line, logged just before by the smtp process or, with connection reuse, by
  tlsproxy: "server certificate verification failed for PEER: num=62:hostname mismatch", "...: num=65:no matching
  DANE TLSA records", "certificate verification failed for PEER: untrusted issuer /CN=...". ``classify()`` takes
  that line's detail as ``verification``; without it the class is ``certificate_untrusted``.
- "Server certificate not trusted" is no longer in either release; older ones wrote it, so it is still known.
"""

import re

CERTIFICATE_UNTRUSTED = "certificate_untrusted"
NAME_MISMATCH = "name_mismatch"
NO_STARTTLS = "no_starttls"
TLS_HANDSHAKE_FAILED = "tls_handshake_failed"
AUTH_FAILED = "auth_failed"
CONNECTION_FAILED = "connection_failed"
DNS_FAILURE = "dns_failure"
OTHER = "other"

REASONS = (
    CERTIFICATE_UNTRUSTED, NAME_MISMATCH, NO_STARTTLS, TLS_HANDSHAKE_FAILED,
    AUTH_FAILED, CONNECTION_FAILED, DNS_FAILURE, OTHER,
)
# The classes in which the link's TLS (or the certificate behind it) is what fails.
TLS_REASONS = (CERTIFICATE_UNTRUSTED, NAME_MISMATCH, NO_STARTTLS, TLS_HANDSHAKE_FAILED)

# qmgr defers the rest of a destination's mail through error(8) with the reason of the failure that made it
# "dead": the class is that of the original reason.
_SUSPENDED = "delivery temporarily suspended: "

# (pattern, class), first match wins; matched against the lowercased text.
_RULES = tuple((re.compile(pattern), reason) for pattern, reason in (
    (r"^server certificate not (?:verified|trusted)", CERTIFICATE_UNTRUSTED),
    (r"^tls is required, but (?:was not offered by host|host .* refused to start tls)", NO_STARTTLS),
    (r"^cannot start tls|^tls is required, but our tls engine is unavailable", TLS_HANDSHAKE_FAILED),
    (r"^sasl authentication failed", AUTH_FAILED),
    (r"name service error for |^host or domain name not found", DNS_FAILURE),
    (r"^connect to .*: |^lost connection with |^conversation with .* timed out while ", CONNECTION_FAILED),
))
_HOSTNAME_MISMATCH = re.compile(r"num=62:|hostname mismatch")


def classify(text, verification=None):
    """The reason class of a deferral text (the part in parentheses after ``status=deferred``).

    ``verification``: the detail of the certificate verification failure logged for the same peer just before,
    if any (after "certificate verification failed for PEER: ").
    """
    lowered = (text or "").strip().lower()
    if lowered.startswith(_SUSPENDED):
        lowered = lowered[len(_SUSPENDED):]
    for pattern, reason in _RULES:
        if pattern.search(lowered):
            if reason == CERTIFICATE_UNTRUSTED and verification:
                return classify_verification(verification)
            return reason
    return OTHER


def classify_verification(detail):
    """name_mismatch for a hostname mismatch, else certificate_untrusted (issuer, TLSA, pin, expiry)."""
    return NAME_MISMATCH if _HOSTNAME_MISMATCH.search(detail.lower()) else CERTIFICATE_UNTRUSTED
