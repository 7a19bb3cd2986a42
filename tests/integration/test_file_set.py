"""partnermail.links.file_set: one call makes a directory hold exactly the given files."""

import os
import stat

import pytest

from ansible_collections.partnermail.links.plugins.module_utils import _io
from ansible_collections.partnermail.links.plugins.module_utils._pki.errors import PkiError

from .playbook_runner import run_module


def test_writes_removes_and_is_idempotent(tmp_path):
    target = tmp_path / "trust"
    first = run_module("partnermail.links.file_set", {"path": str(target), "files": {"a.pem": "A\n", "b.pem": "B\n"}})
    assert first["changed"] is True and first["written"] == ["a.pem", "b.pem"]
    assert (target / "a.pem").read_text() == "A\n"
    assert stat.S_IMODE(os.stat(target / "b.pem").st_mode) == 0o644

    again = run_module("partnermail.links.file_set", {"path": str(target), "files": {"a.pem": "A\n", "b.pem": "B\n"}})
    assert again["changed"] is False and again["written"] == [] and again["removed"] == []

    (target / ".keep").write_text("hidden files are not ours")
    shrink = run_module("partnermail.links.file_set", {"path": str(target), "files": {"b.pem": "B2\n"}})
    assert shrink["changed"] is True and shrink["written"] == ["b.pem"] and shrink["removed"] == ["a.pem"]
    assert sorted(os.listdir(target)) == [".keep", "b.pem"]


def test_check_mode_reports_and_writes_nothing(tmp_path):
    result = run_module("partnermail.links.file_set", {"path": str(tmp_path), "files": {"x.pem": "X"}}, check=True)
    assert result["changed"] is True and result["written"] == ["x.pem"]
    assert os.listdir(tmp_path) == []


def test_diff_shows_each_file_written_and_removed(tmp_path):
    (tmp_path / "old.pem").write_text("OLD\n")
    (tmp_path / "same.pem").write_text("SAME\n")
    (tmp_path / "changed.pem").write_text("BEFORE\n")
    files = {"same.pem": "SAME\n", "changed.pem": "AFTER\n", "new.pem": "NEW\n"}
    result = run_module("partnermail.links.file_set", {"path": str(tmp_path), "files": files}, check=True, diff=True)
    diffs = {(d["before_header"], d["after_header"]): (d["before"], d["after"]) for d in result["diff"]}
    assert diffs == {
        (f"{tmp_path}/changed.pem", f"{tmp_path}/changed.pem"): ("BEFORE\n", "AFTER\n"),
        ("/dev/null", f"{tmp_path}/new.pem"): ("", "NEW\n"),
        (f"{tmp_path}/old.pem", "/dev/null"): ("OLD\n", ""),
    }
    # Check mode with diff still writes nothing.
    assert (tmp_path / "changed.pem").read_text() == "BEFORE\n" and (tmp_path / "old.pem").exists()


@pytest.mark.parametrize("name", ["../escape.pem", "sub/../x.pem", "/abs.pem", "sub//x.pem", "sub/.hidden",
                                  ".hidden", "", " spaced"])
def test_names_must_be_plain(tmp_path, name):
    with pytest.raises(PkiError) as err:
        _io.plan_file_set(str(tmp_path), {name: "x"})
    assert err.value.option == "files"
    result = run_module("partnermail.links.file_set", {"path": str(tmp_path), "files": {name or "": "x"}})
    assert result["failed"] is True and "files" in result["msg"]
    assert os.listdir(tmp_path) == []


def test_not_exclusive_keeps_other_files(tmp_path):
    (tmp_path / "other.pem").write_text("O")
    result = run_module("partnermail.links.file_set", {"path": str(tmp_path), "files": {"a.pem": "A"},
                                                       "exclusive": False})
    assert result["removed"] == []
    assert sorted(os.listdir(tmp_path)) == ["a.pem", "other.pem"]


def test_relative_paths_make_a_tree_and_exclusive_covers_its_directories(tmp_path):
    files = {"__init__.py": "", "pkg/__init__.py": "", "pkg/mod.py": "X = 1\n"}
    first = run_module("partnermail.links.file_set", {"path": str(tmp_path), "files": files})
    assert first["changed"] is True and first["written"] == sorted(files)
    assert (tmp_path / "pkg" / "mod.py").read_text() == "X = 1\n"
    assert stat.S_IMODE(os.stat(tmp_path / "pkg").st_mode) == 0o755
    (tmp_path / "pkg" / "stale.py").write_text("old")
    (tmp_path / "pkg" / "__pycache__").mkdir()
    (tmp_path / "pkg" / "__pycache__" / "mod.cpython-313.pyc").write_text("compiled")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "kept.py").write_text("not in a directory of ours")
    again = run_module("partnermail.links.file_set", {"path": str(tmp_path), "files": files})
    assert again["changed"] is True and again["written"] == [] and again["removed"] == ["pkg/stale.py"]
    assert (tmp_path / "pkg" / "__pycache__" / "mod.cpython-313.pyc").exists()
    assert (tmp_path / "other" / "kept.py").exists()
    quiet = run_module("partnermail.links.file_set", {"path": str(tmp_path), "files": files})
    assert quiet["changed"] is False
