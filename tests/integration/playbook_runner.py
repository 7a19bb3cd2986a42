"""Run real ansible-playbook against localhost and read its results from the JSON callback."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_playbook(playbook, extra_vars, check=False):
    """Run ``playbook`` on localhost; returns (returncode, parsed JSON callback output)."""
    env = dict(os.environ)
    env.update(
        ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".collections"),
        ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
        ANSIBLE_LOCALHOST_WARNING="false",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_RETRY_FILES_ENABLED="false",
    )
    args = [
        os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
        "-i", "localhost,", "-c", "local",
        "-e", json.dumps({"ansible_python_interpreter": sys.executable, **extra_vars}),
        playbook,
    ]
    if check:
        args.append("--check")
    proc = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    try:
        return proc.returncode, json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"no JSON from ansible-playbook:\n{proc.stdout}\n{proc.stderr}") from None


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


def run_module(module, args, check=False):
    """Run one module ad hoc on localhost; returns its result dict."""
    env = dict(os.environ)
    env.update(
        ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".collections"),
        ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
        ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
        ANSIBLE_LOCALHOST_WARNING="false",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
    )
    cmd = [
        os.path.join(os.path.dirname(sys.executable), "ansible"),
        "localhost", "-i", "localhost,", "-c", "local",
        "-e", json.dumps({"ansible_python_interpreter": sys.executable}),
        "-m", module, "-a", json.dumps(args),
    ]
    if check:
        cmd.append("--check")
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    try:
        output = json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"no JSON from ansible:\n{proc.stdout}\n{proc.stderr}") from None
    return task_results(output)[next(iter(task_results(output)))]


def run_playbook_inventory(playbook, inventory_path):
    """Run ``playbook`` against an inventory file; returns (returncode, parsed JSON callback output)."""
    env = dict(os.environ)
    env.update(
        ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".collections"),
        ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
        ANSIBLE_HOST_KEY_CHECKING="false",
        ANSIBLE_TIMEOUT="3",
        ANSIBLE_RETRY_FILES_ENABLED="false",
    )
    proc = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", inventory_path, playbook],
        env=env, capture_output=True, text=True, check=False,
    )
    try:
        return proc.returncode, json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"no JSON from ansible-playbook:\n{proc.stdout}\n{proc.stderr}") from None
