"""Which Postfix tables a run writes, and which hash databases it rebuilds (module_utils/_postfix_maps.py)."""

import os

import pytest

from ansible_collections.partnermail.links.plugins.module_utils import _io, _postfix_maps
from ansible_collections.partnermail.links.plugins.module_utils._pki.errors import PkiError


def built(directory, name, content, db_age=0):
    """A table and its .db, the .db ``db_age`` seconds older than the source (negative: newer)."""
    (directory / name).write_text(content)
    (directory / f"{name}.db").write_bytes(b"db of " + content.encode())
    source = os.stat(directory / name).st_mtime_ns
    older = source - int(db_age * 10**9)
    os.utime(directory / f"{name}.db", ns=(older, older))


def test_nothing_to_do_when_every_table_and_database_is_current(tmp_path):
    built(tmp_path, "transport", "a.test smtp:\n")
    built(tmp_path, "tls_policy", "a.test secure\n", db_age=-5)
    (tmp_path / "senders.pcre").write_text("/x/ y\n")
    files = {"transport": "a.test smtp:\n", "tls_policy": "a.test secure\n", "senders.pcre": "/x/ y\n"}
    assert _postfix_maps.plan(tmp_path, files, ["transport", "tls_policy"]) == ([], [])


@pytest.mark.parametrize(("case", "prepare", "written", "rebuilt"), [
    ("content changed", lambda d: built(d, "transport", "old\n"), ["transport"], ["transport"]),
    ("no table yet", lambda d: None, ["transport"], ["transport"]),
    ("database missing", lambda d: (d / "transport").write_text("new\n"), [], ["transport"]),
    # A run that died after writing the table and before postmap: the content is right, the .db is not.
    ("database older than its source", lambda d: built(d, "transport", "new\n", db_age=60), [], ["transport"]),
    ("database one nanosecond older", lambda d: built(d, "transport", "new\n", db_age=1e-9), [], ["transport"]),
])
def test_a_table_is_written_when_it_differs_and_its_database_rebuilt_when_stale(
        tmp_path, case, prepare, written, rebuilt):
    prepare(tmp_path)
    assert _postfix_maps.plan(tmp_path, {"transport": "new\n"}, ["transport"]) == (written, rebuilt), case


def test_a_table_that_is_not_hashed_never_needs_a_database(tmp_path):
    assert _postfix_maps.plan(tmp_path, {"senders.pcre": "/x/ y\n"}, []) == (["senders.pcre"], [])


def test_a_hashed_name_must_be_one_of_the_tables(tmp_path):
    with pytest.raises(PkiError) as raised:
        _postfix_maps.plan(tmp_path, {"transport": ""}, ["transport", "relocated"])
    assert raised.value.option == "hash" and "'relocated' is not one of the files" in str(raised.value)


def test_rebuild_runs_postmap_on_the_source_and_gives_the_database_its_mode(tmp_path):
    (tmp_path / "sasl_passwd").write_text("[relay.b.test]:587 a:secret\n")
    os.chmod(tmp_path / "sasl_passwd", 0o600)
    calls = []

    def run_command(argv):
        calls.append(argv)
        (tmp_path / "sasl_passwd.db").write_bytes(b"built")
        os.chmod(tmp_path / "sasl_passwd.db", 0o644)  # what postmap's umask would give
        return 0, "", ""

    _postfix_maps.rebuild(str(tmp_path), "sasl_passwd", run_command, "/usr/sbin/postmap")
    assert calls == [["/usr/sbin/postmap", f"hash:{tmp_path}/sasl_passwd"]]
    assert os.stat(tmp_path / "sasl_passwd.db").st_mode & 0o777 == 0o600


def test_a_failed_postmap_names_the_table_and_says_why(tmp_path):
    (tmp_path / "transport").write_text("bad\n")
    with pytest.raises(PkiError) as raised:
        _postfix_maps.rebuild(str(tmp_path), "transport", lambda argv: (1, "", "postmap: fatal: bad entry\n"), "pm")
    assert raised.value.option == "hash"
    assert str(raised.value) == f"hash: postmap hash:{tmp_path}/transport failed (exit 1): postmap: fatal: bad entry"


def test_a_mode_is_octal_text_or_a_number_and_anything_else_names_the_option():
    assert _io.octal_mode("0640") == 0o640 and _io.octal_mode(0o600) == 0o600
    for bad in ("rw-r--r--", "0968", None):
        with pytest.raises(PkiError) as raised:
            _io.octal_mode(bad)
        assert raised.value.option == "mode" and f"{bad!r} is not an octal mode" in str(raised.value)
