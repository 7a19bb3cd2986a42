# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""End-entity certificates for MTAs: one certificate serves as TLS server and as TLS client."""

import ipaddress
import re
from dataclasses import dataclass, field

from ansible_collections.partnermail.links.plugins.module_utils._pki import ca, certs, keys
from ansible_collections.partnermail.links.plugins.module_utils._pki.errors import PkiError

try:
    from cryptography import x509
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
except ImportError:  # pragma: no cover - the modules report the missing library
    pass

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def valid_dns_name(name, allow_wildcard=True):
    """LDH host name, at most 253 characters; a leading ``*.`` label when wildcards are allowed."""
    if not isinstance(name, str) or not name or len(name) > 253 or name != name.strip():
        return False
    labels = name.lower().rstrip(".").split(".")
    if allow_wildcard and labels[0] == "*" and len(labels) > 2:
        labels = labels[1:]
    return all(_LABEL.match(label) for label in labels)


def parse_san(entry):
    """``DNS:name``, ``IP:address`` or a bare name/address -> (kind, normalised value)."""
    if not isinstance(entry, str):
        raise PkiError("subject_alt_names", f"entries must be strings, got {entry!r}")
    kind, sep, value = entry.partition(":")
    if sep and kind.upper() in ("DNS", "IP"):
        kind = kind.upper()
    else:
        kind, value = None, entry
    if kind in (None, "IP"):
        try:
            return "IP", str(ipaddress.ip_address(value))
        except ValueError:
            if kind == "IP":
                raise PkiError("subject_alt_names", f"{entry!r} is not a valid IP address") from None
    if not valid_dns_name(value):
        raise PkiError("subject_alt_names", f"{entry!r} is not a valid DNS name")
    return "DNS", value.lower().rstrip(".")


@dataclass(frozen=True)
class LeafSpec:
    common_name: str
    subject_alt_names: tuple = field(default_factory=tuple)
    valid_days: int = 365
    renew_before_days: int = 30

    def validate(self):
        if not isinstance(self.common_name, str) or not self.common_name.strip() or len(self.common_name) > 64:
            raise PkiError("common_name", "must be a non-empty string of at most 64 characters")
        ca._check_days(self.valid_days, self.renew_before_days)
        self.sans()
        return self

    def sans(self):
        """The SAN set; the common name is included when it is a DNS name (clients match SANs only)."""
        names = {parse_san(entry) for entry in self.subject_alt_names}
        if valid_dns_name(self.common_name):
            names.add(("DNS", self.common_name.lower().rstrip(".")))
        return names


def _general_names(sans):
    out = []
    for kind, value in sorted(sans):
        if kind == "DNS":
            out.append(x509.DNSName(value))
        else:
            out.append(x509.IPAddress(ipaddress.ip_address(value)))
    return out


def sans_of(cert):
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set()
    names = {("DNS", name.lower()) for name in ext.get_values_for_type(x509.DNSName)}
    names |= {("IP", str(ip)) for ip in ext.get_values_for_type(x509.IPAddress)}
    return names


def _eku_of(cert):
    try:
        usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return set()
    return set(usages)


def reissue_reason(cert, public_key, ca_cert, spec, now):
    """Why the certificate must be issued anew; None when the existing one is still right."""
    if cert is None:
        return "certificate missing"
    if not keys.same_public_key(cert.public_key(), public_key):
        return "key differs"
    if cert.subject != _subject(spec) or sans_of(cert) != spec.sans():
        return "names differ"
    if cert.issuer != ca_cert.subject or certs.authority_key_identifier(cert) != certs.subject_key_identifier(ca_cert):
        return "issuer differs"
    if not certs.signed_by(cert, ca_cert.public_key()):
        return "signature does not verify with the CA"
    if not {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH} <= _eku_of(cert):
        return "extended key usage differs"
    if certs.in_renewal_window(cert, spec.renew_before_days, now):
        return f"expires within {spec.renew_before_days} days"
    return None


def _subject(spec):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, spec.common_name)])


def _key_usage(public_key):
    rsa_key = keys.spec_of(public_key).key_type == "rsa"
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=rsa_key,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def issue_certificate(public_key, ca_cert, ca_key, spec, now):
    """Sign ``public_key`` with the CA; the certificate never outlives the CA."""
    builder = (
        x509.CertificateBuilder()
        .subject_name(_subject(spec))
        .issuer_name(ca_cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(public_key), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
        .add_extension(x509.SubjectAlternativeName(_general_names(spec.sans())), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(
                x509.SubjectKeyIdentifier(certs.subject_key_identifier(ca_cert))
            )
            if certs.subject_key_identifier(ca_cert)
            else x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()),
            critical=False,
        )
    )
    builder = certs.validity(builder, now, spec.valid_days, cap=certs.not_after(ca_cert))
    return builder.sign(ca_key, keys.signature_hash(ca_key))
