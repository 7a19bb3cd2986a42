# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Render a Dovecot passwd-file of hashed inbound SASL credentials, idempotently.

A line already in the file is kept verbatim when its hash still verifies against the current password,
so a re-run with unchanged passwords renders identical content (no new salt, no change reported).
"""

import multiprocessing
import os
import re
from concurrent.futures import ProcessPoolExecutor

from ansible_collections.partnermail.links.plugins.module_utils import _shacrypt
from ansible_collections.partnermail.links.plugins.module_utils._render import HEADER

SCHEME = "{SHA512-CRYPT}"
ROUNDS = 5000  # the glibc / doveadm pw default: cheap enough to check 1000 partners on every run

# Below this many lines to check, one process is faster than starting others.
PARALLEL_FROM = 64

_USERNAME = re.compile(r"[A-Za-z0-9._@-]{1,64}")


def parse_passwd_file(content):
    """Map user -> (line, password field) for each entry line of a passwd-file (comments skipped)."""
    entries = {}
    for line in (content or "").splitlines():
        if not line or line.startswith(("#", ":")):
            continue
        user, _sep, rest = line.partition(":")
        entries[user] = (line, rest.split(":", 1)[0])
    return entries


def verifies(password, field):
    """True when a '{SHA512-CRYPT}...' password field matches ``password``."""
    if not field.startswith(SCHEME):
        return False
    crypted = field[len(SCHEME):]
    return _shacrypt.verify(password, crypted)


def hash_line(username, password, rounds=ROUNDS):
    """A fresh 'user:{SHA512-CRYPT}$6$...' line with a new random salt."""
    return f"{username}:{SCHEME}{_shacrypt.sha512_crypt(password, rounds=rounds)}"


def entry_problem(entry):
    """(field, what is wrong) with one {username, password} entry, or None. Never quotes a value: the module's
    output hides the logins, so the caller names the entry by its place."""
    username, password = entry.get("username"), entry.get("password")
    if not isinstance(username, str) or not _USERNAME.fullmatch(username):
        return "username", "not a login name (1 to 64 of A-Z a-z 0-9 . _ @ -)"
    if not isinstance(password, str) or not password:
        return "password", "must be a non-empty string"
    return None


def _checked(entry):
    username, password = entry.get("username"), entry.get("password")
    if not isinstance(username, str) or not _USERNAME.fullmatch(username):
        raise ValueError(f"passwd-file: bad username {username!r}")
    if not isinstance(password, str) or not password:
        raise ValueError(f"passwd-file: user {username} needs a non-empty string password")
    return str(username), str(password)


def passwd_file(entries, existing_content="", rounds=ROUNDS):
    """Dovecot passwd-file text for ``entries`` ({username, password} mappings), sorted by user.

    Users missing from ``entries`` are dropped: the role owns the whole file.
    """
    existing = parse_passwd_file(existing_content)
    checked, seen = [], set()
    for entry in entries:
        username, password = _checked(entry)
        if username in seen:
            raise ValueError(f"passwd-file: duplicate user {username}")
        seen.add(username)
        checked.append((username, password))
    kept = verify_all([(password, existing.get(username, (None, ""))[1]) for username, password in checked])
    lines = {username: existing[username][0] if keep else hash_line(username, password, rounds)
             for (username, password), keep in zip(checked, kept, strict=True)}
    return "\n".join([HEADER] + [lines[user] for user in sorted(lines)]) + "\n"


def _verifies_pair(pair):
    return verifies(*pair)


def verify_all(pairs, workers=None):
    """[verifies(password, field)] for each (password, field), on every CPU when there are many.

    Each check costs a full SHA512-CRYPT (about 4 ms at 5000 rounds, by design): at 1000 partners that is the
    password file's whole cost on a run that changes nothing, so the checks are spread over forked processes. Where
    processes cannot be started, they run here, one after the other.
    """
    pending = [index for index, (_password, field) in enumerate(pairs) if field]
    results = [False] * len(pairs)
    workers = workers or min(os.cpu_count() or 1, 8)
    if len(pending) >= PARALLEL_FROM and workers > 1:
        try:
            with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
                chunk = max(1, len(pending) // (workers * 4))
                checks = pool.map(_verifies_pair, [pairs[index] for index in pending], chunksize=chunk)
                for index, ok in zip(pending, checks, strict=True):
                    results[index] = ok
            return results
        except (OSError, RuntimeError, ValueError):
            pass
    for index in pending:
        results[index] = verifies(*pairs[index])
    return results
