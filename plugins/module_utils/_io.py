# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""File access for the modules: reads that name the option at fault, atomic writes that never expose a secret."""

import grp
import os
import pwd

from ansible_collections.partnermail.links.plugins.module_utils._health import files as _files
from ansible_collections.partnermail.links.plugins.module_utils._pki.errors import PkiError


def read_optional(path, option):
    """The file's bytes, or None when it does not exist. Anything else unreadable is the option's error."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise PkiError(option, f"{path} is a directory, not a file") from None
    except OSError as exc:
        raise PkiError(option, f"cannot read {path}: {exc.strerror}") from None


def read_required(path, option):
    data = read_optional(path, option)
    if data is None:
        raise PkiError(option, f"{path} does not exist")
    return data


def check_writable_parent(path, option, missing_ok=False):
    """Fail before any work when the file could not be written at all.

    ``missing_ok``: a parent directory that does not exist yet is no error (check mode, where the task that would
    make it changed nothing).
    """
    parent = os.path.dirname(os.path.abspath(path)) or "."
    if not os.path.isdir(parent) and not (missing_ok and not os.path.exists(parent)):
        raise PkiError(option, f"directory {parent} does not exist")
    if os.path.isdir(path):
        raise PkiError(option, f"{path} is a directory, not a file")


def write_atomic(path, data, mode=0o600, uid=-1, gid=-1):
    """Write ``data`` to ``path`` through a temporary file in the same directory and a rename.

    The temporary file is created with ``mode`` already applied (mkstemp creates it 0600 at
    most), so a private key is never readable by others, not even for an instant, and a crash
    leaves either the old file or the new one, never a half-written one. The one implementation is
    the health check's (``_health.files``), which must stand alone on the MTA.
    """
    _files.write_atomic(path, data, mode, uid, gid)


def octal_mode(value):
    """The number of a file mode given as an octal string ("0644") or a number; PkiError names the option."""
    try:
        return int(value, 8) if isinstance(value, str) else int(value)
    except (TypeError, ValueError):
        raise PkiError("mode", f"{value!r} is not an octal mode") from None


def owner_ids(owner, group):
    """(uid, gid) of the names or numbers ``owner`` and ``group``; -1 for one not given. PkiError names the option."""
    def resolve(value, option, lookup, field):
        if value is None or value == "":
            return -1
        if str(value).isdigit():
            return int(value)
        try:
            return getattr(lookup(str(value)), field)
        except KeyError:
            raise PkiError(option, f"{option} {value!r} does not exist on this host") from None

    return resolve(owner, "owner", pwd.getpwnam, "pw_uid"), resolve(group, "group", grp.getgrnam, "gr_gid")


def file_set_diff(directory, files, to_write, to_remove):
    """Ansible's diff (a list of before/after dicts) of what writing ``to_write`` and removing ``to_remove`` does."""
    diffs = []
    for name in to_write:
        current = read_optional(os.path.join(directory, name), "files")
        diffs.append({
            "before_header": os.path.join(directory, name) if current is not None else "/dev/null",
            "after_header": os.path.join(directory, name),
            "before": current.decode("utf-8", "replace") if current is not None else "",
            "after": files[name],
        })
    for name in to_remove:
        current = read_optional(os.path.join(directory, name), "files") or b""
        diffs.append({
            "before_header": os.path.join(directory, name),
            "after_header": "/dev/null",
            "before": current.decode("utf-8", "replace"),
            "after": "",
        })
    return diffs


def _relative_name(name):
    """True for a file name, or a relative path of plain names ("pkg/mod.py"): no empty, hidden or ".." part."""
    if not isinstance(name, str) or not name or name != name.strip():
        return False
    return all(part and not part.startswith(".") and part == part.strip() for part in name.split("/"))


def plan_file_set(directory, files, exclusive=True):
    """What makes ``directory`` hold exactly ``files`` ({name: text}): (names to write, names to remove).

    Names are file names or relative paths of plain names (``pkg/mod.py``; not hidden, no ``..``); PkiError names
    the option otherwise. ``exclusive`` removes the other plain, not hidden files of ``directory`` and of every
    subdirectory that holds a file of ``files``; other subdirectories are left alone.
    """
    for name in files:
        if not _relative_name(name):
            raise PkiError("files", f"{name!r} is not a plain file name or relative path")
    dirs = {os.path.dirname(name) for name in files} | {""}
    present = set()
    for sub in sorted(dirs):
        where = os.path.join(directory, sub) if sub else directory
        if os.path.isdir(where):
            present |= {os.path.join(sub, entry.name) if sub else entry.name for entry in os.scandir(where)
                        if entry.is_file() and not entry.name.startswith(".")}
    to_write = []
    for name in sorted(files):
        current = read_optional(os.path.join(directory, name), "files")
        if current != files[name].encode():
            to_write.append(name)
    to_remove = sorted(present - set(files)) if exclusive else []
    return to_write, to_remove
