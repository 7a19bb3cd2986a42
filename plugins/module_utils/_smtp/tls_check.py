# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Checks of a server's certificate chain: path validation by OpenSSL, the rest by our own code.

The probe's handshake accepts any certificate so that it can always report what the server presented.
Whether the chain is trusted is then OpenSSL's verdict, not ours: ``verifying_context`` is a client
context with only the trust anchors loaded and CERT_REQUIRED, used for a second, verifying handshake
with the same server (probe.verify_peer). Chosen over cryptography.x509.verification because:

- it is the verifier Postfix itself uses (Postfix links OpenSSL), so the probe's verdict is the one
  the MTA reaches when it sends mail - name constraints, pathLenConstraint, keyUsage, EKU, dates,
  partial chains (Postfix's ``tafile=`` anchors need not be roots) - and is maintained with it;
- it is there on both Debian releases, the same code on each: Debian 12 has python3-cryptography 38,
  which has no x509.verification (new in 42), and its verifier would have to be backed by our own
  path code there - two verdicts for one partner depending on the release;
- cryptography's verifier is a Web PKI profile (a subject name is required for a server verifier,
  stricter rules on extensions) that private partner CAs do not always follow, and Postfix does not
  ask them to.

The cost is one more connection to the partner's server, two when a DANE-TA record matches (and a
TLS failure in its log when a chain does not verify). The flags are set explicitly (``VERIFY_FLAGS``),
so Python 3.13, whose ssl.create_default_context adds VERIFY_X509_STRICT, verifies exactly as Python
3.11 does.

What no library does stays ours, each on its own terms:

- ``match_names``: does the leaf carry one of the ``match`` names, by the rules Postfix applies
  (exact names, a wildcard only as the whole leftmost label, ``.domain`` for any subdomain)?
- ``match_fingerprint``: is the leaf's certificate or public key one of the pinned SHA-256 digests?
- ``match_tlsa``: does a DANE-EE(3) or DANE-TA(2) TLSA record match (RFC 7672)? The chain to a
  DANE-TA certificate is again OpenSSL's verdict, with that certificate as the only anchor.
"""

import hashlib
import ipaddress
import re
import ssl
from dataclasses import dataclass

from ansible_collections.partnermail.links.plugins.module_utils import _io
from ansible_collections.partnermail.links.plugins.module_utils._pki import certs, keys
from ansible_collections.partnermail.links.plugins.module_utils._pki.errors import PkiError
from ansible_collections.partnermail.links.plugins.module_utils._smtp.errors import ProbeError

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.x509.oid import NameOID
except ImportError:  # pragma: no cover - the module reports the missing library
    pass

_PEM = re.compile(rb"-----BEGIN CERTIFICATE-----\s.+?\s-----END CERTIFICATE-----", re.DOTALL)
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_HEX = re.compile(r"^[0-9a-f]*$")
_FINGERPRINT_COLONS = re.compile(r"^[0-9a-f]{2}(?::[0-9a-f]{2}){31}$")
_FINGERPRINT_PLAIN = re.compile(r"^[0-9a-f]{64}$")
POSTFIX_STRATEGIES = ("hostname", "nexthop", "dot-nexthop")
DANE_TA, DANE_EE = 2, 3
TLSA_DIGESTS = {0: None, 1: hashlib.sha256, 2: hashlib.sha512}
TLSA_DIGEST_LENGTHS = {1: 64, 2: 128}


# --- certificates in, facts out ------------------------------------------------------------------


def parse_pem_bundle(data, option):
    """Every certificate in a PEM bundle; ProbeError naming ``option`` when there is none or one is broken."""
    if isinstance(data, str):
        data = data.encode()
    blocks = _PEM.findall(data or b"")
    if not blocks:
        raise ProbeError(option, "no PEM certificate found")
    try:
        return [x509.load_pem_x509_certificate(block) for block in blocks]
    except ValueError as exc:
        raise ProbeError(option, f"not a valid PEM certificate ({exc})") from None


def load_anchors(ca_file=None, ca_content=None):
    """(trust anchors, where they came from): ``ca_file``, ``ca_content``, or (None, "system") for the system store."""
    if ca_file:
        try:
            data = _io.read_required(ca_file, "ca_file")
        except PkiError as exc:
            raise ProbeError("ca_file", exc.reason) from None
        return parse_pem_bundle(data, "ca_file"), "ca_file"
    if ca_content:
        return parse_pem_bundle(ca_content, "ca_content"), "ca_content"
    return None, "system"


def der(cert):
    return cert.public_bytes(serialization.Encoding.DER)


def spki(cert):
    return keys.spki_der(cert.public_key())


def _sans(cert):
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None


def _basic_constraints(cert):
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return None


def cert_names(cert):
    """(DNS names, IP addresses) a client matches against: the DNS SANs, or the subject CN when there are none."""
    sans = _sans(cert)
    dns_names = [name.lower().rstrip(".") for name in sans.get_values_for_type(x509.DNSName)] if sans else []
    addresses = [ipaddress.ip_address(ip) for ip in sans.get_values_for_type(x509.IPAddress)] if sans else []
    if not dns_names:
        for attribute in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME):
            value = str(attribute.value).lower().rstrip(".")
            if valid_host_name(value.removeprefix("*."), min_labels=1):
                dns_names.append(value)
    return dns_names, addresses


def cert_facts(cert):
    """What the probe returns about one certificate of the chain."""
    sans, constraints = _sans(cert), _basic_constraints(cert)
    names = []
    if sans is not None:
        names = [f"DNS:{n}" for n in sans.get_values_for_type(x509.DNSName)]
        names += [f"IP:{ip}" for ip in sans.get_values_for_type(x509.IPAddress)]
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "subject_alt_names": names,
        "not_before": certs.iso(certs.not_before(cert)),
        "not_after": certs.iso(certs.not_after(cert)),
        "sha256": keys.colon_hex(hashlib.sha256(der(cert)).digest()),
        "spki_sha256": keys.colon_hex(hashlib.sha256(spki(cert)).digest()),
        "ca": constraints is not None and constraints.ca,
    }


# --- chain verification: OpenSSL's -------------------------------------------------------------

# Trusted-first path building (OpenSSL's default) and partial chains: a trust anchor need not be a
# self-signed root - an intermediate or the server certificate itself will do, as with Postfix's
# tafile=. No VERIFY_X509_STRICT: Postfix does not set it, and Python 3.13's create_default_context
# (which does) is not used, so the flags are the same on Python 3.11 and 3.13.
VERIFY_FLAGS = ssl.VERIFY_X509_TRUSTED_FIRST | ssl.VERIFY_X509_PARTIAL_CHAIN


def verifying_context(anchors_pem=None):
    """A client context whose handshake fails unless OpenSSL verifies the server's chain to ``anchors_pem``.

    Only those anchors (PEM text), or the system store when None. No host name check: the names
    are ours to match, by Postfix's rules (``match_names``).
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = False
    context.verify_mode = ssl.CERT_REQUIRED
    context.verify_flags = VERIFY_FLAGS
    if anchors_pem is None:
        context.load_default_certs(ssl.Purpose.SERVER_AUTH)
    else:
        context.load_verify_locations(cadata=anchors_pem)
    return context


def verify_failure(error):
    """OpenSSL's reason from an ssl.SSLCertVerificationError, in words, with its X509 error number."""
    message = error.verify_message or error.reason or str(error)
    return f"OpenSSL: {message} (X509 verify error {error.verify_code})"


# --- names ---------------------------------------------------------------------------------------


def valid_host_name(name, min_labels=2):
    labels = name.split(".")
    return len(name) <= 253 and len(labels) >= min_labels and all(_LABEL.match(label) for label in labels)


def check_pattern(pattern, option="match"):
    """A ``match`` entry, normalised: a host name, ``.domain`` (any subdomain) or an IP address."""
    if not isinstance(pattern, str) or not pattern.strip():
        raise ProbeError(option, f"entries must be non-empty strings, got {pattern!r}")
    value = pattern.strip().lower().rstrip(".")
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        pass
    if value in POSTFIX_STRATEGIES:
        raise ProbeError(option, f"{pattern!r} is a Postfix match strategy; list the names it stands for instead")
    if not valid_host_name(value.removeprefix("."), min_labels=1):
        raise ProbeError(option, f"{pattern!r} is not a host name, .domain or IP address")
    return value


def name_matches(pattern, cert_name):
    """Postfix's rules: exact; ``*.rest`` covers one leftmost label; a pattern ``.domain`` covers any subdomain."""
    if pattern.startswith("."):
        if cert_name.startswith("*."):
            rest = cert_name[2:]
            return "." + rest == pattern or rest.endswith(pattern)
        return cert_name.endswith(pattern)
    if cert_name == pattern:
        return True
    if cert_name.startswith("*.") and cert_name.count(".") >= 2:
        label, _sep, rest = pattern.partition(".")
        return bool(label) and rest == cert_name[2:]
    return False


def match_names(cert, patterns):
    """The first of ``patterns`` the certificate carries, or None."""
    dns_names, addresses = cert_names(cert)
    for pattern in patterns:
        try:
            address = ipaddress.ip_address(pattern)
        except ValueError:
            if any(name_matches(pattern, name) for name in dns_names):
                return pattern
            continue
        if address in addresses:
            return pattern
    return None


# --- pins and TLSA -------------------------------------------------------------------------------


def check_fingerprint(value, option="fingerprints"):
    """A SHA-256 pin as lower-case hex: 64 hex digits, bare or in colon-separated pairs."""
    text = str(value).strip().lower() if isinstance(value, str) else ""
    if _FINGERPRINT_COLONS.match(text):
        return text.replace(":", "")
    if _FINGERPRINT_PLAIN.match(text):
        return text
    raise ProbeError(option, f"{value!r} is not a SHA-256 fingerprint (64 hex digits, bare or colon-separated)")


def match_fingerprint(cert, pins):
    """The first pin (as given) that is the SHA-256 of the certificate or of its public key, or None."""
    digests = {hashlib.sha256(der(cert)).hexdigest(), hashlib.sha256(spki(cert)).hexdigest()}
    for pin in pins:
        if check_fingerprint(pin) in digests:
            return pin
    return None


@dataclass(frozen=True)
class Tlsa:
    usage: int
    selector: int
    matching_type: int
    data: bytes

    def text(self):
        return f"{self.usage} {self.selector} {self.matching_type} {self.data.hex()}"

    def matches(self, cert):
        content = der(cert) if self.selector == 0 else spki(cert)
        digest = TLSA_DIGESTS[self.matching_type]
        return (content if digest is None else digest(content).digest()) == self.data


def parse_tlsa(text, option="tlsa"):
    """``usage selector matching_type hex`` (the hex may be split by blanks) -> Tlsa."""
    parts = str(text).split() if isinstance(text, str) else []
    if len(parts) < 4 or not all(part.isdigit() for part in parts[:3]):
        raise ProbeError(option, f"{text!r} is not TLSA record data ('usage selector matching_type hex')")
    usage, selector, matching_type = (int(part) for part in parts[:3])
    hex_data = "".join(parts[3:]).lower()
    if usage > 3:
        raise ProbeError(option, f"{text!r}: usage must be 0 to 3, got {usage}")
    if selector > 1:
        raise ProbeError(option, f"{text!r}: selector must be 0 (certificate) or 1 (public key), got {selector}")
    if matching_type > 2:
        raise ProbeError(option, f"{text!r}: matching type must be 0, 1 (SHA-256) or 2 (SHA-512), got {matching_type}")
    if not _HEX.match(hex_data) or len(hex_data) % 2 or not hex_data:
        raise ProbeError(option, f"{text!r}: the association data must be hex digits")
    expected = TLSA_DIGEST_LENGTHS.get(matching_type)
    if expected and len(hex_data) != expected:
        raise ProbeError(option, f"{text!r}: matching type {matching_type} needs {expected} hex digits, "
                                 f"got {len(hex_data)}")
    return Tlsa(usage, selector, matching_type, bytes.fromhex(hex_data))


def match_tlsa(records, chain, names, verify_ta):
    """(matching record text, how) or (None, why not), by RFC 7672.

    DANE-EE(3) matches the leaf alone: no names, dates or issuers are checked. DANE-TA(2) matches a
    certificate the server sent above the leaf; the leaf must then carry one of ``names`` (the host
    name, or the ``match`` names) and chain to it: ``verify_ta(certificate)`` is OpenSSL's verdict,
    (ok, reason), with that certificate as the only trust anchor. PKIX usages (0, 1) are unusable for SMTP.
    """
    usable = [record for record in records if record.usage in (DANE_TA, DANE_EE)]
    if not usable:
        return None, "no usable TLSA record (SMTP uses DANE-TA(2) and DANE-EE(3) only)"
    leaf, why = chain[0], "no TLSA record matches the certificate chain"
    for record in usable:
        if record.usage == DANE_EE and record.matches(leaf):
            return record.text(), "DANE-EE matches the server certificate"
    for record in usable:
        if record.usage != DANE_TA:
            continue
        for anchor in chain[1:]:
            if not record.matches(anchor):
                continue
            if not names:
                why = "a DANE-TA record matches, but there is no name to check the certificate against"
                continue
            if match_names(leaf, names) is None:
                why = f"a DANE-TA record matches, but the certificate carries none of {', '.join(names)}"
                continue
            ok, reason = verify_ta(anchor)
            subject = anchor.subject.rfc4514_string()
            if ok:
                return record.text(), f"DANE-TA matches {subject!r}"
            why = f"a DANE-TA record matches {subject!r}, but the chain to it is not valid: {reason}"
    return None, why
