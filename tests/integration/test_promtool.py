"""The health role's Prometheus alert rules: valid (promtool check rules) and doing what they say (promtool test
rules over tests/promtool/). scripts/bootstrap.sh puts promtool in .venv/bin; without it these tests fail, they
do not skip: an untested rules file must not pass CI."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "roles" / "health" / "files" / "partnermail-alerts.yml"
TESTS = sorted((ROOT / "tests" / "promtool").glob("*.test.yml"))


def promtool():
    found = shutil.which("promtool", path=os.pathsep.join([str(ROOT / ".venv" / "bin"), os.environ.get("PATH", "")]))
    if found is None:
        pytest.fail("promtool is missing: run scripts/bootstrap.sh (it unpacks Debian's prometheus package)")
    return found


def run(*args, cwd=ROOT):
    return subprocess.run([promtool(), *args], capture_output=True, text=True, cwd=cwd, check=False, timeout=120)


def test_rules_are_valid():
    proc = run("check", "rules", str(RULES))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS: 7 rules found" in proc.stdout


def test_there_are_rule_tests():
    assert TESTS, "tests/promtool/*.test.yml"


@pytest.mark.parametrize("test_file", TESTS, ids=[path.name for path in TESTS])
def test_rule_unit_tests(test_file):
    proc = run("test", "rules", test_file.name, cwd=test_file.parent)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_alert_is_tested():
    alerts = {line.split(":", 1)[1].strip() for line in RULES.read_text().splitlines()
              if line.strip().startswith("- alert:")}
    tested = {line.split(":", 1)[1].strip() for path in TESTS for line in path.read_text().splitlines()
              if line.strip().startswith("alertname:")}
    assert alerts and alerts <= tested, f"alerts without a promtool test: {sorted(alerts - tested)}"
