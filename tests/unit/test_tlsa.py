"""TLSA rdata equals what openssl computes, for every selector and matching type."""

import hashlib

import pytest

from ansible_collections.partnermail.links.plugins.module_utils._pki import certs, keys, tlsa
from ansible_collections.partnermail.links.plugins.module_utils._pki.errors import PkiError

from .pki_helpers import make_ca, make_leaf, openssl


def _openssl_der(pem, selector):
    if selector == 0:
        return openssl("x509", "-outform", "DER", data=pem.encode()).stdout
    spki_pem = openssl("x509", "-pubkey", "-noout", data=pem.encode()).stdout
    return openssl("pkey", "-pubin", "-outform", "DER", data=spki_pem).stdout


@pytest.mark.parametrize("key_spec", [keys.KeySpec("ecdsa"), keys.KeySpec("rsa", key_size=2048)],
                         ids=lambda s: s.describe())
@pytest.mark.parametrize("selector", [0, 1])
@pytest.mark.parametrize("matching_type", [0, 1, 2])
def test_tlsa_matches_openssl(key_spec, selector, matching_type):
    ca_key, ca_cert, _spec = make_ca()
    _key, cert, _spec = make_leaf(ca_key, ca_cert, key=keys.generate_private_key(key_spec))
    der = _openssl_der(certs.pem(cert), selector)
    assert der
    expected = {0: der.hex(), 1: hashlib.sha256(der).hexdigest(), 2: hashlib.sha512(der).hexdigest()}[matching_type]
    assert tlsa.tlsa_rdata(cert, 3, selector, matching_type) == f"3 {selector} {matching_type} {expected}"


def test_default_is_dane_ee_spki_sha256_and_survives_renewal():
    ca_key, ca_cert, _spec = make_ca()
    key, first, _spec = make_leaf(ca_key, ca_cert)
    _key, second, _spec = make_leaf(ca_key, ca_cert, key=key)
    assert first.serial_number != second.serial_number
    assert tlsa.tlsa_rdata(first) == tlsa.tlsa_rdata(second)
    assert tlsa.tlsa_rdata(first).startswith("3 1 1 ")
    assert certs.facts(first)["tlsa"] == tlsa.tlsa_rdata(first)


@pytest.mark.parametrize(("kwargs", "option"), [({"usage": 4}, "usage"), ({"selector": 2}, "selector"),
                                                ({"matching_type": 3}, "matching_type"), ({"usage": True}, "usage")])
def test_bad_tlsa_parameters(kwargs, option):
    _key, ca_cert, _spec = make_ca()
    with pytest.raises(PkiError) as err:
        tlsa.tlsa_rdata(ca_cert, **kwargs)
    assert err.value.option == option


def test_not_a_certificate():
    with pytest.raises(PkiError):
        tlsa.load_certificate("-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n")
