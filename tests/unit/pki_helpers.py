"""Fixtures' building blocks: CAs and certificates made fresh for each test run, never committed."""

import datetime
import subprocess

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ansible_collections.partnermail.links.plugins.module_utils._pki import ca, certs, keys, leaf

NOW = datetime.datetime(2026, 6, 1, 12, 0, tzinfo=datetime.timezone.utc)
DAY = datetime.timedelta(days=1)


def make_ca(name="Test CA", key_spec=None, now=NOW, valid_days=3650):
    key = keys.generate_private_key(key_spec or keys.KeySpec())
    spec = ca.CaSpec(name, "Test Org", valid_days=valid_days, renew_before_days=min(180, valid_days - 1))
    return key, ca.build_ca_certificate(key, spec, now), spec


def make_leaf(ca_key, ca_cert, name="mx.a.test", sans=("DNS:a.test",), key=None, now=NOW, valid_days=365):
    key = key or keys.generate_private_key(keys.KeySpec())
    spec = leaf.LeafSpec(name, tuple(sans), valid_days=valid_days, renew_before_days=30)
    return key, leaf.issue_certificate(key.public_key(), ca_cert, ca_key, spec, now), spec


def write_pem(path, cert):
    path.write_text(certs.pem(cert))
    return str(path)


def openssl(*args, data=None):
    return subprocess.run(["openssl", *args], input=data, capture_output=True, check=False)


def new_key():
    return keys.generate_private_key(keys.KeySpec())


def build(cn, key, issuer_key, issuer_name=None, ca=False, path_length=None, sans=("mx.b.test",),
          eku=(ExtendedKeyUsageOID.SERVER_AUTH,), start=None, days=90, permitted=None):
    """A certificate for ``key`` signed by ``issuer_key`` (self-signed when it is the same key), valid from
    ``start`` (a day ago by default) for ``days``; a CA with ``permitted`` DNS subtrees has name constraints.
    """
    start = start or certs.utcnow() - DAY
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer_name or subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(start).not_valid_after(start + days * DAY)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length), critical=True))
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in sans]), critical=False)
    if eku and not ca:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
    if permitted is not None:
        builder = builder.add_extension(x509.NameConstraints([x509.DNSName(n) for n in permitted], None),
                                        critical=True)
    return builder.sign(issuer_key, keys.signature_hash(issuer_key))
