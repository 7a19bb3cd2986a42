"""The PKI modules through real ansible-playbook runs on localhost."""

import datetime
import os
import stat
import subprocess

import pytest

from ansible_collections.partnermail.links.plugins.module_utils._pki import certs, keys

from ..unit.pki_helpers import make_ca, write_pem
from .playbook_runner import changed_count, run_module, run_playbook, task_results

PLAYBOOK = os.path.join(os.path.dirname(__file__), "pki.yml")
MODULE_TASKS = ("Ensure the private CA", "Ensure the MTA key", "Sign the MTA key with the CA")


def snapshot(directory):
    return {name: (directory / name).read_bytes() for name in sorted(os.listdir(directory))}


@pytest.fixture(scope="module")
def provisioned(tmp_path_factory):
    """One directory provisioned by a first and then a second run."""
    directory = tmp_path_factory.mktemp("pki")
    first = run_playbook(PLAYBOOK, {"pki_dir": str(directory)})
    files_after_first = snapshot(directory)
    second = run_playbook(PLAYBOOK, {"pki_dir": str(directory)})
    return directory, first, second, files_after_first


def test_first_run_creates_everything(provisioned):
    directory, (rc, out), _second, _files = provisioned
    assert rc == 0
    results = task_results(out)
    assert [results[name]["changed"] for name in MODULE_TASKS] == [True, True, True]
    assert set(os.listdir(directory)) == {"ca.pem", "ca.key", "mta.key", "mta.pem"}
    assert stat.S_IMODE(os.stat(directory / "mta.key").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(directory / "ca.key").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(directory / "mta.pem").st_mode) == 0o644


def test_private_key_is_never_returned(provisioned):
    _directory, (_rc, out), _second, _files = provisioned
    key_result = task_results(out)["Ensure the MTA key"]
    assert "PRIVATE KEY" not in repr(out)
    assert key_result["public_key"].startswith("-----BEGIN PUBLIC KEY-----")


def test_written_chain_verifies_with_openssl(provisioned):
    directory, _first, _second, _files = provisioned
    proc = subprocess.run(
        ["openssl", "verify", "-purpose", "sslserver", "-CAfile", directory / "ca.pem", directory / "mta.pem"],
        capture_output=True, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    # The certificate certifies the key on disk.
    key = keys.load_private_key((directory / "mta.key").read_bytes())
    cert_pub = subprocess.run(["openssl", "x509", "-noout", "-pubkey", "-in", directory / "mta.pem"],
                              capture_output=True, text=True, check=True).stdout
    assert keys.public_key_pem(key.public_key()) == cert_pub


def test_second_run_changes_nothing(provisioned):
    directory, _first, (rc, out), files_after_first = provisioned
    assert rc == 0
    assert changed_count(out) == 0
    assert [task_results(out)[name]["reason"] for name in MODULE_TASKS] == ["valid", "valid", "valid"]
    assert snapshot(directory) == files_after_first


def test_check_mode_on_empty_directory_writes_nothing(tmp_path):
    rc, out = run_playbook(PLAYBOOK, {"pki_dir": str(tmp_path)}, check=True)
    assert rc == 0
    results = task_results(out)
    assert results["Ensure the private CA"]["changed"] is True
    assert results["Ensure the MTA key"]["changed"] is True
    assert os.listdir(tmp_path) == []


def test_check_mode_ca_in_a_directory_not_made_yet(tmp_path):
    """A first run's --check: the task that makes the CA directory changed nothing, so the CA module finds none."""
    args = {"path": str(tmp_path / "new" / "ca.pem"), "privatekey_path": str(tmp_path / "new" / "ca.key"),
            "common_name": "check-mode CA"}
    result = run_module("partnermail.links.ca", args, check=True)
    assert result["changed"] is True and result["reason"] == "created", result
    assert os.listdir(tmp_path) == []
    # A real run still names the missing directory.
    result = run_module("partnermail.links.ca", args)
    assert result.get("failed") and result["option"] == "path", result
    assert "does not exist" in result["msg"]


def test_check_mode_reports_renewal_without_writing(provisioned, tmp_path):
    directory, _first, _second, files_after_first = provisioned
    rc, out = run_playbook(PLAYBOOK, {"pki_dir": str(directory), "leaf_sans": ["DNS:other.test"]}, check=True)
    assert rc == 0
    result = task_results(out)["Sign the MTA key with the CA"]
    assert result["changed"] is True and result["reason"] == "names differ"
    assert snapshot(directory) == files_after_first


def test_renewal_window_reissues_and_keeps_the_key(tmp_path):
    rc, first = run_playbook(PLAYBOOK, {"pki_dir": str(tmp_path), "leaf_valid_days": 10, "leaf_renew_before_days": 5})
    assert rc == 0
    rc, second = run_playbook(PLAYBOOK, {"pki_dir": str(tmp_path), "leaf_valid_days": 30, "leaf_renew_before_days": 20})
    assert rc == 0
    before, after = (task_results(o)["Sign the MTA key with the CA"] for o in (first, second))
    assert after["changed"] is True and after["reason"] == "expires within 20 days"
    assert after["fingerprint_sha256"] != before["fingerprint_sha256"]
    assert after["tlsa"] == before["tlsa"]
    assert task_results(second)["Ensure the MTA key"]["changed"] is False


def test_key_type_change_regenerates_the_key(tmp_path):
    run_playbook(PLAYBOOK, {"pki_dir": str(tmp_path)})
    rc, out = run_playbook(PLAYBOOK, {"pki_dir": str(tmp_path), "mta_key_type": "rsa"})
    assert rc == 0
    results = task_results(out)
    assert results["Ensure the MTA key"]["reason"].startswith("key type or size differs (was ecdsa secp256r1")
    assert results["Sign the MTA key with the CA"]["reason"] == "key differs"
    never = run_module("partnermail.links.private_key", {"path": str(tmp_path / "mta.key"), "regenerate": "never"})
    assert never["failed"] and "regenerate" in never["msg"]


def test_key_mode_drift_is_repaired(tmp_path):
    path = tmp_path / "drift.key"
    run_module("partnermail.links.private_key", {"path": str(path)})
    os.chmod(path, 0o644)
    result = run_module("partnermail.links.private_key", {"path": str(path)})
    assert result["changed"] is True and result["reason"] == "valid"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


# --- bad input: a clear message naming the option, and nothing written ------------------------


def _expired_ca(directory):
    key, cert, _spec = make_ca(now=certs.utcnow() - datetime.timedelta(days=30), valid_days=10)
    (directory / "old.key").write_bytes(keys.private_key_pem(key))
    return write_pem(directory / "old.pem", cert)


def _mismatched_ca(directory):
    _key, cert, _spec = make_ca(now=certs.utcnow())
    other, _cert, _spec = make_ca(now=certs.utcnow())
    (directory / "ca.key").write_bytes(keys.private_key_pem(other))
    write_pem(directory / "ca.pem", cert)


def _good_ca(directory):
    key, cert, _spec = make_ca(now=certs.utcnow())
    (directory / "ca.key").write_bytes(keys.private_key_pem(key))
    write_pem(directory / "ca.pem", cert)


def _cert_args(d, **over):
    pub = keys.public_key_pem(keys.generate_private_key(keys.KeySpec()).public_key())
    args = {"path": f"{d}/out.pem", "ca_path": f"{d}/ca.pem", "ca_privatekey_path": f"{d}/ca.key",
            "public_key": pub, "common_name": "mx.a.test"}
    args.update(over)
    return args


BAD = [
    ("unknown key type", "partnermail.links.private_key", None, lambda d: {"path": f"{d}/k", "key_type": "dsa"},
     "key_type"),
    ("rsa below 2048", "partnermail.links.private_key", None,
     lambda d: {"path": f"{d}/k", "key_type": "rsa", "key_size": 1024}, "key_size"),
    ("ca rsa below 2048", "partnermail.links.ca", None,
     lambda d: {"path": f"{d}/c.pem", "privatekey_path": f"{d}/c.key", "common_name": "x", "key_type": "rsa",
                "key_size": 1024}, "key_size"),
    ("ca renew window", "partnermail.links.ca", None,
     lambda d: {"path": f"{d}/c.pem", "privatekey_path": f"{d}/c.key", "common_name": "x", "valid_days": 30,
                "renew_before_days": 30}, "renew_before_days"),
    ("invalid san", "partnermail.links.certificate", _good_ca,
     lambda d: _cert_args(d, subject_alt_names=["DNS:bad_name.test"]), "subject_alt_names"),
    ("ca key does not match", "partnermail.links.certificate", _mismatched_ca, _cert_args, "ca_privatekey_path"),
    ("expired ca", "partnermail.links.certificate", _expired_ca,
     lambda d: _cert_args(d, ca_path=f"{d}/old.pem", ca_privatekey_path=f"{d}/old.key"), "ca_path"),
    ("ca path is a directory", "partnermail.links.certificate", _good_ca, lambda d: _cert_args(d, ca_path=str(d)),
     "ca_path"),
    ("ca path missing", "partnermail.links.certificate", _good_ca,
     lambda d: _cert_args(d, ca_path=f"{d}/nope.pem"), "ca_path"),
    ("output directory missing", "partnermail.links.certificate", _good_ca,
     lambda d: _cert_args(d, path=f"{d}/no/such/dir.pem"), "path"),
    ("key path is a directory", "partnermail.links.private_key", None, lambda d: {"path": str(d)}, "path"),
    ("public key garbage", "partnermail.links.certificate", _good_ca, lambda d: _cert_args(d, public_key="xx"),
     "public_key"),
    ("ca key lost", "partnermail.links.ca", lambda d: _good_ca(d) or os.unlink(d / "ca.key"),
     lambda d: {"path": f"{d}/ca.pem", "privatekey_path": f"{d}/ca.key", "common_name": "Test CA"},
     "privatekey_path"),
    ("ca key type change without force", "partnermail.links.ca", _good_ca,
     lambda d: {"path": f"{d}/ca.pem", "privatekey_path": f"{d}/ca.key", "common_name": "Test CA",
                "key_type": "rsa"}, "key_type"),
]


@pytest.mark.parametrize(("case", "module", "setup", "make_args", "option"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_names_the_option_and_writes_nothing(tmp_path, case, module, setup, make_args, option):
    if setup:
        setup(tmp_path)
    before = snapshot(tmp_path)
    result = run_module(module, make_args(tmp_path))
    assert result.get("failed") is True, result
    assert option in result["msg"], result["msg"]
    assert "Traceback" not in result["msg"]
    assert snapshot(tmp_path) == before


CA_ARGS = {"common_name": "Passphrase CA", "key_type": "ecdsa"}


def ca_args(directory, **extra):
    return {"path": str(directory / "ca.pem"), "privatekey_path": str(directory / "ca.key"), **CA_ARGS, **extra}


def test_ca_key_is_encrypted_at_rest_and_an_old_plain_key_is_encrypted_in_place(tmp_path):
    plain = run_module("partnermail.links.ca", ca_args(tmp_path))
    assert plain["changed"] is True and plain["reason"] == "created"
    assert not keys.is_encrypted_pem((tmp_path / "ca.key").read_bytes())
    cert_before = (tmp_path / "ca.pem").read_bytes()
    # A passphrase given later encrypts the same key; the CA certificate stays as it is.
    encrypted = run_module("partnermail.links.ca", ca_args(tmp_path, privatekey_passphrase="vault-secret-1"))
    assert encrypted["changed"] is True and encrypted["reason"] == "key encrypted"
    data = (tmp_path / "ca.key").read_bytes()
    assert keys.is_encrypted_pem(data) and b"vault-secret-1" not in data
    assert stat.S_IMODE(os.stat(tmp_path / "ca.key").st_mode) == 0o600
    assert (tmp_path / "ca.pem").read_bytes() == cert_before
    again = run_module("partnermail.links.ca", ca_args(tmp_path, privatekey_passphrase="vault-secret-1"))
    assert again["changed"] is False and again["reason"] == "valid"
    # Without the passphrase, or with a wrong one, the key is refused naming the option; nothing is replaced.
    for passphrase in ("", "wrong"):
        refused = run_module("partnermail.links.ca", ca_args(tmp_path, privatekey_passphrase=passphrase))
        assert refused["failed"] is True and refused["option"] == "privatekey_passphrase", refused
        assert (tmp_path / "ca.key").read_bytes() == data
    # The certificate module signs with the encrypted key when it has the passphrase.
    mta_key = keys.generate_private_key(keys.KeySpec())
    sign = {"path": str(tmp_path / "mx.pem"), "ca_path": str(tmp_path / "ca.pem"),
            "ca_privatekey_path": str(tmp_path / "ca.key"),
            "public_key": keys.public_key_pem(mta_key.public_key()), "common_name": "mx.a.test",
            "subject_alt_names": ["mx.a.test"]}
    refused = run_module("partnermail.links.certificate", sign)
    assert refused["failed"] is True and refused["option"] == "ca_privatekey_passphrase", refused
    signed = run_module("partnermail.links.certificate", sign | {"ca_privatekey_passphrase": "vault-secret-1"})
    assert signed["changed"] is True, signed


def test_no_new_ca_where_one_must_exist(tmp_path):
    refused = run_module("partnermail.links.ca", ca_args(tmp_path, create=False))
    assert refused["failed"] is True and refused["option"] == "create", refused
    assert "no CA at" in refused["msg"] and os.listdir(tmp_path) == []
    run_module("partnermail.links.ca", ca_args(tmp_path))
    kept = run_module("partnermail.links.ca", ca_args(tmp_path, create=False))
    assert kept["changed"] is False and kept["reason"] == "valid"
