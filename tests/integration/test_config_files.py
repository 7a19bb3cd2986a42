"""partnermail.links.config_files, run as a module on localhost.

postmap and postalias are small programs of the test's own on the module's PATH (this host has no Postfix): they
record their calls and write the .db as a copy of the source (postalias -q looks the key up in that copy). Real
Postfix databases, the real Dovecot check and the real alias lookups are molecule's.
"""

import os
import stat

from .playbook_runner import run_module

TOOL = """#!/bin/sh
echo "$(basename "$0") $*" >> "$(dirname "$0")/calls"
if [ "$1" = -q ]; then grep -q "^$2 " "${3#hash:}.db"; exit $?; fi
source=${1#hash:}
sed 's/^\\([^:]*\\):/\\1/' "$source" > "$source.db"
"""


def tools(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("postmap", "postalias"):
        (bin_dir / name).write_text(TOOL)
        os.chmod(bin_dir / name, 0o700)
    (bin_dir / "refuse-x").write_text('#!/bin/sh\nif grep -q x "$1"; then echo "bad line in $1"; exit 1; fi\n')
    os.chmod(bin_dir / "refuse-x", 0o700)
    return f"{bin_dir}:{os.environ['PATH']}", bin_dir / "calls"


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def args(root, **extra):
    return {
        "directories": [{"path": str(root / "maps"), "mode": "0750"}],
        "files": [
            {"path": str(root / "main.cf"), "content": "myhostname = mx.a.test\n"},
            {"path": str(root / "check"), "content": "#!/bin/sh\nexit 0\n", "mode": "0755"},
            {"path": str(root / "maps" / "vmailbox"), "content": "a@a.test a.test/a/\n", "database": "postmap"},
            {"path": str(root / "aliases"), "content": "postmaster: root\n", "create_only": True,
             "database": "postalias"},
        ],
        "secret_files": [{"path": str(root / "health.json"), "content": '{"password": "Very-Secret-1"}\n',
                          "mode": "0600"}],
        **extra,
    }


def test_writes_every_file_with_its_mode_builds_the_databases_and_is_idempotent(tmp_path):
    path, _calls = tools(tmp_path)
    first = run_module("partnermail.links.config_files", args(tmp_path), path=path)
    assert first["changed"] is True
    assert first["written"] == [str(tmp_path / name) for name in ("main.cf", "check", "maps/vmailbox", "aliases",
                                                                  "health.json")]
    assert first["rebuilt"] == [str(tmp_path / "maps/vmailbox"), str(tmp_path / "aliases")]
    assert mode(tmp_path / "maps") == 0o750 and mode(tmp_path / "check") == 0o755
    assert mode(tmp_path / "health.json") == 0o600 and mode(tmp_path / "main.cf") == 0o644
    assert (tmp_path / "maps" / "vmailbox.db").exists() and (tmp_path / "aliases.db").exists()
    assert "Very-Secret-1" not in str(first)

    again = run_module("partnermail.links.config_files", args(tmp_path), path=path)
    assert again["changed"] is False and again["written"] == again["rebuilt"] == again["removed"] == []


def test_a_mode_changed_by_hand_is_put_back_without_rewriting(tmp_path):
    path, _calls = tools(tmp_path)
    run_module("partnermail.links.config_files", args(tmp_path), path=path)
    os.chmod(tmp_path / "main.cf", 0o600)
    result = run_module("partnermail.links.config_files", args(tmp_path), path=path)
    assert result["changed"] is True and result["written"] == []
    assert mode(tmp_path / "main.cf") == 0o644


def test_an_existing_create_only_file_is_the_admins_but_its_database_is_kept(tmp_path):
    path, _calls = tools(tmp_path)
    (tmp_path / "aliases").write_text("postmaster: carol\n")
    os.chmod(tmp_path / "aliases", 0o640)
    result = run_module("partnermail.links.config_files", args(tmp_path), path=path)
    assert str(tmp_path / "aliases") not in result["written"]
    assert str(tmp_path / "aliases") in result["rebuilt"]
    assert (tmp_path / "aliases").read_text() == "postmaster: carol\n" and mode(tmp_path / "aliases") == 0o640


def test_a_database_older_than_its_source_or_without_the_postmaster_alias_is_rebuilt(tmp_path):
    path, _calls = tools(tmp_path)
    run_module("partnermail.links.config_files", args(tmp_path), path=path)
    source = os.stat(tmp_path / "maps" / "vmailbox").st_mtime_ns
    os.utime(tmp_path / "maps" / "vmailbox.db", ns=(source - 10**9, source - 10**9))
    (tmp_path / "aliases.db").write_text("postmaster: root\n")  # what postmap makes of an alias file
    result = run_module("partnermail.links.config_files", args(tmp_path), path=path)
    assert result["changed"] is True and result["written"] == []
    assert result["rebuilt"] == [str(tmp_path / "maps/vmailbox"), str(tmp_path / "aliases")]
    assert (tmp_path / "aliases.db").read_text() == "postmaster root\n"


def test_check_mode_and_diff_show_every_file_but_never_a_secret(tmp_path):
    path, calls = tools(tmp_path)
    result = run_module("partnermail.links.config_files", args(tmp_path), check=True, diff=True, path=path)
    assert result["changed"] is True and len(result["written"]) == 5
    assert not (tmp_path / "main.cf").exists() and not (tmp_path / "maps").exists() and not calls.exists()
    diffs = {diff["after_header"]: diff["after"] for diff in result["diff"]}
    assert diffs[str(tmp_path / "main.cf")] == "myhostname = mx.a.test\n"
    assert diffs[str(tmp_path / "health.json")] == "(secret content not shown)\n"
    assert "Very-Secret-1" not in str(result)


def test_a_file_its_validate_command_refuses_is_not_installed_and_the_task_fails(tmp_path):
    path, _calls = tools(tmp_path)
    (tmp_path / "conf").write_text("good\n")
    entry = {"path": str(tmp_path / "conf"), "content": "x\n", "validate": "refuse-x %s"}
    result = run_module("partnermail.links.config_files", {"files": [entry]}, path=path)
    assert result["failed"] is True and result["option"] == "files[0].validate"
    assert f"{tmp_path}/conf was not installed: refuse-x %s refused it (exit 1): bad line in" in result["msg"]
    assert (tmp_path / "conf").read_text() == "good\n"
    accepted = run_module("partnermail.links.config_files", {"files": [entry | {"content": "y\n"}]}, path=path)
    assert accepted["changed"] is True and (tmp_path / "conf").read_text() == "y\n"


def test_an_absent_entry_removes_the_file_and_its_database(tmp_path):
    path, _calls = tools(tmp_path)
    run_module("partnermail.links.config_files", args(tmp_path), path=path)
    gone = {"path": str(tmp_path / "maps" / "vmailbox"), "state": "absent", "database": "postmap"}
    result = run_module("partnermail.links.config_files", {"files": [gone]}, path=path)
    assert result["changed"] is True and result["removed"] == [gone["path"]]
    assert not (tmp_path / "maps" / "vmailbox").exists() and not (tmp_path / "maps" / "vmailbox.db").exists()
    assert run_module("partnermail.links.config_files", {"files": [gone]}, path=path)["changed"] is False


def test_bad_entries_are_refused_naming_the_field_before_anything_is_written(tmp_path):
    cases = [
        ({"files": [{"path": "relative/main.cf", "content": ""}]}, "files[0].path", "not an absolute"),
        ({"files": [{"path": str(tmp_path / "a"), "content": "", "mode": "rw"}]}, "files[0].mode", "octal"),
        ({"files": [{"path": str(tmp_path / "a")}]}, "files[0].content", "must be a string"),
        ({"files": [{"path": str(tmp_path / "a"), "content": "", "validate": "check"}]}, "files[0].validate",
         "%s"),
        ({"files": [{"path": str(tmp_path / "a"), "content": ""}],
          "secret_files": [{"path": str(tmp_path / "a"), "content": ""}]}, "secret_files[0].path", "named twice"),
        ({"files": [{"path": str(tmp_path / "a"), "content": "", "owner": "no-such-user-here"}]}, "files[0].owner",
         "does not exist"),
    ]
    for arguments, option, words in cases:
        result = run_module("partnermail.links.config_files", arguments)
        assert result["failed"] is True, arguments
        assert result["option"] == option and words in result["msg"], result["msg"]
    assert not (tmp_path / "a").exists()


def test_the_result_sums_up_the_files_instead_of_echoing_them(tmp_path):
    # BulkyModule: at 1000 partners the echo of every file, masked string by string, cost a second per call.
    path, _calls = tools(tmp_path)
    result = run_module("partnermail.links.config_files", args(tmp_path), path=path)
    echoed = result["invocation"]["module_args"]
    assert echoed["files"] == "(4 entries, not echoed)" and echoed["secret_files"] == "(1 entry, not echoed)"
    assert "myhostname" not in str(result)
