"""The health role's systemd units and cron entry, rendered by the role's templates and checked by the real tools.

The molecule containers have no systemd (the role takes the cron path there), so the units are checked here:
``systemd-analyze verify`` over the rendered service and timer, with the program they start in place.
"""

import shutil
import subprocess
from pathlib import Path

import jinja2
import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "roles" / "health" / "templates"
VARS = {"health_interval_minutes": 5, "__health_program": None, "__health_config": "/etc/partnermail/health.json",
        "__health_cron_log": "/var/log/partnermail-health.log", "health_textfile_dir": "/var/lib/x",
        "__health_lib_dir": "/usr/local/lib/partnermail"}


def render(name, **extra):
    """As ansible.builtin.template renders (trim_blocks on, the trailing newline kept)."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), keep_trailing_newline=True, trim_blocks=True,
                             undefined=jinja2.StrictUndefined, autoescape=False)  # noqa: S701 - not HTML
    return env.get_template(name).render(**(VARS | extra))


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_the_service_and_timer_pass_systemd_analyze_verify(tmp_path):
    program = tmp_path / "partnermail-health"
    program.write_text(render("partnermail-health.j2"))
    program.chmod(0o755)
    for unit in ("partnermail-health.service", "partnermail-health.timer"):
        (tmp_path / unit).write_text(render(f"{unit}.j2", __health_program=str(program)))
    proc = subprocess.run(["systemd-analyze", "verify", "--man=no", str(tmp_path / "partnermail-health.timer"),
                           str(tmp_path / "partnermail-health.service")], capture_output=True, text=True,
                          check=False, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "OnUnitActiveSec=5min" in (tmp_path / "partnermail-health.timer").read_text()


def test_the_program_starts_with_a_python_shebang_and_finds_its_packages():
    text = render("partnermail-health.j2")
    assert text.startswith("#!/usr/bin/python3\n# Managed by partnermail.links")
    assert 'sys.path.insert(0, "/usr/local/lib/partnermail")' in text


@pytest.mark.parametrize(("minutes", "schedule"), [(1, "* * * * *"), (5, "*/5 * * * *")])
def test_the_cron_entry_runs_the_check_as_root(minutes, schedule):
    text = render("partnermail-health.cron.j2", health_interval_minutes=minutes,
                  __health_program="/usr/local/sbin/partnermail-health")
    line = text.strip().splitlines()[-1]
    assert line == (f"{schedule} root /usr/local/sbin/partnermail-health --config /etc/partnermail/health.json "
                    ">>/var/log/partnermail-health.log 2>&1")
