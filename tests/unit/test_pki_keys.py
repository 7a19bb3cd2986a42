"""Key specs, generation and comparison."""

import pytest

from ansible_collections.partnermail.links.plugins.module_utils._pki import keys
from ansible_collections.partnermail.links.plugins.module_utils._pki.errors import PkiError

GOOD = [
    keys.KeySpec("ecdsa", curve="secp256r1"),
    keys.KeySpec("ecdsa", curve="secp384r1"),
    keys.KeySpec("rsa", key_size=2048),
    keys.KeySpec("rsa", key_size=3072),
]

BAD = [
    (keys.KeySpec("dsa"), "key_type", "unknown key type"),
    (keys.KeySpec("ed25519"), "key_type", "unknown key type"),
    (keys.KeySpec("rsa", key_size=1024), "key_size", "below 2048"),
    (keys.KeySpec("rsa", key_size=512), "key_size", "below 2048"),
    (keys.KeySpec("rsa", key_size=2049), "key_size", "must be one of"),
    (keys.KeySpec("rsa", key_size="2048"), "key_size", "must be an integer"),
    (keys.KeySpec("ecdsa", curve="secp521r1"), "curve", "unknown curve"),
    (keys.KeySpec("ecdsa", curve="prime256v1"), "curve", "unknown curve"),
]


@pytest.mark.parametrize("spec", GOOD, ids=lambda s: s.describe())
def test_generated_key_matches_its_spec(spec):
    key = keys.generate_private_key(spec.validate())
    assert keys.matches_spec(key, spec)
    assert keys.spec_of(key).describe() == spec.describe()
    reloaded = keys.load_private_key(keys.private_key_pem(key))
    assert keys.same_public_key(reloaded.public_key(), key.public_key())


@pytest.mark.parametrize(("spec", "option", "words"), BAD, ids=[f"{b[1]}-{b[0].describe()}" for b in BAD])
def test_bad_key_spec_names_the_option(spec, option, words):
    with pytest.raises(PkiError) as err:
        spec.validate()
    assert err.value.option == option
    assert words in str(err.value)
    assert str(err.value).startswith(f"{option}: ")


@pytest.mark.parametrize(
    ("have", "want", "same"),
    [
        (keys.KeySpec("ecdsa"), keys.KeySpec("ecdsa", curve="secp384r1"), False),
        (keys.KeySpec("ecdsa"), keys.KeySpec("rsa", key_size=2048), False),
        (keys.KeySpec("rsa", key_size=2048), keys.KeySpec("rsa", key_size=3072), False),
        (keys.KeySpec("rsa", key_size=2048), keys.KeySpec("rsa", key_size=2048, curve="secp384r1"), True),
        (keys.KeySpec("ecdsa", key_size=2048), keys.KeySpec("ecdsa", key_size=4096), True),
    ],
)
def test_mismatch_is_type_and_size_or_curve(have, want, same):
    assert keys.matches_spec(keys.generate_private_key(have), want) is same


@pytest.mark.parametrize("data", [b"", b"garbage", b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"])
def test_unparseable_private_key_names_the_option(data):
    with pytest.raises(PkiError) as err:
        keys.load_private_key(data, "privatekey_path")
    assert err.value.option == "privatekey_path"


def test_public_key_pem_roundtrip_and_spki_pin():
    key = keys.generate_private_key(keys.KeySpec())
    pem = keys.public_key_pem(key.public_key())
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")
    loaded = keys.load_public_key(pem)
    assert keys.spki_sha256(loaded) == keys.spki_sha256(key.public_key())
    assert len(keys.spki_sha256(loaded).split(":")) == 32


def test_bad_public_key_names_the_option():
    with pytest.raises(PkiError) as err:
        keys.load_public_key("not a key")
    assert err.value.option == "public_key"


def test_encrypted_private_key_roundtrip_and_its_errors_name_the_passphrase():
    key = keys.generate_private_key(keys.KeySpec())
    pem = keys.private_key_pem(key, "correct horse battery")
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----") and keys.is_encrypted_pem(pem)
    assert not keys.is_encrypted_pem(keys.private_key_pem(key))
    loaded = keys.load_private_key(pem, "privatekey_path", "correct horse battery", "privatekey_passphrase")
    assert keys.same_public_key(loaded.public_key(), key.public_key())
    for passphrase, words in ((None, "encrypted: give its passphrase"), ("wrong", "does not decrypt")):
        with pytest.raises(PkiError) as err:
            keys.load_private_key(pem, "privatekey_path", passphrase, "privatekey_passphrase")
        assert err.value.option == "privatekey_passphrase" and words in str(err.value)
