# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The run's snapshot of every file it manages: taken before the first change, put back whole when the run fails.

The archive is a tar file whose first member is a manifest: each managed path, and whether it existed. Restoring
makes every path what it was: files and directory trees come back with their content, owner, mode and mtime (the
mtime matters: a map's ``.db`` is rebuilt when it is older than its source), and a path that did not exist is
removed. Nothing is removed before the whole archive has been read back.
"""

import hashlib
import io
import json
import os
import shutil
import stat
import tarfile
import time

MANIFEST = ".partnermail-snapshot.json"
FORMAT = 1


class SnapshotError(Exception):
    """A snapshot that cannot be taken or restored; the message names the path."""


def _arcname(path):
    return path.lstrip("/")


def _check_paths(paths):
    for path in paths:
        if not os.path.isabs(path) or os.path.normpath(path) != path or path == "/":
            raise SnapshotError(f"paths: {path!r} must be a normalised absolute path below /")
    for path in paths:
        for other in paths:
            if other != path and path.startswith(other.rstrip("/") + "/"):
                raise SnapshotError(f"paths: {path} is inside {other}, list it once")


def read_manifest(archive):
    """The manifest of an existing archive, or None when there is none."""
    if not os.path.exists(archive):
        return None
    try:
        with tarfile.open(archive, "r:") as tar:
            member = tar.next()
            if member is None or member.name != MANIFEST:
                raise SnapshotError(f"{archive} is not a partnermail snapshot (no manifest)")
            manifest = json.loads(tar.extractfile(member).read())
    except (tarfile.TarError, OSError, ValueError) as exc:
        raise SnapshotError(f"{archive} cannot be read: {exc}") from None
    if manifest.get("format") != FORMAT:
        raise SnapshotError(f"{archive} has snapshot format {manifest.get('format')!r}, not {FORMAT}")
    return manifest


def take(archive, paths, now=None):
    """Write the snapshot of ``paths`` to ``archive`` (0600, its directory 0700) and return its manifest.

    The archive is written beside its final name and renamed, so a crash never leaves half an archive.
    """
    _check_paths(paths)
    manifest = {
        "format": FORMAT,
        "taken": int(time.time() if now is None else now),
        "paths": {path: os.path.lexists(path) for path in paths},
    }
    directory = os.path.dirname(archive)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    partial = archive + ".partial"
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle, tarfile.open(fileobj=handle, mode="w:", format=tarfile.PAX_FORMAT) as tar:
            data = json.dumps(manifest, sort_keys=True).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mode, info.mtime = len(data), 0o600, manifest["taken"]
            tar.addfile(info, io.BytesIO(data))
            for path, existed in manifest["paths"].items():
                if existed:
                    tar.add(path, arcname=_arcname(path), recursive=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.rename(partial, archive)
    except OSError as exc:
        if os.path.exists(partial):
            os.unlink(partial)
        raise SnapshotError(f"cannot write the snapshot {archive}: {exc}") from None
    return manifest


def _remove(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)


def _belongs(member, path):
    rel = _arcname(path)
    if member.name.startswith("/") or os.path.normpath(member.name) != member.name:
        return False
    return member.name == rel or member.name.startswith(rel + "/")


def _entry(kind, mode, uid, gid, mtime=None, digest=None, link=None):
    return (kind, stat.S_IMODE(mode), uid, gid, None if mtime is None else int(mtime), digest, link)


def _archived(tar, members):
    """Each member as an entry comparable with _current's (directories without their mtime)."""
    found = {}
    for member in members:
        if member.isdir():
            found[member.name] = _entry("dir", member.mode, member.uid, member.gid)
        elif member.issym():
            found[member.name] = _entry("link", 0, member.uid, member.gid, link=member.linkname)
        elif member.isfile():
            digest = hashlib.sha256(tar.extractfile(member).read()).hexdigest()
            found[member.name] = _entry("file", member.mode, member.uid, member.gid, member.mtime, digest)
        else:
            found[member.name] = ("other", member.name)
    return found


def _current(paths):
    """What the recorded paths hold now, in the same form (hard links count as files)."""
    found = {}

    def add(path):
        info = os.lstat(path)
        name = _arcname(path)
        if stat.S_ISLNK(info.st_mode):
            found[name] = _entry("link", 0, info.st_uid, info.st_gid, link=os.readlink(path))
        elif stat.S_ISDIR(info.st_mode):
            found[name] = _entry("dir", info.st_mode, info.st_uid, info.st_gid)
        elif stat.S_ISREG(info.st_mode):
            with open(path, "rb") as handle:
                digest = hashlib.sha256(handle.read()).hexdigest()
            found[name] = _entry("file", info.st_mode, info.st_uid, info.st_gid, info.st_mtime, digest)
        else:
            found[name] = ("other", name)

    for path in paths:
        if not os.path.lexists(path):
            continue
        add(path)
        if os.path.isdir(path) and not os.path.islink(path):
            for root, dirs, files in os.walk(path):
                for name in sorted(dirs) + sorted(files):
                    add(os.path.join(root, name))
    return found


def differs(archive):
    """True when any recorded path is not what the snapshot holds (content, kind, mode, owner, a file's mtime)."""
    manifest = read_manifest(archive)
    if manifest is None:
        return False
    with tarfile.open(archive, "r:") as tar:
        members = [member for member in tar.getmembers() if member.name != MANIFEST]
        # A hard link in the archive (none of ours has one) never compares equal: it is restored, to be safe.
        return _archived(tar, members) != _current(manifest["paths"])


def restore(archive):
    """Put every path of the snapshot back as it was; return the manifest (None when there is no snapshot)."""
    manifest = read_manifest(archive)
    if manifest is None:
        return None
    with tarfile.open(archive, "r:") as tar:
        members = [member for member in tar.getmembers() if member.name != MANIFEST]
        stray = [m.name for m in members if not any(_belongs(m, path) for path in manifest["paths"])]
        if stray:
            raise SnapshotError(f"{archive} holds {stray[0]}, which is none of its paths; nothing was restored")
        for path in manifest["paths"]:
            _remove(path)
        # numeric_owner: the owners come back by number, as they were, whatever the names say today.
        options = {"filter": "fully_trusted"} if hasattr(tarfile, "fully_trusted_filter") else {}
        # The archive is our own (root's, 0600) and every member was checked to lie inside a recorded path.
        tar.extractall("/", members=members, numeric_owner=True, **options)  # noqa: S202
    return manifest


def drop(archive):
    """Remove the snapshot (the run finished); True when there was one."""
    if not os.path.lexists(archive):
        return False
    os.unlink(archive)
    return True
