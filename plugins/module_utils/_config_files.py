# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A role's configuration files, wherever they live, kept in one module call.

Each entry names a file, its content, owner, group and mode, and optionally: the command that must accept it before
it is installed (``validate``, ``%s`` is a temporary copy), the ``hash:`` database built from it (``postmap`` or
``postalias``: rebuilt when the source was written, or the database is missing or older than its source), that it
is only created, never replaced (``create_only``: a file that is the admin's once it exists), or that it must not
exist (``state: absent``). Entries of the option secret_files are never shown in a diff. Directories come first.

``plan()`` reads the host and says what to do; the module does it. Errors are PkiError naming the field
(``files[2].mode``).
"""

import os
import stat

from ansible_collections.partnermail.links.plugins.module_utils import _io, _postfix_maps
from ansible_collections.partnermail.links.plugins.module_utils._pki.errors import PkiError

DATABASES = ("postmap", "postalias")


# The module's argument spec has already checked the keys, types and choices and filled in the defaults; what is
# checked here is what it cannot say.
def _absolute(value, option):
    if not isinstance(value, str) or not value.startswith("/") or value != os.path.normpath(value):
        raise PkiError(option, f"{value!r} is not an absolute, normalised path")
    return value


def _mode(value, option):
    try:
        return _io.octal_mode(value)
    except PkiError:
        raise PkiError(option, f"{value!r} is not an octal mode") from None


def directories(raw):
    """The directory entries with their mode as a number, each named by its option (``directories[0]``)."""
    return [dict(entry, option=f"directories[{index}]", path=_absolute(entry["path"], f"directories[{index}].path"),
                 mode=_mode(entry["mode"], f"directories[{index}].mode"))
            for index, entry in enumerate(raw or [])]


def files(raw, secret_raw=None):
    """The entries of ``raw`` and ``secret_raw`` (option secret_files) in that order, with their mode as a number,
    ``secret`` and ``option`` (``files[2]``) added; each path at most once."""
    checked, seen = [], set()
    entries = [(f"files[{index}]", entry, False) for index, entry in enumerate(raw or [])]
    entries += [(f"secret_files[{index}]", entry, True) for index, entry in enumerate(secret_raw or [])]
    for option, entry, secret in entries:
        path = _absolute(entry["path"], f"{option}.path")
        if path in seen:
            raise PkiError(f"{option}.path", f"{path} is named twice")
        seen.add(path)
        if entry["state"] == "present" and not isinstance(entry["content"], str):
            raise PkiError(f"{option}.content", "must be a string for a file that is present")
        if entry["validate"] is not None and "%s" not in entry["validate"]:
            raise PkiError(f"{option}.validate", "must be a command with %s for the file to check")
        checked.append(dict(entry, option=option, secret=secret, mode=_mode(entry["mode"], f"{option}.mode")))
    return checked


def attributes_differ(path, mode, uid, gid):
    """True when the existing ``path`` has another mode, owner or group than wanted (-1: not wanted)."""
    info = os.lstat(path)
    return stat.S_IMODE(info.st_mode) != mode or uid not in (-1, info.st_uid) or gid not in (-1, info.st_gid)


def plan(entry):
    """What keeping one file entry takes: (write, remove, its current bytes or None); changes nothing."""
    current = _io.read_optional(entry["path"], entry["option"])
    if entry["state"] == "absent":
        return False, current is not None, current
    if current is None:
        return True, False, None
    return not entry["create_only"] and current != entry["content"].encode(), False, current


def database_stale(entry, written):
    """True when the database of an entry whose source exists must be built: the source was written, or the .db is
    missing or older than it."""
    return written or _postfix_maps.stale(*os.path.split(entry["path"]))


def diff(entry, current, written, removed):
    """Ansible's before/after dict for one file written or removed; a secret file is named, never shown."""
    path = entry["path"]
    hidden = "(secret content not shown)\n"
    before = "" if current is None else (hidden if entry["secret"] else current.decode("utf-8", "replace"))
    after = "" if removed else (hidden if entry["secret"] else entry["content"])
    return {
        "before_header": path if current is not None else "/dev/null",
        "after_header": "/dev/null" if removed else path,
        "before": before,
        "after": after if written or removed else before,
    }
