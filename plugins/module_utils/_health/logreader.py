"""Read only what was appended to a log file since the last run.

The saved position is ``{"inode", "device", "offset", "head", "head_length"}``: the file's identity, how many
bytes of it were consumed (whole lines only), and a SHA-256 of its first bytes (up to HEAD_BYTES), which tells
a file that was truncated and written again from one that merely grew.

- Same file, grown: read from ``offset``.
- Same inode but shorter than ``offset``, or its first bytes changed: truncated (copytruncate), or deleted and
  made again with the inode reused; read from 0 after the rest of the old file, if a rotated copy holds it.
- Another inode: rotated. The rest of the old file is read first, from a file next to the log whose name starts
  with the log's name and a dot (``mail.log.1`` from logrotate, ``mail.log.20261201-100000`` from ``postfix
  logrotate``, either compressed as ``.gz``) and whose first bytes hash the same - the saved inode is tried
  first. Then the new file from 0. When the old file is not found, ``events`` says so. The same search runs
  for a truncated file (copytruncate leaves a copy) and for an inode the file system gave to the new log.

A line is consumed only with its newline: one being written as we read is left for the next run, except at the
end of a rotated file, which nothing writes any more. Memory stays bounded by CHUNK plus MAX_LINE: longer
lines are skipped.
"""

import gzip
import hashlib
import os

CHUNK = 1 << 20
MAX_LINE = 64 << 10
HEAD_BYTES = 256


def _head(handle, length):
    handle.seek(0)
    data = handle.read(length)
    return hashlib.sha256(data).hexdigest(), len(data)


class LogReader:
    """``lines()`` yields the new lines (bytes, no newline); afterwards ``state`` is the position to save.

    ``state``: what ``state`` held after the previous run, or None. ``from_end``: with no saved state, start
    at the end of the file (skip its history) instead of reading all of it. ``history_bytes``: with no saved
    state, read at most this much of the file's end (from the first whole line in it); 0 reads all of it.
    """

    def __init__(self, path, state=None, from_end=False, history_bytes=0):
        self.path = path
        self.history_bytes = max(0, int(history_bytes))
        self.saved = state if isinstance(state, dict) and "inode" in state else None
        self.from_end = from_end
        self.state = self.saved
        self.events = []
        self.bytes_read = 0

    def lines(self):
        saved = self.saved
        try:
            handle = open(self.path, "rb")
        except FileNotFoundError:
            self.events.append(f"{self.path} does not exist")
            if saved is not None and saved["inode"] is not None:
                yield from self._rotated(same_inode=False)
            # Whatever file appears next is new: read it from the start, even with from_end.
            self.state = {"inode": None}
            return
        with handle:
            info = os.fstat(handle.fileno())
            start = self._start(handle, info)
            if start is None:
                yield from self._rotated(same_inode=self._identity(info) == (saved["inode"], saved.get("device")))
            yield from self._read(handle, info, start or 0)

    @staticmethod
    def _identity(info):
        return info.st_ino, info.st_dev

    def _start(self, handle, info):
        """Where to read the current file from; None when it is not the saved file grown."""
        saved = self.saved
        if saved is None:
            if self.from_end:
                return info.st_size
            if self.history_bytes and info.st_size > self.history_bytes:
                return self._line_start(handle, info.st_size - self.history_bytes)
            return 0
        if saved["inode"] is None:
            return 0
        if self._identity(info) != (saved["inode"], saved.get("device")):
            return None
        offset = int(saved.get("offset", 0))
        if info.st_size < offset or not self._same_head(handle):
            return None
        return offset

    def _line_start(self, handle, pos):
        """The start of the first whole line at or after ``pos`` (the history cut never splits a line)."""
        handle.seek(pos - 1)
        skipped = handle.readline()
        self.events.append(f"{self.path}: no saved position; read only its last {self.history_bytes} bytes")
        return pos - 1 + len(skipped)

    def _same_head(self, handle):
        return _head(handle, int(self.saved.get("head_length", 0)))[0] == self.saved.get("head")

    def _read(self, handle, info, offset):
        handle.seek(offset)
        for line, consumed in _split(handle, final=False):
            offset += consumed
            self.bytes_read += consumed
            yield line
        # The consumed lines are complete; the hash covers the first bytes as they are now.
        head, head_length = _head(handle, HEAD_BYTES)
        self.state = {"inode": info.st_ino, "device": info.st_dev, "offset": offset,
                      "head": head, "head_length": head_length}

    def _candidates(self):
        """Files next to the log named like its rotations: the saved inode first, then newest first."""
        saved = self.saved
        directory = os.path.dirname(os.path.abspath(self.path))
        prefix = os.path.basename(self.path) + "."
        found = []
        try:
            with os.scandir(directory) as entries:
                for entry in entries:
                    if entry.name.startswith(prefix) and entry.is_file(follow_symlinks=False):
                        info = entry.stat(follow_symlinks=False)
                        same = self._identity(info) == (saved["inode"], saved.get("device"))
                        found.append((not same, -info.st_mtime, entry.name))
        except OSError:
            return []
        return [name for _unused, _unused, name in sorted(found)]

    def _rotated(self, same_inode):
        """The rest of the saved file, from a rotated copy next to the log whose first bytes are the same."""
        offset = int(self.saved.get("offset", 0))
        directory = os.path.dirname(os.path.abspath(self.path))
        for name in self._candidates():
            opener = gzip.open if name.endswith(".gz") else open
            try:
                with opener(os.path.join(directory, name), "rb") as handle:
                    if not self._same_head(handle):
                        continue
                    handle.seek(offset)
                    if opener is open and handle.tell() > os.fstat(handle.fileno()).st_size:
                        continue
                    self.events.append(f"{self.path} was rotated: reading the rest of {name}")
                    for line, consumed in _split(handle, final=True):
                        self.bytes_read += consumed
                        yield line
                    return
            except (OSError, EOFError, gzip.BadGzipFile):
                continue
        if same_inode:
            self.events.append(f"{self.path} was truncated or replaced: reading it from the start")
        else:
            self.events.append(f"{self.path} was rotated and the old file was not found: its last lines are lost")


def _split(handle, final):
    """(line, bytes consumed) for each complete line from the handle's position; ``final``: the last line
    without a newline counts too."""
    pending = b""
    skipping = False
    while True:
        chunk = handle.read(CHUNK)
        if not chunk:
            break
        data = pending + chunk if pending else chunk
        parts = data.split(b"\n")
        pending = parts.pop()
        for part in parts:
            if skipping:  # the end of a line that was too long
                skipping = False
                yield b"", len(part) + 1
                continue
            yield part, len(part) + 1
        if len(pending) > MAX_LINE:
            yield b"", len(pending)
            pending = b""
            skipping = True
    if final and pending and not skipping:
        yield pending, len(pending)
