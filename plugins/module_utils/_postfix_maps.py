# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Postfix lookup tables kept in one directory: which sources to write, which ``hash:`` databases to rebuild.

A database is rebuilt when its source was written in this call, when it is missing, or when it is older than its
source: a run that died between writing a map and ``postmap`` leaves exactly that, and the next run must not trust
the stale ``.db`` because the source's content happens to be right already.
"""

import os

from ansible_collections.partnermail.links.plugins.module_utils import _io
from ansible_collections.partnermail.links.plugins.module_utils._pki.errors import PkiError


def database(directory, name):
    return os.path.join(directory, name + ".db")


def plan(directory, files, hashed):
    """(names of ``files`` whose content differs, names of ``hashed`` whose ``.db`` must be rebuilt).

    ``files`` is {name: text}; every name of ``hashed`` must be one of them (PkiError names the option).
    """
    unknown = sorted(set(hashed) - set(files))
    if unknown:
        raise PkiError("hash", f"{unknown[0]!r} is not one of the files")
    to_write = _io.plan_file_set(directory, files, exclusive=False)[0]
    return to_write, [name for name in sorted(hashed) if name in to_write or stale(directory, name)]


def stale(directory, name):
    """True when the ``.db`` of ``name`` is missing or older than its source (or the source is missing)."""
    try:
        source = os.stat(os.path.join(directory, name)).st_mtime_ns
        built = os.stat(database(directory, name)).st_mtime_ns
    except FileNotFoundError:
        return True
    return source > built


def rebuild(directory, name, run_command, postmap):
    """Build the ``hash:`` database of ``name`` with ``postmap``; it gets its source's mode and owner.

    ``run_command`` is AnsibleModule.run_command (or anything with its signature): (rc, stdout, stderr).
    """
    source = os.path.join(directory, name)
    rc, _out, err = run_command([postmap, "hash:" + source])
    if rc != 0:
        raise PkiError("hash", f"postmap hash:{source} failed (exit {rc}): {err.strip()}")
    info = os.stat(source)
    os.chmod(database(directory, name), info.st_mode & 0o7777)
    os.chown(database(directory, name), info.st_uid, info.st_gid)
