"""Fixtures' building blocks: CAs and certificates made fresh for each test run, never committed."""

import datetime
import subprocess

from ansible_collections.partnermail.links.plugins.module_utils._pki import ca, certs, keys, leaf

NOW = datetime.datetime(2026, 6, 1, 12, 0, tzinfo=datetime.timezone.utc)


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
