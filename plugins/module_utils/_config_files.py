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
FILE_KEYS = {"path", "content", "owner", "group", "mode", "state", "create_only", "validate", "database"}
DIRECTORY_KEYS = {"path", "owner", "group", "mode"}


def _field(kind, index, key):
    return f"{kind}[{index}].{key}"


def _absolute(value, option):
    if not isinstance(value, str) or not value.startswith("/") or value != os.path.normpath(value):
        raise PkiError(option, f"{value!r} is not an absolute, normalised path")
    return value


def _mode(value, option):
    try:
        return _io.octal_mode(value)
    except PkiError:
        raise PkiError(option, f"{value!r} is not an octal mode") from None


def _bool(value, option):
    if not isinstance(value, bool):
        raise PkiError(option, f"{value!r} is not a boolean")
    return value


def _unknown(entry, allowed, kind, index):
    if not isinstance(entry, dict):
        raise PkiError(f"{kind}[{index}]", "must be a mapping")
    extra = sorted(set(entry) - allowed)
    if extra:
        raise PkiError(_field(kind, index, extra[0]), f"unknown key (known: {', '.join(sorted(allowed))})")


def directories(raw):
    """The checked directory entries: [{path, owner, group, mode (int)}]."""
    checked = []
    for index, entry in enumerate(raw or []):
        _unknown(entry, DIRECTORY_KEYS, "directories", index)
        checked.append({
            "path": _absolute(entry.get("path"), _field("directories", index, "path")),
            "owner": entry.get("owner"),
            "group": entry.get("group"),
            "mode": _mode(entry.get("mode", "0755"), _field("directories", index, "mode")),
        })
    return checked


def files(raw, secret_raw=None):
    """The checked entries of ``raw`` and ``secret_raw`` (option secret_files), defaults filled in; each path once."""
    checked, seen = [], set()
    entries = [("files", index, entry, False) for index, entry in enumerate(raw or [])]
    entries += [("secret_files", index, entry, True) for index, entry in enumerate(secret_raw or [])]
    for kind, index, entry, secret in entries:
        _unknown(entry, FILE_KEYS, kind, index)
        path = _absolute(entry.get("path"), _field(kind, index, "path"))
        if path in seen:
            raise PkiError(_field(kind, index, "path"), f"{path} is named twice")
        seen.add(path)
        state = entry.get("state", "present")
        if state not in ("present", "absent"):
            raise PkiError(_field(kind, index, "state"), f"{state!r} is not present or absent")
        content = entry.get("content")
        if state == "present" and not isinstance(content, str):
            raise PkiError(_field(kind, index, "content"), "must be a string for a file that is present")
        database = entry.get("database")
        if database is not None and database not in DATABASES:
            raise PkiError(_field(kind, index, "database"), f"{database!r} is not one of {', '.join(DATABASES)}")
        validate = entry.get("validate")
        if validate is not None and (not isinstance(validate, str) or "%s" not in validate):
            raise PkiError(_field(kind, index, "validate"), "must be a command with %s for the file to check")
        checked.append({
            "path": path,
            "content": content,
            "owner": entry.get("owner"),
            "group": entry.get("group"),
            "mode": _mode(entry.get("mode", "0644"), _field(kind, index, "mode")),
            "state": state,
            "create_only": _bool(entry.get("create_only", False), _field(kind, index, "create_only")),
            "secret": secret,
            "validate": validate,
            "database": database,
        })
    return checked


def attributes_differ(path, mode, uid, gid):
    """True when the existing ``path`` has another mode, owner or group than wanted (-1: not wanted)."""
    info = os.lstat(path)
    return stat.S_IMODE(info.st_mode) != mode or uid not in (-1, info.st_uid) or gid not in (-1, info.st_gid)


def plan(entry):
    """What keeping one file entry takes: (write, remove); reads the file, changes nothing."""
    current = _io.read_optional(entry["path"], "files")
    if entry["state"] == "absent":
        return False, current is not None
    if current is None:
        return True, False
    return (not entry["create_only"] and current != entry["content"].encode()), False


def database_stale(entry, written):
    """True when the entry's database must be built: its source was written, or the .db is missing or older."""
    if entry["database"] is None or entry["state"] == "absent":
        return False
    if written:
        return True
    if not os.path.exists(entry["path"]):
        return False
    directory, name = os.path.split(entry["path"])
    return _postfix_maps.stale(directory, name)


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
