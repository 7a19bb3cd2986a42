"""partnermail.links.run_snapshot: every managed path comes back exactly as it was before the run."""

import io
import os
import stat
import tarfile

import pytest

from ansible_collections.partnermail.links.plugins.module_utils import _snapshot

from .playbook_runner import run_module

MODULE = "partnermail.links.run_snapshot"


@pytest.fixture
def tree(tmp_path):
    """A map directory with a map, its .db and a trust anchor; a main.cf; a password file not created yet."""
    maps = tmp_path / "etc" / "partnermail"
    (maps / "trust").mkdir(parents=True)
    (maps / "transport").write_text("b.test partner:[mx.b.test]:2525\n")
    (maps / "transport.db").write_bytes(b"DB1")
    os.utime(maps / "transport", (1_700_000_000, 1_700_000_000))
    os.utime(maps / "transport.db", (1_700_000_100, 1_700_000_100))
    (maps / "trust" / "b.pem").write_text("B CA\n")
    (maps / "sasl_passwd").write_text("[mx.b.test]:2525 a:secret\n")
    os.chmod(maps / "sasl_passwd", 0o600)
    os.chown(maps / "sasl_passwd", 0, 4321)
    os.symlink("transport", maps / "transport.link")
    main_cf = tmp_path / "etc" / "main.cf"
    main_cf.write_text("myhostname = mx.a.test\n")
    return {"maps": maps, "main_cf": main_cf, "users": tmp_path / "etc" / "users",
            "archive": tmp_path / "var" / "run-snapshot.tar"}


def _paths(tree):
    return [str(tree["maps"]), str(tree["main_cf"]), str(tree["users"])]


def _state(root):
    """Every entry below root: kind, content or link target, mode, owner and mtime."""
    found = {}
    for path in sorted(root.rglob("*")):
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode):
            body = ("link", os.readlink(path))
        elif stat.S_ISDIR(info.st_mode):
            body = ("dir", None)
        else:
            body = ("file", path.read_bytes())
        found[str(path.relative_to(root))] = (body, stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid,
                                              int(info.st_mtime) if body[0] == "file" else None)
    return found


def test_a_failed_run_is_put_back_exactly(tree, tmp_path):
    etc = tmp_path / "etc"
    before = _state(etc)
    taken = run_module(MODULE, {"path": str(tree["archive"]), "paths": _paths(tree)})
    assert taken["changed"] is True and taken["kept"] is False and taken["taken"] > 0
    assert stat.S_IMODE(os.stat(tree["archive"]).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tree["archive"].parent).st_mode) == 0o700

    # What a run does before it fails: rewrite a map (its .db newer), add a partner's anchor, remove another,
    # change a mode and an owner, replace main.cf, create the password file.
    maps = tree["maps"]
    (maps / "transport").write_text("c.test partner:[mx.c.test]:2525\n")
    (maps / "transport.db").write_bytes(b"DB2")
    (maps / "trust" / "c.pem").write_text("C CA\n")
    (maps / "trust" / "b.pem").unlink()
    os.chmod(maps / "sasl_passwd", 0o644)
    os.chown(maps / "sasl_passwd", 0, 0)
    tree["main_cf"].write_text("# Managed by partnermail.links\n")
    tree["users"].write_text("b-test:{SHA512-CRYPT}x\n")
    assert _state(etc) != before

    restored = run_module(MODULE, {"path": str(tree["archive"]), "state": "restored"})
    assert restored["changed"] is True and restored["restored"] == sorted(_paths(tree))
    assert _state(etc) == before
    assert not tree["users"].exists()
    assert not tree["archive"].exists()

    # Restoring again finds no snapshot and changes nothing.
    again = run_module(MODULE, {"path": str(tree["archive"]), "state": "restored"})
    assert again["changed"] is False and again["restored"] == []
    assert _state(etc) == before


def test_the_snapshot_of_a_run_that_did_not_finish_is_replaced(tree):
    run_module(MODULE, {"path": str(tree["archive"]), "paths": _paths(tree)})
    # Later runs completed their own changes; restoring the old archive would undo them too.
    tree["main_cf"].write_text("written by a later run\n")
    second = run_module(MODULE, {"path": str(tree["archive"]), "paths": _paths(tree)})
    assert second["changed"] is True and second["kept"] is True
    tree["main_cf"].write_text("half applied\n")
    run_module(MODULE, {"path": str(tree["archive"]), "state": "restored"})
    assert tree["main_cf"].read_text() == "written by a later run\n"


def test_a_finished_run_drops_the_snapshot_and_changes_nothing_else(tree, tmp_path):
    before = _state(tmp_path / "etc")
    run_module(MODULE, {"path": str(tree["archive"]), "paths": _paths(tree)})
    dropped = run_module(MODULE, {"path": str(tree["archive"]), "state": "absent"})
    assert dropped["changed"] is True and not tree["archive"].exists()
    assert _state(tmp_path / "etc") == before
    assert run_module(MODULE, {"path": str(tree["archive"]), "state": "absent"})["changed"] is False


def test_check_mode_writes_and_restores_nothing(tree, tmp_path):
    checked = run_module(MODULE, {"path": str(tree["archive"]), "paths": _paths(tree)}, check=True)
    assert checked["changed"] is True and not tree["archive"].exists()
    run_module(MODULE, {"path": str(tree["archive"]), "paths": _paths(tree)})
    tree["main_cf"].write_text("changed\n")
    run_module(MODULE, {"path": str(tree["archive"]), "state": "restored"}, check=True)
    assert tree["main_cf"].read_text() == "changed\n" and tree["archive"].exists()


@pytest.mark.parametrize(("paths", "message"), [
    (["etc/main.cf"], "'etc/main.cf' must be a normalised absolute path"),
    (["/etc/postfix/../main.cf"], "must be a normalised absolute path"),
    (["/"], "must be a normalised absolute path"),
    (["/etc/postfix", "/etc/postfix/main.cf"], "/etc/postfix/main.cf is inside /etc/postfix"),
])
def test_paths_that_cannot_be_snapshotted_are_refused(tmp_path, paths, message):
    result = run_module(MODULE, {"path": str(tmp_path / "s.tar"), "paths": paths})
    assert result.get("failed") is True
    assert result["msg"].startswith("paths: ") and message in result["msg"], result["msg"]
    assert not (tmp_path / "s.tar").exists()


def test_an_archive_that_is_not_ours_is_refused_and_nothing_is_removed(tree, tmp_path):
    tree["archive"].parent.mkdir()
    with tarfile.open(tree["archive"], "w") as tar:
        data = b"x"
        info = tarfile.TarInfo("etc/passwd")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    result = run_module(MODULE, {"path": str(tree["archive"]), "state": "restored"})
    assert result.get("failed") is True and "is not a partnermail snapshot" in result["msg"], result["msg"]
    assert tree["main_cf"].exists() and (tree["maps"] / "transport").exists()


@pytest.mark.parametrize("inside", [False, True])
def test_a_member_outside_the_recorded_paths_stops_the_restore_before_anything_is_removed(tree, inside):
    _snapshot.take(str(tree["archive"]), [str(tree["main_cf"]), str(tree["maps"])])
    stray = (str(tree["maps"]).lstrip("/") + "/../../shadow") if inside else "etc/shadow"
    with tarfile.open(tree["archive"], "a") as tar:
        tar.addfile(tarfile.TarInfo(stray), io.BytesIO(b""))
    tree["main_cf"].write_text("changed\n")
    with pytest.raises(_snapshot.SnapshotError, match="shadow, which is none of its paths"):
        _snapshot.restore(str(tree["archive"]))
    assert tree["main_cf"].read_text() == "changed\n"


def test_a_run_that_failed_before_changing_anything_puts_back_nothing(tree, tmp_path):
    run_module(MODULE, {"path": str(tree["archive"]), "paths": _paths(tree)})
    # A directory's own mtime moves when a file in it is rewritten; that alone is no change of the run.
    os.utime(tree["maps"], (1_600_000_000, 1_600_000_000))
    before = _state(tmp_path / "etc")
    restored = run_module(MODULE, {"path": str(tree["archive"]), "state": "restored"})
    assert restored["changed"] is False and restored["restored"] == []
    assert _state(tmp_path / "etc") == before and not tree["archive"].exists()


@pytest.mark.parametrize("change", ["mode", "owner", "mtime", "created"])
def test_any_one_change_is_put_back(tree, tmp_path, change):
    before = _state(tmp_path / "etc")
    run_module(MODULE, {"path": str(tree["archive"]), "paths": _paths(tree)})
    target = tree["maps"] / "transport"
    if change == "mode":
        os.chmod(target, 0o600)
    elif change == "owner":
        os.chown(target, 1234, 1234)
    elif change == "mtime":
        os.utime(target, (1_700_000_500, 1_700_000_500))
    else:
        (tree["maps"] / "trust" / "c.pem").write_text("C CA\n")
    restored = run_module(MODULE, {"path": str(tree["archive"]), "state": "restored"})
    assert restored["changed"] is True
    assert _state(tmp_path / "etc") == before
