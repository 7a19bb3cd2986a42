"""partnermail.links.postfix_maps and partnermail.links.dovecot_passwd, run as modules on localhost.

This host has no Postfix: postmap is a small program of the test's own on the module's PATH that records its
calls and writes the .db as a copy of the table. Real postmap and real Postfix lookups are molecule's
(test_lifecycle.py: a stale .db rebuilt, a run dying before postmap put back, a removed partner gone from the .db).
"""

import os
import shutil
import stat

import pytest

from ansible_collections.partnermail.links.plugins.module_utils import _passwd

from .playbook_runner import run_module

POSTMAP = """#!/bin/sh
echo "$1" >> "$(dirname "$0")/calls"
source=${1#hash:}
cp "$source" "$source.db"
"""


def postmap_path(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "postmap").write_text(POSTMAP)
    os.chmod(bin_dir / "postmap", 0o700)
    return f"{bin_dir}:{os.environ['PATH']}", bin_dir / "calls"


def maps(target, **extra):
    return {"path": str(target), "files": {"transport": "b.test partner:[mx.b.test]\n", "senders.pcre": "/x/ y\n"},
            "secret_files": {"sasl_passwd": "[mx.b.test] a:Very-Secret-1\n"}, "hash": ["transport", "sasl_passwd"],
            **extra}


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_writes_the_tables_builds_their_databases_and_is_idempotent(tmp_path):
    path, calls = postmap_path(tmp_path)
    target = tmp_path / "maps"
    first = run_module("partnermail.links.postfix_maps", maps(target), path=path)
    assert first["changed"] is True
    assert first["written"] == ["sasl_passwd", "senders.pcre", "transport"]
    assert first["rebuilt"] == ["sasl_passwd", "transport"]
    assert (target / "transport.db").read_text() == "b.test partner:[mx.b.test]\n"
    assert mode(target / "transport") == 0o644 and mode(target / "transport.db") == 0o644
    # The password table and its database are the owner's only.
    assert mode(target / "sasl_passwd") == 0o600 and mode(target / "sasl_passwd.db") == 0o600
    assert "Very-Secret-1" not in str(first)

    again = run_module("partnermail.links.postfix_maps", maps(target), path=path)
    assert again["changed"] is False and again["written"] == [] and again["rebuilt"] == []
    assert calls.read_text().split() == [f"hash:{target}/sasl_passwd", f"hash:{target}/transport"]


def test_a_database_older_than_its_table_is_rebuilt_though_the_table_is_right(tmp_path):
    path, _calls = postmap_path(tmp_path)
    target = tmp_path / "maps"
    run_module("partnermail.links.postfix_maps", maps(target), path=path)
    (target / "transport.db").write_text("stale\n")
    table = os.stat(target / "transport").st_mtime_ns
    os.utime(target / "transport.db", ns=(table - 10**9, table - 10**9))
    result = run_module("partnermail.links.postfix_maps", maps(target), path=path)
    assert result["changed"] is True and result["written"] == [] and result["rebuilt"] == ["transport"]
    assert (target / "transport.db").read_text() == "b.test partner:[mx.b.test]\n"


def test_check_mode_and_diff_show_the_tables_but_never_a_password(tmp_path):
    path, calls = postmap_path(tmp_path)
    target = tmp_path / "maps"
    result = run_module("partnermail.links.postfix_maps", maps(target), check=True, diff=True, path=path)
    assert result["changed"] is True and result["rebuilt"] == ["sasl_passwd", "transport"]
    assert not target.exists() and not calls.exists()
    diffs = {diff["after_header"]: diff["after"] for diff in result["diff"]}
    assert diffs[f"{target}/transport"] == "b.test partner:[mx.b.test]\n"
    assert diffs[f"{target}/sasl_passwd"] == "(holds passwords: its content is not shown)\n"
    assert "Very-Secret-1" not in str(result)


@pytest.mark.skipif(shutil.which("postmap", path="/usr/sbin:/sbin:/usr/local/sbin:/usr/bin:/bin") is not None,
                    reason="this host has a postmap of its own")
def test_without_postmap_the_tables_are_refused_before_anything_is_written(tmp_path):
    target = tmp_path / "maps"
    result = run_module("partnermail.links.postfix_maps", maps(target), path="/usr/bin:/bin")
    assert result["failed"] is True and result["option"] == "hash"
    assert "postmap was not found, so the databases of sasl_passwd, transport cannot be built" in result["msg"]
    assert not target.exists()


def test_a_failing_postmap_fails_the_task_naming_the_table(tmp_path):
    path, _calls = postmap_path(tmp_path)
    (tmp_path / "bin" / "postmap").write_text("#!/bin/sh\necho 'postmap: fatal: bad entry' >&2\nexit 1\n")
    result = run_module("partnermail.links.postfix_maps", maps(tmp_path / "maps"), path=path)
    assert result["failed"] is True
    assert f"postmap hash:{tmp_path}/maps/sasl_passwd failed (exit 1): postmap: fatal: bad entry" in result["msg"]


def test_a_table_named_twice_is_refused(tmp_path):
    args = maps(tmp_path / "maps") | {"files": {"sasl_passwd": "x\n"}}
    result = run_module("partnermail.links.postfix_maps", args)
    assert result["failed"] is True and result["option"] == "secret_files"
    assert "'sasl_passwd' is also one of the files" in result["msg"]


USERS = [{"username": "b-test", "password": "In-From-B-secret-1"}, {"username": "c-test", "password": "In-C-secret-2"}]


def test_the_password_file_keeps_verifying_hashes_and_rehashes_only_a_changed_password(tmp_path):
    target = tmp_path / "users"
    args = {"path": str(target), "users": USERS, "group": "root", "mode": "0640"}
    first = run_module("partnermail.links.dovecot_passwd", args)
    assert first["changed"] is True and first["users"] == 2
    assert mode(target) == 0o640
    lines = _passwd.parse_passwd_file(target.read_text())
    assert sorted(lines) == ["b-test", "c-test"]
    assert _passwd.verifies("In-From-B-secret-1", lines["b-test"][1])
    assert "In-From-B-secret-1" not in str(first)

    assert run_module("partnermail.links.dovecot_passwd", args)["changed"] is False

    changed = [USERS[0] | {"password": "In-From-B-secret-NEW"}]
    result = run_module("partnermail.links.dovecot_passwd", args | {"users": changed}, diff=True)
    assert result["changed"] is True
    assert result["diff"]["after"] == "(holds password hashes: the content is not shown)\n"
    after = _passwd.parse_passwd_file(target.read_text())
    assert sorted(after) == ["b-test"] and _passwd.verifies("In-From-B-secret-NEW", after["b-test"][1])


def test_the_password_file_in_check_mode_changes_nothing(tmp_path):
    target = tmp_path / "users"
    result = run_module("partnermail.links.dovecot_passwd", {"path": str(target), "users": USERS}, check=True)
    assert result["changed"] is True and not target.exists()


def test_a_bad_login_is_refused_naming_the_field(tmp_path):
    target = tmp_path / "users"
    result = run_module("partnermail.links.dovecot_passwd",
                        {"path": str(target), "users": [{"username": "bad name", "password": "x"}]})
    assert result["failed"] is True and result["option"] == "users[0].username"
    # The logins are hidden from the output (no_log), the user's name too: the entry is named by its place.
    assert result["msg"] == "users[0].username: not a login name (1 to 64 of A-Z a-z 0-9 . _ @ -)", result["msg"]
    assert not target.exists()
