"""Certificates as the pki role leaves them: each MTA its own CA, its key made on the MTA and kept private."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from runner import playbook

PKI_ROOT = os.path.join(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", ""), "pki")


def subject(pem_path: str) -> str:
    return subprocess.run(["openssl", "x509", "-noout", "-subject", "-nameopt", "RFC2253", "-in", pem_path],
                          capture_output=True, text=True, check=True).stdout.strip()


@pytest.mark.parametrize(("mta", "letter"), [("mx-a", "a"), ("mx-b", "b")])
def test_each_mta_has_its_own_ca_with_its_own_settings(hosts, mta, letter):
    assert subject(os.path.join(PKI_ROOT, letter, "ca.pem")) == f"subject=CN={letter}.test partner-link CA"
    chain = hosts(mta).file("/etc/partnermail/tls/mta-chain.pem").content_string
    issuer = hosts(mta).check_output(
        "openssl x509 -noout -issuer -nameopt RFC2253 -in /etc/partnermail/tls/mta-chain.pem")
    assert issuer == f"issuer=CN={letter}.test partner-link CA"
    assert chain.count("BEGIN CERTIFICATE") == 2


@pytest.mark.parametrize("mta", ["mx-a", "mx-b"])
def test_the_private_key_stays_on_the_mta_and_is_private(hosts, mta):
    key = hosts(mta).file("/etc/partnermail/tls/mta.key")
    assert key.mode == 0o600 and key.user == "root"
    controller_files = [name for _dirpath, _dirnames, files in os.walk(PKI_ROOT) for name in files]
    assert "mta.key" not in controller_files
    # The certificate on the MTA certifies the key on the MTA.
    mta_host = hosts(mta)
    cert_key = mta_host.check_output("openssl x509 -noout -pubkey -in /etc/partnermail/tls/mta-chain.pem")
    own_key = mta_host.check_output("openssl pkey -pubout -in /etc/partnermail/tls/mta.key")
    assert cert_key == own_key


def test_a_lost_ca_is_never_silently_replaced(hosts, pytestconfig, tmp_path):
    """A checkout that lost the CA (an ephemeral AWX project directory): the run stops before any change."""
    ca_dir = os.path.join(PKI_ROOT, "a")
    chain = hosts("mx-a").file("/etc/partnermail/tls/mta-chain.pem").content_string
    os.rename(ca_dir, ca_dir + ".pmtest")
    try:
        rc, out = playbook(pytestconfig, tmp_path, "site.yml")
        assert rc != 0, out
        assert (f"There is no CA at {ca_dir} on the controller, but MTAs carry a certificate from partnermail.links "
                "issued by it (mx-a)") in out, out
        assert "pki_ca_allow_new: true" in out and "changed=0" in out, out
        assert not os.path.exists(ca_dir)
    finally:
        if os.path.exists(ca_dir):
            shutil.rmtree(ca_dir)
        os.rename(ca_dir + ".pmtest", ca_dir)
    assert hosts("mx-a").file("/etc/partnermail/tls/mta-chain.pem").content_string == chain


def test_the_ca_key_is_encrypted_at_rest_with_the_passphrase(hosts, pytestconfig, tmp_path):
    key_path = os.path.join(PKI_ROOT, "a", "ca.key")
    with open(key_path, "rb") as handle:
        plain = handle.read()
    with open(os.path.join(PKI_ROOT, "a", "ca.pem"), "rb") as handle:
        ca_cert = handle.read()
    chain = hosts("mx-a").file("/etc/partnermail/tls/mta-chain.pem").content_string
    try:
        rc, out = playbook(pytestconfig, tmp_path, "site.yml", {"pki_ca_passphrase": "molecule-ca-secret-1"})
        assert rc == 0, out
        assert "molecule-ca-secret-1" not in out
        with open(key_path, "rb") as handle:
            encrypted = handle.read()
        assert encrypted.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
        # The same CA, so the MTA keeps its certificate.
        with open(os.path.join(PKI_ROOT, "a", "ca.pem"), "rb") as handle:
            assert handle.read() == ca_cert
        assert hosts("mx-a").file("/etc/partnermail/tls/mta-chain.pem").content_string == chain
        rc, out = playbook(pytestconfig, tmp_path, "site.yml")
        assert rc != 0 and "the private key is encrypted: give its passphrase" in out, out
    finally:
        with open(key_path, "wb") as handle:
            handle.write(plain)
