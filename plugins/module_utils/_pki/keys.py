# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private keys: the key types we support, generation, loading and comparison."""

import hashlib
from dataclasses import dataclass

from ansible_collections.partnermail.links.plugins.module_utils._pki.errors import PkiError

try:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
except ImportError:  # pragma: no cover - the modules report the missing library
    pass

KEY_TYPES = ("ecdsa", "rsa")
RSA_SIZES = (2048, 3072, 4096)
CURVES = {"secp256r1": "SECP256R1", "secp384r1": "SECP384R1"}
DEFAULT_RSA_SIZE = 3072
DEFAULT_CURVE = "secp256r1"


@dataclass(frozen=True)
class KeySpec:
    """The key a user asked for. ``key_size`` matters for RSA, ``curve`` for ECDSA."""

    key_type: str = "ecdsa"
    key_size: int = DEFAULT_RSA_SIZE
    curve: str = DEFAULT_CURVE

    def validate(self):
        if self.key_type not in KEY_TYPES:
            raise PkiError("key_type", f"unknown key type {self.key_type!r}; use one of {', '.join(KEY_TYPES)}")
        if self.key_type == "rsa":
            if not isinstance(self.key_size, int) or isinstance(self.key_size, bool):
                raise PkiError("key_size", f"must be an integer, got {self.key_size!r}")
            if self.key_size < 2048:
                raise PkiError("key_size", f"RSA keys below 2048 bits are refused, got {self.key_size}")
            if self.key_size not in RSA_SIZES:
                raise PkiError("key_size", f"RSA key size must be one of {RSA_SIZES}, got {self.key_size}")
        elif self.curve not in CURVES:
            raise PkiError("curve", f"unknown curve {self.curve!r}; use one of {', '.join(CURVES)}")
        return self

    def describe(self):
        return f"rsa {self.key_size}" if self.key_type == "rsa" else f"ecdsa {self.curve}"


def generate_private_key(spec):
    """Create a new private key for a validated spec."""
    if spec.key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=spec.key_size)
    return ec.generate_private_key(getattr(ec, CURVES[spec.curve])())


def spec_of(key):
    """The KeySpec an existing private or public key satisfies (None when unsupported)."""
    if isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        return KeySpec("rsa", key.key_size, DEFAULT_CURVE)
    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        return KeySpec("ecdsa", DEFAULT_RSA_SIZE, key.curve.name)
    return None


def matches_spec(key, spec):
    """True when an existing key is of the requested type and size or curve."""
    have = spec_of(key)
    return have is not None and have.describe() == spec.describe()


def is_encrypted_pem(data):
    """True when PEM private key data is encrypted (PKCS#8 EncryptedPrivateKeyInfo or a legacy Proc-Type header)."""
    return b"-----BEGIN ENCRYPTED PRIVATE KEY-----" in data or b"Proc-Type: 4,ENCRYPTED" in data


def load_private_key(data, option="path", passphrase=None, unlock_option="passphrase"):
    """Parse a PEM private key, encrypted when ``passphrase`` is given; PkiError names the option at fault."""
    encrypted = is_encrypted_pem(data)
    if encrypted and not passphrase:
        raise PkiError(unlock_option, "the private key is encrypted: give its passphrase")
    try:
        key = serialization.load_pem_private_key(data, password=passphrase.encode() if encrypted else None)
    except (ValueError, TypeError) as exc:
        if encrypted:
            raise PkiError(unlock_option, "the passphrase does not decrypt the private key") from None
        raise PkiError(option, f"not a PEM private key ({exc})") from None
    if spec_of(key) is None:
        raise PkiError(option, f"unsupported key algorithm {type(key).__name__}")
    return key


def load_public_key(data, option="public_key"):
    """Parse a PEM public key."""
    if isinstance(data, str):
        data = data.encode()
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise PkiError(option, f"not a PEM public key ({exc})") from None
    if spec_of(key) is None:
        raise PkiError(option, f"unsupported key algorithm {type(key).__name__}")
    return key


def private_key_pem(key, passphrase=None):
    """PKCS#8 PEM; encrypted with the best algorithm the library has when ``passphrase`` is given."""
    encryption = (serialization.BestAvailableEncryption(passphrase.encode()) if passphrase
                  else serialization.NoEncryption())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def public_key_pem(public_key):
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def spki_der(public_key):
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def same_public_key(a, b):
    return spki_der(a) == spki_der(b)


def colon_hex(digest):
    """Uppercase colon-separated hex, the form Postfix and openssl print fingerprints in."""
    return ":".join(f"{b:02X}" for b in digest)


def spki_sha256(public_key):
    """SHA-256 of the DER SubjectPublicKeyInfo, colon-separated (a public-key pin)."""
    return colon_hex(hashlib.sha256(spki_der(public_key)).digest())


def signature_hash(key):
    """The digest to sign with: SHA-384 for P-384 keys, SHA-256 otherwise."""
    spec = spec_of(key)
    if spec.key_type == "ecdsa" and spec.curve == "secp384r1":
        return hashes.SHA384()
    return hashes.SHA256()
