# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""DANE TLSA record data (RFC 6698) computed from a certificate."""

import hashlib

from ansible_collections.partnermail.links.plugins.module_utils._pki.errors import PkiError

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
except ImportError:  # pragma: no cover - the modules report the missing library
    pass

USAGES = {0: "PKIX-TA", 1: "PKIX-EE", 2: "DANE-TA", 3: "DANE-EE"}
SELECTORS = {0: "full certificate", 1: "SubjectPublicKeyInfo"}
MATCHING_TYPES = {0: None, 1: hashlib.sha256, 2: hashlib.sha512}


def _check(option, value, allowed):
    if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
        raise PkiError(option, f"must be one of {sorted(allowed)}, got {value!r}")


def load_certificate(data, option="certificate"):
    """Parse one PEM certificate (the first one when several are given)."""
    if isinstance(data, str):
        data = data.encode()
    try:
        return x509.load_pem_x509_certificate(data)
    except (ValueError, TypeError) as exc:
        raise PkiError(option, f"not a PEM certificate ({exc})") from None


def tlsa_rdata(cert, usage=3, selector=1, matching_type=1):
    """The TLSA rdata ``usage selector type hex`` for a certificate (default DANE-EE 3 1 1)."""
    _check("usage", usage, USAGES)
    _check("selector", selector, SELECTORS)
    _check("matching_type", matching_type, MATCHING_TYPES)
    if selector == 0:
        data = cert.public_bytes(serialization.Encoding.DER)
    else:
        data = cert.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    digest = MATCHING_TYPES[matching_type]
    value = data.hex() if digest is None else digest(data).hexdigest()
    return f"{usage} {selector} {matching_type} {value}"
