"""SHA512-CRYPT in pure Python agrees with OpenSSL's (``openssl passwd -6``) for every shape of input."""

import shutil
import subprocess

import pytest

from ansible_collections.partnermail.links.plugins.module_utils import _shacrypt

CASES = [
    ("Hello world!", "saltstring", 5000),
    ("Hello world!", "saltstringsaltstring", 10000),     # salt cut to 16 characters
    ("In-From-Contoso-7Q", "a", 5000),                   # one-character salt
    ("x", "./0123456789AB", 1000),
    ("p" * 64, "exactly64bytes", 5000),                  # password of one whole SHA-512 block
    ("q" * 65, "justover", 5000),
    ("long-" * 40, "abcdefgh", 5000),                    # 200 bytes
    ("pässwörd-ünïcode", "utf8salt", 5000),              # hashed as UTF-8
    ("In-From-Fabrikam-9Z", "rOuNdS", 12345),
]


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
@pytest.mark.parametrize(("password", "salt", "rounds"), CASES)
def test_hash_is_what_openssl_computes(password, salt, rounds):
    given = salt if rounds == 5000 else f"rounds={rounds}${salt}"
    expected = subprocess.run(["openssl", "passwd", "-6", "-salt", given, "-stdin"], input=password.encode(),
                              capture_output=True, check=True).stdout.decode().strip()
    assert _shacrypt.sha512_crypt(password, salt, rounds) == expected
    assert _shacrypt.verify(password, expected)
    assert not _shacrypt.verify(password + "x", expected)


def test_the_published_example():
    # From the SHA-crypt specification's test vectors (also what glibc computes).
    assert _shacrypt.sha512_crypt("Hello world!", "saltstring") == (
        "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1")


def test_a_new_hash_has_a_random_sixteen_character_salt():
    first, second = _shacrypt.sha512_crypt("secret-123456"), _shacrypt.sha512_crypt("secret-123456")
    assert first != second
    salt = first.split("$")[2]
    assert len(salt) == 16 and set(salt) <= set(_shacrypt.ALPHABET)
    assert _shacrypt.identify(first) and _shacrypt.verify("secret-123456", first)


def test_rounds_are_clamped_like_glibc():
    assert _shacrypt.sha512_crypt("pw", "salt", 10).startswith("$6$rounds=1000$salt$")
    assert _shacrypt.sha512_crypt("pw", "salt", 5000).startswith("$6$salt$")


def test_an_explicit_rounds_5000_still_verifies():
    implicit = _shacrypt.sha512_crypt("pw-123456789", "salt")
    explicit = implicit.replace("$6$", "$6$rounds=5000$", 1)
    assert _shacrypt.verify("pw-123456789", explicit)


@pytest.mark.parametrize("crypted", [
    "", None, "$5$salt$" + "a" * 43, "$6$salt$short", "$6$rounds=10$salt$" + "a" * 86, "$6$rounds=x$salt$" + "a" * 86,
    "{SHA512-CRYPT}$6$salt$" + "a" * 86, "$6$sa$lt$" + "a" * 86,
])
def test_malformed_hashes_never_verify(crypted):
    assert not _shacrypt.verify("pw", crypted)
    assert not _shacrypt.identify(crypted) or crypted.startswith("$6$rounds=")


@pytest.mark.parametrize("salt", ["a$b", "a:b", "a\nb"])
def test_a_salt_that_would_break_the_line_is_refused(salt):
    with pytest.raises(ValueError, match="salt"):
        _shacrypt.sha512_crypt("pw", salt)
