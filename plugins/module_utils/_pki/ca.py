# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The private CA: a self-signed certificate that may sign end-entity certificates only."""

from dataclasses import dataclass

from ansible_collections.partnermail.links.plugins.module_utils._pki import certs, keys
from ansible_collections.partnermail.links.plugins.module_utils._pki.errors import PkiError

try:
    from cryptography import x509
    from cryptography.x509.oid import NameOID
except ImportError:  # pragma: no cover - the modules report the missing library
    pass


@dataclass(frozen=True)
class CaSpec:
    common_name: str
    organization: str = ""
    valid_days: int = 3650
    renew_before_days: int = 180

    def validate(self):
        if not isinstance(self.common_name, str) or not self.common_name.strip():
            raise PkiError("common_name", "must be a non-empty string")
        if len(self.common_name) > 64:
            raise PkiError("common_name", "must be at most 64 characters (X.520 upper bound)")
        if len(self.organization or "") > 64:
            raise PkiError("organization", "must be at most 64 characters (X.520 upper bound)")
        _check_days(self.valid_days, self.renew_before_days)
        return self

    def subject(self):
        attrs = [x509.NameAttribute(NameOID.COMMON_NAME, self.common_name)]
        if self.organization:
            attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, self.organization))
        return x509.Name(attrs)


def _check_days(valid_days, renew_before_days):
    for option, value in (("valid_days", valid_days), ("renew_before_days", renew_before_days)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise PkiError(option, f"must be a non-negative integer, got {value!r}")
    if valid_days < 1:
        raise PkiError("valid_days", f"must be at least 1, got {valid_days}")
    if renew_before_days >= valid_days:
        raise PkiError(
            "renew_before_days",
            f"must be smaller than valid_days ({valid_days}), got {renew_before_days}: every run would renew",
        )


def is_ca(cert):
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def renewal_reason(cert, key, spec, now):
    """Why the CA certificate must be (re)issued with ``key``; None when it is fine as it is.

    The key is never replaced here: a renewed CA keeps its key and subject, so every certificate
    it issued before still verifies against the new CA certificate.
    """
    if cert is None:
        return "certificate missing"
    if not keys.same_public_key(cert.public_key(), key.public_key()):
        raise PkiError(
            "privatekey_path",
            "the CA private key does not match the CA certificate at path; restore the matching key "
            "or set force=true to create a new CA (every issued certificate is then reissued)",
        )
    if cert.subject != spec.subject():
        return "subject differs"
    if not is_ca(cert) or not certs.signed_by(cert, key.public_key()):
        return "not a self-signed CA certificate"
    if certs.in_renewal_window(cert, spec.renew_before_days, now):
        return f"expires within {spec.renew_before_days} days"
    return None


def build_ca_certificate(key, spec, now):
    """A self-signed CA certificate: CA with pathlen 0, keyCertSign and cRLSign, SKI and AKI."""
    public = key.public_key()
    ski = x509.SubjectKeyIdentifier.from_public_key(public)
    builder = (
        x509.CertificateBuilder()
        .subject_name(spec.subject())
        .issuer_name(spec.subject())
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
    )
    builder = certs.validity(builder, now, spec.valid_days)
    return builder.sign(key, keys.signature_hash(key))


def check_signing_ca(ca_cert, ca_key, now):
    """Refuse to sign with a CA that is not one, does not match its key, or has expired."""
    if not is_ca(ca_cert):
        raise PkiError("ca_path", "the certificate is not a CA certificate (basicConstraints CA:TRUE missing)")
    if not keys.same_public_key(ca_cert.public_key(), ca_key.public_key()):
        raise PkiError("ca_privatekey_path", "the CA private key does not match the CA certificate at ca_path")
    if certs.not_after(ca_cert) <= now:
        raise PkiError("ca_path", f"the CA certificate expired on {certs.iso(certs.not_after(ca_cert))}; renew the CA")
    if certs.not_before(ca_cert) > now + certs.BACKDATE:
        raise PkiError("ca_path", f"the CA certificate is not valid before {certs.iso(certs.not_before(ca_cert))}")
