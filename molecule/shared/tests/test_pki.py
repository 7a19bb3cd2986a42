"""Certificates as the pki role leaves them: each MTA its own CA, its key made on the MTA and kept private."""

from __future__ import annotations

import os
import subprocess

import pytest

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
