# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""SHA512-CRYPT ("$6$", Ulrich Drepper's SHA-crypt specification), in pure Python.

What glibc's crypt(3), Dovecot's SHA512-CRYPT scheme and ``openssl passwd -6`` compute. Written here so that the
collection needs no password-hashing library on the controller: the stdlib ``crypt`` module is gone in Python 3.13
and passlib is no longer maintained.
"""

import hashlib
import hmac
import re
import secrets

ALPHABET = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
DEFAULT_ROUNDS = 5000  # implicit when a hash carries no "rounds="
MIN_ROUNDS, MAX_ROUNDS = 1000, 999_999_999
SALT_LENGTH = 16
# The order in which the 64 digest bytes are encoded, three at a time (the last one alone).
_ORDER = ((0, 21, 42), (22, 43, 1), (44, 2, 23), (3, 24, 45), (25, 46, 4), (47, 5, 26), (6, 27, 48),
          (28, 49, 7), (50, 8, 29), (9, 30, 51), (31, 52, 10), (53, 11, 32), (12, 33, 54), (34, 55, 13),
          (56, 14, 35), (15, 36, 57), (37, 58, 16), (59, 17, 38), (18, 39, 60), (40, 61, 19), (62, 20, 41))
_HASH = re.compile(r"\$6\$(?:rounds=([0-9]+)\$)?([^$]{0,16})(?:\$([./0-9A-Za-z]{86}))?")


def _repeat(digest, length):
    """``digest`` repeated to ``length`` bytes."""
    return (digest * (length // len(digest) + 1))[:length]


def _encode(digest):
    out = []
    for b2, b1, b0 in _ORDER:
        word = digest[b2] << 16 | digest[b1] << 8 | digest[b0]
        out += [ALPHABET[(word >> shift) & 0x3F] for shift in (0, 6, 12, 18)]
    word = digest[63]
    out += [ALPHABET[word & 0x3F], ALPHABET[word >> 6]]
    return "".join(out)


def _digest(password, salt, rounds):
    b = hashlib.sha512(password + salt + password).digest()
    a = hashlib.sha512(password + salt + _repeat(b, len(password)))
    length = len(password)
    while length:
        a.update(b if length & 1 else password)
        length >>= 1
    c = a.digest()
    p = _repeat(hashlib.sha512(password * len(password)).digest(), len(password))
    s = _repeat(hashlib.sha512(salt * (16 + c[0])).digest(), len(salt))
    for i in range(rounds):
        h = hashlib.sha512(p if i & 1 else c)
        if i % 3:
            h.update(s)
        if i % 7:
            h.update(p)
        h.update(c if i & 1 else p)
        c = h.digest()
    return c


def sha512_crypt(password, salt=None, rounds=DEFAULT_ROUNDS):
    """'$6$salt$...' (or '$6$rounds=N$salt$...' when rounds differ from 5000) for ``password`` (str)."""
    if salt is None:
        salt = "".join(secrets.choice(ALPHABET) for _n in range(SALT_LENGTH))
    if "$" in salt or "\n" in salt or ":" in salt:
        raise ValueError("a SHA512-CRYPT salt must not contain '$', ':' or a newline")
    salt = salt[:SALT_LENGTH]
    rounds = min(max(int(rounds), MIN_ROUNDS), MAX_ROUNDS)
    prefix = "$6$" if rounds == DEFAULT_ROUNDS else f"$6$rounds={rounds}$"
    return f"{prefix}{salt}${_encode(_digest(password.encode(), salt.encode(), rounds))}"


def identify(crypted):
    """True when ``crypted`` looks like a complete '$6$' hash."""
    match = _HASH.fullmatch(crypted or "")
    return bool(match and match[3])


def verify(password, crypted):
    """True when ``crypted`` (a '$6$' hash) is the hash of ``password``; False for anything malformed."""
    match = _HASH.fullmatch(crypted or "")
    if not match or not match[3]:
        return False
    rounds = DEFAULT_ROUNDS if match[1] is None else int(match[1])
    if match[1] is not None and not MIN_ROUNDS <= rounds <= MAX_ROUNDS:
        return False  # glibc clamps; a hash written with an out-of-range count is not one we made
    expected = sha512_crypt(password, match[2], rounds)
    if match[1] is not None and rounds == DEFAULT_ROUNDS:
        expected = expected.replace("$6$", "$6$rounds=5000$", 1)
    return hmac.compare_digest(expected, crypted)
