"""CA and MTA certificates: extensions, chains that openssl accepts, renewal and reissue decisions."""

import datetime

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from ansible_collections.partnermail.links.plugins.module_utils._pki import ca, certs, keys, leaf
from ansible_collections.partnermail.links.plugins.module_utils._pki.errors import PkiError

from .pki_helpers import NOW, make_ca, make_leaf, openssl, write_pem

DAY = datetime.timedelta(days=1)
KEY_SPECS = [keys.KeySpec("ecdsa"), keys.KeySpec("ecdsa", curve="secp384r1"), keys.KeySpec("rsa", key_size=2048)]


@pytest.mark.parametrize("spec", KEY_SPECS, ids=lambda s: s.describe())
def test_ca_extensions(spec):
    _key, cert, _spec = make_ca(key_spec=spec)
    bc = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and bc.value.ca and bc.value.path_length == 0
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.key_cert_sign and ku.value.crl_sign and not ku.value.digital_signature
    assert certs.subject_key_identifier(cert) == certs.authority_key_identifier(cert)
    assert cert.issuer == cert.subject


@pytest.mark.parametrize("ca_spec", KEY_SPECS, ids=lambda s: "ca-" + s.describe())
@pytest.mark.parametrize("leaf_spec", KEY_SPECS, ids=lambda s: "leaf-" + s.describe())
def test_chain_verifies_with_openssl_for_server_and_client(tmp_path, ca_spec, leaf_spec):
    ca_key, ca_cert, _spec = make_ca(key_spec=ca_spec, now=certs.utcnow())
    _key, cert, _spec = make_leaf(ca_key, ca_cert, key=keys.generate_private_key(leaf_spec), now=certs.utcnow())
    ca_file, leaf_file = write_pem(tmp_path / "ca.pem", ca_cert), write_pem(tmp_path / "leaf.pem", cert)
    for purpose in ("sslserver", "sslclient"):
        out = openssl("verify", "-purpose", purpose, "-CAfile", ca_file, leaf_file)
        assert out.returncode == 0, out.stderr
    assert certs.signed_by(cert, ca_cert.public_key())


def test_chain_from_another_ca_does_not_verify(tmp_path):
    ca_key, ca_cert, _spec = make_ca(now=certs.utcnow())
    _key, other_cert, _spec = make_ca("Test CA", now=certs.utcnow())
    _key, cert, _spec = make_leaf(ca_key, ca_cert, now=certs.utcnow())
    other_file = write_pem(tmp_path / "other.pem", other_cert)
    out = openssl("verify", "-CAfile", other_file, write_pem(tmp_path / "l.pem", cert))
    assert out.returncode != 0
    assert not certs.signed_by(cert, other_cert.public_key())


def test_leaf_profile():
    ca_key, ca_cert, _spec = make_ca()
    _key, cert, _spec = make_leaf(ca_key, ca_cert, sans=("DNS:a.test", "IP:192.0.2.7", "*.b.a.test"))
    assert leaf.sans_of(cert) == {("DNS", "mx.a.test"), ("DNS", "a.test"), ("IP", "192.0.2.7"), ("DNS", "*.b.a.test")}
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert set(eku) == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert certs.authority_key_identifier(cert) == certs.subject_key_identifier(ca_cert)
    assert certs.not_after(cert) == NOW + 365 * DAY


def test_leaf_never_outlives_its_ca():
    ca_key, ca_cert, _spec = make_ca(valid_days=100)
    _key, cert, _spec = make_leaf(ca_key, ca_cert, valid_days=365)
    assert certs.not_after(cert) == certs.not_after(ca_cert)


# --- renewal and reissue decisions -------------------------------------------------------------


def test_ca_renewal_reasons():
    key, cert, spec = make_ca()
    assert ca.renewal_reason(cert, key, spec, NOW) is None
    assert ca.renewal_reason(None, key, spec, NOW) == "certificate missing"
    renamed = ca.CaSpec("Other CA", spec.organization, spec.valid_days, spec.renew_before_days)
    assert ca.renewal_reason(cert, key, renamed, NOW) == "subject differs"
    late = NOW + (spec.valid_days - spec.renew_before_days) * DAY
    assert ca.renewal_reason(cert, key, spec, late - DAY) is None
    assert ca.renewal_reason(cert, key, spec, late) == "expires within 180 days"
    assert ca.renewal_reason(cert, key, spec, NOW + 4000 * DAY) == "expires within 180 days"


def test_ca_key_mismatch_is_an_error_not_a_renewal():
    _key, cert, spec = make_ca()
    other_key, _cert, _spec = make_ca()
    with pytest.raises(PkiError) as err:
        ca.renewal_reason(cert, other_key, spec, NOW)
    assert err.value.option == "privatekey_path"


def test_renewed_ca_keeps_old_leaves_valid(tmp_path):
    now = certs.utcnow()
    key, old_ca, spec = make_ca(now=now)
    _key, cert, _spec = make_leaf(key, old_ca, now=now)
    new_ca = ca.build_ca_certificate(key, spec, certs.utcnow())
    assert old_ca.serial_number != new_ca.serial_number
    out = openssl("verify", "-CAfile", write_pem(tmp_path / "new.pem", new_ca), write_pem(tmp_path / "l.pem", cert))
    assert out.returncode == 0, out.stderr


def _reissue_cases():
    ca_key, ca_cert, _spec = make_ca()
    key, cert, spec = make_leaf(ca_key, ca_cert)
    other_key = keys.generate_private_key(keys.KeySpec())
    twin_key, twin_ca, _spec = make_ca()  # same subject as the real CA, different key
    _key, twin_cert, _spec = make_leaf(twin_key, twin_ca, key=key)
    window = NOW + (365 - 30) * DAY
    no_eku = (
        x509.CertificateBuilder()
        .subject_name(cert.subject)
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(NOW)
        .not_valid_after(NOW + 365 * DAY)
        .add_extension(cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value, False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()), False)
        .sign(ca_key, keys.signature_hash(ca_key))
    )
    pub = key.public_key()
    return [
        ("current", cert, pub, ca_cert, spec, NOW, None),
        ("missing", None, pub, ca_cert, spec, NOW, "certificate missing"),
        ("key", cert, other_key.public_key(), ca_cert, spec, NOW, "key differs"),
        ("cn", cert, pub, ca_cert, leaf.LeafSpec("mx2.a.test", spec.subject_alt_names), NOW, "names differ"),
        ("san", cert, pub, ca_cert, leaf.LeafSpec(spec.common_name, ("DNS:c.test",)), NOW, "names differ"),
        ("issuer", twin_cert, pub, ca_cert, spec, NOW, "issuer differs"),
        ("eku", no_eku, pub, ca_cert, spec, NOW, "extended key usage differs"),
        ("before-window", cert, pub, ca_cert, spec, window - DAY, None),
        ("window", cert, pub, ca_cert, spec, window, "expires within 30 days"),
        ("expired", cert, pub, ca_cert, spec, NOW + 400 * DAY, "expires within 30 days"),
    ]


@pytest.mark.parametrize(("case", "cert", "pub", "ca_cert", "spec", "now", "reason"), _reissue_cases(),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_reissue_reason(case, cert, pub, ca_cert, spec, now, reason):
    assert leaf.reissue_reason(cert, pub, ca_cert, spec, now) == reason


def test_signature_that_no_longer_verifies_is_detected():
    ca_key, ca_cert, _spec = make_ca()
    key, cert, spec = make_leaf(ca_key, ca_cert)
    # A CA with the same subject and the same SKI but another key: only the signature tells them apart.
    forged_key = keys.generate_private_key(keys.KeySpec())
    ski = x509.SubjectKeyIdentifier(certs.subject_key_identifier(ca_cert))
    forged = (
        x509.CertificateBuilder()
        .subject_name(ca_cert.subject)
        .issuer_name(ca_cert.subject)
        .public_key(forged_key.public_key())
        .serial_number(2)
        .not_valid_before(NOW)
        .not_valid_after(NOW + 3650 * DAY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), True)
        .add_extension(ski, False)
        .sign(forged_key, keys.signature_hash(forged_key))
    )
    assert leaf.reissue_reason(cert, key.public_key(), forged, spec, NOW) == "signature does not verify with the CA"


# --- bad input ---------------------------------------------------------------------------------

BAD_SANS = [
    "DNS:-bad.test",
    "DNS:bad-.test",
    "DNS:under_score.test",
    "DNS:sp ace.test",
    "DNS:" + "a" * 64 + ".test",
    "DNS:a..test",
    "DNS:*",
    "DNS:foo.*.test",
    "IP:300.1.1.1",
    "IP:mx.a.test",
    "bad name",
    "",
]


@pytest.mark.parametrize("entry", BAD_SANS)
def test_invalid_san_is_rejected(entry):
    with pytest.raises(PkiError) as err:
        leaf.LeafSpec("mx.a.test", (entry,)).validate()
    assert err.value.option == "subject_alt_names"


@pytest.mark.parametrize(
    ("entry", "parsed"),
    [
        ("DNS:MX.A.Test", ("DNS", "mx.a.test")),
        ("mx.a.test.", ("DNS", "mx.a.test")),
        ("192.0.2.1", ("IP", "192.0.2.1")),
        ("IP:2001:db8::1", ("IP", "2001:db8::1")),
        ("*.a.test", ("DNS", "*.a.test")),
    ],
)
def test_san_forms(entry, parsed):
    assert leaf.parse_san(entry) == parsed


@pytest.mark.parametrize(
    ("kwargs", "option"),
    [
        ({"valid_days": 0}, "valid_days"),
        ({"valid_days": 30, "renew_before_days": 30}, "renew_before_days"),
        ({"renew_before_days": -1}, "renew_before_days"),
        ({"valid_days": "365"}, "valid_days"),
    ],
)
def test_bad_validity_names_the_option(kwargs, option):
    with pytest.raises(PkiError) as err:
        leaf.LeafSpec("mx.a.test", **kwargs).validate()
    assert err.value.option == option


def test_signing_refuses_mismatched_expired_or_non_ca():
    ca_key, ca_cert, _spec = make_ca()
    other_key, _cert, _spec = make_ca()
    with pytest.raises(PkiError) as err:
        ca.check_signing_ca(ca_cert, other_key, NOW)
    assert err.value.option == "ca_privatekey_path"
    with pytest.raises(PkiError) as err:
        ca.check_signing_ca(ca_cert, ca_key, NOW + 3651 * DAY)
    assert err.value.option == "ca_path" and "expired" in err.value.reason
    _key, leaf_cert, _spec = make_leaf(ca_key, ca_cert)
    with pytest.raises(PkiError) as err:
        ca.check_signing_ca(leaf_cert, ca_key, NOW)
    assert err.value.option == "ca_path" and "not a CA" in err.value.reason
    ca.check_signing_ca(ca_cert, ca_key, NOW)
