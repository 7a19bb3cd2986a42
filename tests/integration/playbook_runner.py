"""Run real ansible-playbook and ansible against localhost and read the results from the JSON callback."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
LOCALHOST = ["-i", "localhost,", "-c", "local"]


def _env(**extra):
    return dict(
        os.environ,
        ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".collections"),
        ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
        ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
        ANSIBLE_LOCALHOST_WARNING="false",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_RETRY_FILES_ENABLED="false",
        **extra,
    )


def _json_run(args, env):
    """(returncode, parsed JSON output) of an ansible command."""
    proc = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    try:
        return proc.returncode, json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"no JSON from {args[0]}:\n{proc.stdout}\n{proc.stderr}") from None


def _interpreter(extra_vars=None):
    return ["-e", json.dumps({"ansible_python_interpreter": sys.executable, **(extra_vars or {})})]


def run_playbook(playbook, extra_vars, check=False):
    """Run ``playbook`` on localhost; returns (returncode, parsed JSON callback output)."""
    args = [f"{BIN}/ansible-playbook", *LOCALHOST, *_interpreter(extra_vars), playbook]
    return _json_run(args + (["--check"] if check else []), _env())


def task_results(output, host="localhost"):
    """{task name: result} for every task that ran on ``host``."""
    results = {}
    for play in output["plays"]:
        for task in play["tasks"]:
            if host in task["hosts"]:
                results[task["task"]["name"]] = task["hosts"][host]
    return results


def changed_count(output, host="localhost"):
    return output["stats"][host]["changed"]


def run_module(module, args, check=False, diff=False, path=None):
    """Run one module ad hoc on localhost; returns its result dict. ``path``: the module's PATH instead of ours."""
    cmd = [f"{BIN}/ansible", "localhost", *LOCALHOST, *_interpreter(), "-m", module, "-a", json.dumps(args)]
    env = _env() if path is None else _env() | {"PATH": path}
    _rc, output = _json_run(cmd + (["--check"] if check else []) + (["--diff"] if diff else []), env)
    results = task_results(output)
    return results[next(iter(results))]


def run_playbook_inventory(playbook, inventory_path):
    """Run ``playbook`` against an inventory file; returns (returncode, parsed JSON callback output)."""
    env = _env(ANSIBLE_HOST_KEY_CHECKING="false", ANSIBLE_TIMEOUT="3")
    return _json_run([f"{BIN}/ansible-playbook", "-i", inventory_path, playbook], env)
