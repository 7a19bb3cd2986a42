"""Atomic file writes and the JSON state file.

The collection's one atomic write (``module_utils/_io`` uses it too): it lives here because the check program
runs with this directory alone, and nothing here may import from the rest of the collection.
"""

import json
import os
import tempfile


def write_atomic(path, data, mode=0o644, uid=-1, gid=-1):
    """Replace ``path`` with ``data`` (bytes): a temporary file in the same directory, fsync, chown, chmod, rename.

    A reader (the node exporter, the next run) sees the old file or the new one, never half of one. The
    temporary file is 0600 from mkstemp until the chmod, so a private key is never readable by others; it gets its
    owner (``uid``, ``gid``; -1 keeps the writer's) before the rename, so a reader in the file's group (Dovecot,
    reading a password file) is never locked out either.
    """
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if uid != -1 or gid != -1:
            os.chown(tmp, uid, gid)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def load_state(path):
    """The JSON object saved at ``path``; {} when there is none, or when it is unreadable as JSON.

    A damaged state file costs one re-read of the log (the counters restart, which Prometheus handles),
    never a failed check.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            state = json.load(handle)
    except FileNotFoundError:
        return {}
    except (ValueError, UnicodeDecodeError):
        return {}
    return state if isinstance(state, dict) else {}


def save_state(path, state):
    write_atomic(path, (json.dumps(state, sort_keys=True, separators=(",", ":")) + "\n").encode(), mode=0o600)
