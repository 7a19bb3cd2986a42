"""Run the collection's playbooks against the scenario's inventory from a test."""

from __future__ import annotations

import json
import os
import subprocess
import sys

PROJECT = os.environ.get("MOLECULE_PROJECT_DIRECTORY", os.path.join(os.path.dirname(__file__), "../../.."))
PLAYBOOKS = os.path.join(PROJECT, "playbooks")
HOST_VARS = os.path.join(PROJECT, "molecule", "shared", "inventory", "host_vars")
REPORT_DIR = os.path.join(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", ""), "reports")


def playbook(pytestconfig, tmp_path, name: str, extra_vars: dict | None = None, limit: str = "mx-a",
             options: tuple[str, ...] = ()):
    """Run playbooks/<name> on one MTA of the scenario (with ansible-playbook ``options``); returns (rc, output)."""
    args = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), *options,
            "-i", pytestconfig.getoption("ansible_inventory"), "--limit", limit, os.path.join(PLAYBOOKS, name)]
    if extra_vars is not None:
        path = tmp_path / "extra.json"
        path.write_text(json.dumps(extra_vars))
        args += ["-e", f"@{path}"]
    proc = subprocess.run(args, capture_output=True, text=True, check=False, env=dict(os.environ, ANSIBLE_NOCOLOR="1"))
    return proc.returncode, proc.stdout + proc.stderr


def controller_module(name: str, args: dict) -> tuple[int, str]:
    """Run one module of the collection on the controller (localhost); returns (rc, output)."""
    argv = [os.path.join(os.path.dirname(sys.executable), "ansible"), "localhost", "-m", name, "-a", json.dumps(args)]
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, env=dict(os.environ, ANSIBLE_NOCOLOR="1"))
    return proc.returncode, proc.stdout + proc.stderr
