"""_health.logreader: each run reads only the new lines, across rotation, truncation and restarts."""

import gzip
import os

import pytest

from ansible_collections.partnermail.links.plugins.module_utils._health import logreader


def read(path, state=None, **kwargs):
    reader = logreader.LogReader(str(path), state, **kwargs)
    lines = [line.decode() for line in reader.lines()]
    return lines, reader.state, reader.events


def write(path, text, mode="a"):
    with open(path, mode) as handle:
        handle.write(text)


def test_first_run_reads_everything_then_only_what_was_added(tmp_path):
    log = tmp_path / "mail.log"
    write(log, "one\ntwo\n")
    lines, state, events = read(log)
    assert (lines, events) == (["one", "two"], [])
    assert read(log, state)[0] == []
    write(log, "three\n")
    lines, state, _unused = read(log, state)
    assert lines == ["three"] and state["offset"] == len("one\ntwo\nthree\n")


def test_restart_from_saved_state_json_round_trip(tmp_path):
    import json  # noqa: PLC0415 - what check.py does with the state
    log = tmp_path / "mail.log"
    write(log, "one\n")
    _unused, state, _unused = read(log)
    write(log, "two\n")
    assert read(log, json.loads(json.dumps(state)))[0] == ["two"]


def test_a_partial_last_line_waits_for_its_newline(tmp_path):
    log = tmp_path / "mail.log"
    write(log, "one\ntw")
    lines, state, _unused = read(log)
    assert lines == ["one"] and state["offset"] == 4
    assert read(log, state)[0] == []
    write(log, "o\nthr")
    lines, state, _unused = read(log, state)
    assert lines == ["two"]


@pytest.mark.parametrize("rotated_name", ["mail.log.1", "mail.log.20261201-100000"])
def test_rotation_reads_the_rest_of_the_old_file_then_the_new_one(tmp_path, rotated_name):
    log = tmp_path / "mail.log"
    write(log, "one\n")
    _unused, state, _unused = read(log)
    write(log, "two\nlast line without newline")
    os.rename(log, tmp_path / rotated_name)
    write(tmp_path / "mail.log.2", "an older rotation\n")
    write(log, "three\n")
    lines, state, events = read(log, state)
    assert lines == ["two", "last line without newline", "three"]
    assert events == [f"{log} was rotated: reading the rest of {rotated_name}"]
    assert state["inode"] == os.stat(log).st_ino


def test_rotation_and_compression_before_the_next_run(tmp_path):
    # postfix logrotate renames mail.log to mail.log.YYYYMMDD-HHMMSS and gzips it: a new inode.
    log = tmp_path / "mail.log"
    write(log, "one\n")
    _unused, state, _unused = read(log)
    write(log, "two\n")
    with open(log, "rb") as source, gzip.open(tmp_path / "mail.log.20261201-100000.gz", "wb") as target:
        target.write(source.read())
    os.unlink(log)
    write(log, "three\n")
    lines, _unused, events = read(log, state)
    assert lines == ["two", "three"]
    assert "reading the rest of mail.log.20261201-100000.gz" in events[0]


def test_rotated_file_gone(tmp_path):
    log = tmp_path / "mail.log"
    write(log, "one\n")
    _unused, state, _unused = read(log)
    os.rename(log, tmp_path / "elsewhere")  # keeps its inode from being given to the new log
    write(log, "two\n")
    lines, _unused, events = read(log, state)
    assert lines == ["two"]
    assert events == [f"{log} was rotated and the old file was not found: its last lines are lost"]


@pytest.mark.parametrize("other", [
    "another first line\nmore\n",  # other first bytes: another file
    "on",  # the same first bytes, but shorter than what was read
])
def test_a_file_that_is_not_the_rest_of_ours_is_not_read(tmp_path, other):
    log = tmp_path / "mail.log"
    write(log, "one\n")
    _unused, state, _unused = read(log)
    write(tmp_path / "mail.log.1", other)
    os.rename(log, tmp_path / "elsewhere")
    write(log, "two\n")
    assert read(log, state)[0] == ["two"]


def test_copytruncate_reads_the_rest_from_the_copy(tmp_path):
    log = tmp_path / "mail.log"
    write(log, "one\n")
    _unused, state, _unused = read(log)
    write(log, "two\n")
    write(tmp_path / "mail.log.1", log.read_text())
    write(log, "three\n", mode="w")  # truncated in place, then written again
    lines, _unused, events = read(log, state)
    assert lines == ["two", "three"]
    assert events == [f"{log} was rotated: reading the rest of mail.log.1"]


@pytest.mark.parametrize("rewrite", [
    "new\n",  # copytruncate, then less than before
    "a different first line, longer than what was read before\nmore\n",  # then more than before
])
def test_truncation_reads_from_the_start(tmp_path, rewrite):
    log = tmp_path / "mail.log"
    write(log, "one\ntwo\n")
    _unused, state, _unused = read(log)
    write(log, rewrite, mode="r+")  # same inode, rewritten from the start
    with open(log, "r+") as handle:
        handle.truncate(len(rewrite))
    lines, _unused, events = read(log, state)
    assert lines == rewrite.splitlines()
    assert events == [f"{log} was truncated or replaced: reading it from the start"]


def test_missing_log_then_a_new_one_is_read_from_the_start_even_with_from_end(tmp_path):
    log = tmp_path / "mail.log"
    lines, state, events = read(log, from_end=True)
    assert lines == [] and events == [f"{log} does not exist"]
    write(log, "one\n")
    assert read(log, state, from_end=True)[0] == ["one"]


def test_from_end_skips_the_history_on_the_first_run_only(tmp_path):
    log = tmp_path / "mail.log"
    write(log, "old\n")
    lines, state, _unused = read(log, from_end=True)
    assert lines == []
    write(log, "new\n")
    assert read(log, state, from_end=True)[0] == ["new"]


def test_reads_in_chunks_and_skips_overlong_lines(tmp_path, monkeypatch):
    monkeypatch.setattr(logreader, "CHUNK", 7)
    monkeypatch.setattr(logreader, "MAX_LINE", 10)
    log = tmp_path / "mail.log"
    write(log, "short\n" + "x" * 50 + "\nafter\n")
    lines, state, _unused = read(log)
    assert [line for line in lines if line] == ["short", "after"]
    assert state["offset"] == os.path.getsize(log)


def test_a_garbage_state_reads_from_the_start(tmp_path):
    log = tmp_path / "mail.log"
    write(log, "one\n")
    assert read(log, {"something": "else"})[0] == ["one"]


def test_deleted_and_made_again(tmp_path):
    # The file system may give the new log the old inode: then it looks truncated; either way it is read whole.
    log = tmp_path / "mail.log"
    write(log, "one\n")
    _unused, state, _unused = read(log)
    os.unlink(log)
    write(log, "a new log\n")
    lines, _unused, events = read(log, state)
    assert lines == ["a new log"]
    assert events in ([f"{log} was truncated or replaced: reading it from the start"],
                      [f"{log} was rotated and the old file was not found: its last lines are lost"])


@pytest.mark.parametrize(("history", "expected"), [
    (0, ["first line", "second", "third line", "4th"]),
    (100, ["first line", "second", "third line", "4th"]),
    (15, ["third line", "4th"]),  # the cut falls inside "second": that line is skipped whole
    (15 + len("second\n"), ["second", "third line", "4th"]),  # the cut right at a line start keeps it
    (4, ["4th"]),
])
def test_a_first_run_reads_only_the_end_of_a_large_log(tmp_path, history, expected):
    log = tmp_path / "mail.log"
    write(log, "first line\nsecond\nthird line\n4th\n")
    lines, state, events = read(log, history_bytes=history)
    assert lines == expected
    assert state["offset"] == log.stat().st_size
    assert bool(events) is (0 < history < log.stat().st_size)
    write(log, "fifth\n")
    assert read(log, state, history_bytes=history)[0] == ["fifth"]  # a saved position ignores the limit
