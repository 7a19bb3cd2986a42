"""partnermail.links.takeover_probe, run as a module on localhost against a configuration directory of the test's.

postconf is a small program of the test's own on the module's PATH: it records how it was called and prints the
first line of each file of the directory it was given. Real postconf output, and what takeover_findings makes of it,
are tests/unit/test_takeover.py's (fixtures from both releases) and molecule's (test_takeover.py).
"""

import os

from .playbook_runner import run_module

POSTCONF = """#!/bin/sh
echo "$*" >> "$(dirname "$0")/calls"
for file in "$2"/main.cf "$2"/master.cf; do [ -e "$file" ] && echo "$(basename "$file"): $(head -n 1 "$file")"; done
exit 0
"""
HEADER = "# Managed by partnermail.links (postfix role); local edits are overwritten."


def probe(tmp_path, main_cf=None, master_cf=None):
    etc, bin_dir = tmp_path / "etc", tmp_path / "bin"
    etc.mkdir(exist_ok=True)
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "postconf").write_text(POSTCONF)
    os.chmod(bin_dir / "postconf", 0o700)
    for name, text in (("main.cf", main_cf), ("master.cf", master_cf)):
        if text is not None:
            (etc / name).write_text(text)
    args = {"header": HEADER, "main_cf": f"{HEADER}\nmyhostname = mx.a.test", "master_cf": f"{HEADER}\nsmtp inet",
            "config_dir": str(etc)}
    result = run_module("partnermail.links.takeover_probe", args, path=f"{bin_dir}:{os.environ['PATH']}")
    calls = bin_dir / "calls"
    return result, calls.read_text().splitlines() if calls.exists() else []


def test_a_foreign_main_cf_is_compared_with_ours_and_the_packages(tmp_path):
    result, calls = probe(tmp_path, main_cf="myhostname = own.example\n")
    assert result["changed"] is False and result["states"] == {"main.cf": "foreign", "master.cf": "absent"}
    sections = [line for line in result["stdout"].splitlines() if line.startswith("== ")]
    assert sections == ["== state main.cf foreign", "== state master.cf absent", "== current -n", "== ours -n",
                        "== ours -M", "== dist -M"]
    assert f"-c {tmp_path}/etc -n" in calls and len(calls) == 4
    # Ours is what the role would write; the package's side has an empty main.cf.
    dist = result["stdout"].split("== dist -M\n")[1].splitlines()
    assert f"main.cf: {HEADER}" in result["stdout"] and "main.cf: myhostname = own.example" in result["stdout"]
    assert dist[0] == "main.cf: "


def test_files_that_are_ours_or_absent_need_no_postconf(tmp_path):
    result, calls = probe(tmp_path, main_cf=f"{HEADER}\nx = 1\n")
    assert result["states"] == {"main.cf": "ours", "master.cf": "absent"}
    assert result["stdout"] == "== state main.cf ours\n== state master.cf absent\n"
    assert calls == []
