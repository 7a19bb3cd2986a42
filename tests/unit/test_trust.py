"""The partners' CA files are checked on the controller before any host is changed (module_utils/_trust.py)."""

import datetime
import pathlib

import pytest
import yaml

from ansible_collections.partnermail.links.plugins.module_utils import _trust
from ansible_collections.partnermail.links.plugins.module_utils._pki import certs, keys

from .pki_helpers import NOW, make_ca, make_leaf

LATER = NOW + datetime.timedelta(days=1)


@pytest.fixture(scope="module")
def material():
    ca_key, ca_cert, _spec = make_ca("Partner CA", now=NOW - datetime.timedelta(days=10))
    other_key, other_cert, _spec = make_ca("Second CA", now=NOW - datetime.timedelta(days=10))
    _key, leaf_cert, _spec = make_leaf(ca_key, ca_cert, now=NOW - datetime.timedelta(days=1))
    _key, old_cert, _spec = make_ca("Old CA", now=NOW - datetime.timedelta(days=400), valid_days=30)
    _key, future_cert, _spec = make_ca("Future CA", now=NOW + datetime.timedelta(days=30))
    return {
        "ca": certs.pem(ca_cert),
        "bundle": certs.pem(ca_cert) + certs.pem(other_cert),
        "leaf": certs.pem(leaf_cert),
        "expired": certs.pem(old_cert),
        "future": certs.pem(future_cert),
        "key": keys.private_key_pem(other_key).decode() + certs.pem(other_cert),
    }


@pytest.mark.parametrize("name", ["ca", "bundle"])
def test_ca_certificates_are_usable(material, name):
    assert _trust.content_problems(material[name], LATER) == []


@pytest.mark.parametrize(("name", "problem"), [
    ("leaf", "certificate 1 (CN=mx.a.test) is not a CA certificate"),
    ("expired", "certificate 1 (O=Test Org,CN=Old CA) expired on 2025-05-27"),
    ("future", "is not valid before "),
    ("key", "holds a private key"),
])
def test_unusable_files_are_refused_saying_why(material, name, problem):
    problems = _trust.content_problems(material[name], LATER)
    assert len(problems) == 1 and problem in problems[0], problems


@pytest.mark.parametrize("content", [
    "", "not a certificate\n", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"])
def test_a_file_without_a_certificate_is_refused(content):
    assert _trust.content_problems(content, LATER) == ["holds no PEM certificate (-----BEGIN CERTIFICATE-----)"]


def test_a_broken_certificate_is_refused():
    broken = "-----BEGIN CERTIFICATE-----\nTUlJQnJva2Vu\n-----END CERTIFICATE-----\n"
    (problem,) = _trust.content_problems(broken, LATER)
    assert problem.startswith("certificate 1 is not a valid certificate")


def test_errors_name_the_partner_and_the_field(material):
    anchors = [
        {"index": 0, "partner": "b", "path": "/srv/b.pem", "content": material["ca"], "error": ""},
        {"index": 2, "partner": "c", "path": "trust/c.pem", "content": "", "error": "was not found on the controller"},
        {"index": 3, "partner": "d", "path": "/srv/d.pem", "content": material["leaf"], "error": ""},
    ]
    errors = _trust.anchor_errors(anchors, now=LATER)
    assert errors[0] == "partnermail_partners[2] (c): tls.ca_file: 'trust/c.pem' was not found on the controller"
    assert errors[1].startswith("partnermail_partners[3] (d): tls.ca_file: '/srv/d.pem' certificate 1 (CN=mx.a.test)")
    assert len(errors) == 2


def test_a_missing_ca_that_this_run_creates_is_no_error():
    created = _trust.pki_created_cas([
        {"pki_mode": None, "pki_ca_dir": None, "inventory_dir": "/inv"},
        {"pki_mode": "ca", "pki_ca_dir": "/srv/pki/b/", "inventory_dir": "/inv"},
        {"pki_mode": "byo", "pki_ca_dir": "/srv/pki/c", "inventory_dir": "/inv"},
    ])
    assert created == ["/inv/pki/ca.pem", "/srv/pki/b/ca.pem"]
    missing = {"partner": "b", "content": "", "resolved": "", "error": "was not found on the controller"}
    anchors = [missing | {"index": 0, "path": "/srv/pki/b/ca.pem"}, missing | {"index": 1, "path": "/srv/pki/c/ca.pem"}]
    assert _trust.anchor_errors(anchors, created) == [
        "partnermail_partners[1] (b): tls.ca_file: '/srv/pki/c/ca.pem' was not found on the controller"]


def test_the_pki_default_ca_dir_is_the_one_assumed_here():
    defaults = yaml.safe_load((pathlib.Path(__file__).resolve().parents[2] / "roles/pki/defaults/main.yml").read_text())
    assert defaults["pki_mode"] == "ca"
    assert defaults["pki_ca_dir"] == "{{ inventory_dir }}/" + _trust.PKI_CA_SUBDIR


@pytest.fixture(scope="module")
def chains():
    ca_key, ca_cert, _spec = make_ca("MTA CA", now=NOW - datetime.timedelta(days=10))
    _key, leaf_cert, _spec = make_leaf(ca_key, ca_cert, now=NOW - datetime.timedelta(days=1))
    _key, old_leaf, _spec = make_leaf(ca_key, ca_cert, now=NOW - datetime.timedelta(days=400), valid_days=30)
    _key, future_leaf, _spec = make_leaf(ca_key, ca_cert, now=NOW + datetime.timedelta(days=30))
    return {
        "good": certs.pem(leaf_cert) + certs.pem(ca_cert),
        "ca first": certs.pem(ca_cert) + certs.pem(leaf_cert),
        "expired": certs.pem(old_leaf),
        "future": certs.pem(future_leaf),
        "with key": keys.private_key_pem(ca_key).decode() + certs.pem(leaf_cert),
        "not pem": "just text\n",
    }


def test_a_brought_chain_that_starts_with_the_mtas_certificate_is_usable(chains):
    assert _trust.byo_errors("byo", "files/mx-chain.pem", "/etc/ssl/private/mx.key", chains["good"], LATER) == []


def test_other_modes_are_not_checked():
    assert _trust.byo_errors("ca", "", "", None) == []


@pytest.mark.parametrize(("chain_src", "key_path", "content", "problems"), [
    ("", "/k", None, ["pki_byo_chain_src: with pki_mode byo, give the controller path of the certificate chain"]),
    ("c.pem", " ", "good", ["pki_byo_key_path: with pki_mode byo, give the path on the MTA"]),
    ("c.pem", "/k", None, ["pki_byo_chain_src: 'c.pem' was not found on the controller"]),
    ("c.pem", "/k", "not pem", ["pki_byo_chain_src: 'c.pem' holds no PEM certificate"]),
    ("c.pem", "/k", "with key", ["pki_byo_chain_src: 'c.pem' holds a private key: the key stays on the MTA"]),
    ("c.pem", "/k", "ca first",
     ["pki_byo_chain_src: 'c.pem': certificate 1 (O=Test Org,CN=MTA CA) is a CA certificate"]),
    ("c.pem", "/k", "expired", ["pki_byo_chain_src: 'c.pem': certificate 1 (CN=mx.a.test) expired on"]),
    ("c.pem", "/k", "future", ["pki_byo_chain_src: 'c.pem': certificate 1 (CN=mx.a.test) is not valid before"]),
])
def test_an_unusable_brought_chain_is_refused_naming_the_variable(chains, chain_src, key_path, content, problems):
    found = _trust.byo_errors("byo", chain_src, key_path, chains.get(content), LATER)
    assert len(found) == len(problems), found
    for line, start in zip(found, problems, strict=True):
        assert line.startswith(start), found
