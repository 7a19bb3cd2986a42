# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What every certificate we issue has in common: validity, identifiers, facts we return."""

import datetime
import hashlib

from ansible_collections.partnermail.links.plugins.module_utils._pki import keys, tlsa

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
except ImportError:  # pragma: no cover - the modules report the missing library
    pass

# Backdate new certificates a little so a peer whose clock lags does not see them as not yet valid.
BACKDATE = datetime.timedelta(minutes=5)


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def not_after(cert):
    """End of validity as an aware datetime (cryptography < 42 only has the naive attribute)."""
    if hasattr(cert, "not_valid_after_utc"):
        return cert.not_valid_after_utc
    return cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)


def not_before(cert):
    if hasattr(cert, "not_valid_before_utc"):
        return cert.not_valid_before_utc
    return cert.not_valid_before.replace(tzinfo=datetime.timezone.utc)


def iso(moment):
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def in_renewal_window(cert, renew_before_days, now):
    """True when the certificate has expired or expires within ``renew_before_days``."""
    return not_after(cert) - datetime.timedelta(days=renew_before_days) <= now


def validity(builder, now, valid_days, cap=None):
    """Set notBefore/notAfter; ``cap`` keeps a leaf from outliving its CA."""
    end = now + datetime.timedelta(days=valid_days)
    if cap is not None and end > cap:
        end = cap
    return builder.not_valid_before(now - BACKDATE).not_valid_after(end)


def signed_by(cert, issuer_public_key):
    """True when ``cert``'s signature verifies with the issuer's public key."""
    try:
        if isinstance(issuer_public_key, rsa.RSAPublicKey):
            issuer_public_key.verify(
                cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), cert.signature_hash_algorithm
            )
        elif isinstance(issuer_public_key, ec.EllipticCurvePublicKey):
            issuer_public_key.verify(
                cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm)
            )
        else:
            return False
    except InvalidSignature:
        return False
    return True


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def facts(cert):
    """What the modules return about a certificate; never anything secret."""
    return {
        "certificate": pem(cert),
        "not_after": iso(not_after(cert)),
        "fingerprint_sha256": keys.colon_hex(hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).digest()),
        "spki_sha256": keys.spki_sha256(cert.public_key()),
        "tlsa": tlsa.tlsa_rdata(cert),
        "serial": f"{cert.serial_number:x}",
    }


def subject_key_identifier(cert):
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        return None


def authority_key_identifier(cert):
    try:
        return cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    except x509.ExtensionNotFound:
        return None
