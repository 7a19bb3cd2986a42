"""site.yml and probe.yml talk to the MTAs with pipelining unless the admin chose otherwise.

playbooks/tasks/pipelining.yml sets ansible_pipelining as a fact in the first play (a play variable would not do: the
connection reads ``ansible_pipelining`` untemplated, so "{{ false }}" counted as on). These runs import that very
file against localhost and read the fact back, for each place an admin may have said no.
"""

import os

import pytest
import yaml

from .playbook_runner import BIN, ROOT, _env, _json_run

TASKS = os.path.join(ROOT, "playbooks", "tasks", "pipelining.yml")


def pipelining(tmp_path, inventory_line="localhost", env=None, extra=()):
    (tmp_path / "inventory.ini").write_text(f"[all]\n{inventory_line} ansible_connection=local\n")
    (tmp_path / "play.yml").write_text(f"""
- name: First play
  hosts: all
  gather_facts: false
  tasks:
    - name: The settings
      ansible.builtin.import_tasks: {TASKS}
- name: A later play
  hosts: all
  gather_facts: false
  tasks:
    - name: Show
      ansible.builtin.debug:
        msg: "{{{{ ansible_pipelining | type_debug }}}} {{{{ ansible_pipelining }}}}"
""")
    args = [f"{BIN}/ansible-playbook", "-i", str(tmp_path / "inventory.ini"), *extra, str(tmp_path / "play.yml")]
    rc, output = _json_run(args, _env(**(env or {})))
    assert rc == 0, output
    return output["plays"][1]["tasks"][0]["hosts"]["localhost"]["msg"]


def test_on_when_nobody_said_anything(tmp_path):
    assert pipelining(tmp_path) == "bool True"


@pytest.mark.parametrize("line", ["localhost ansible_pipelining=false", "localhost ansible_ssh_pipelining=no"])
def test_the_inventory_turns_it_off(tmp_path, line):
    assert pipelining(tmp_path, inventory_line=line) == "bool False"


@pytest.mark.parametrize(("value", "shown"), [("False", "bool False"), ("True", "bool True")])
def test_ansible_configuration_wins_over_our_default(tmp_path, value, shown):
    assert pipelining(tmp_path, env={"ANSIBLE_PIPELINING": value}) == shown


def test_ansible_cfg_says_no(tmp_path):
    (tmp_path / "ansible.cfg").write_text("[defaults]\npipelining = False\n")
    assert pipelining(tmp_path, env={"ANSIBLE_CONFIG": str(tmp_path / "ansible.cfg")}) == "bool False"


@pytest.mark.parametrize("playbook", ["site.yml", "probe.yml"])
def test_both_playbooks_set_it_in_their_first_play(playbook):
    with open(os.path.join(ROOT, "playbooks", playbook)) as stream:
        first = yaml.safe_load(stream)[0]
    imports = [task.get("ansible.builtin.import_tasks") for task in first.get("tasks", [])]
    assert "tasks/pipelining.yml" in imports
    assert not first.get("gather_facts"), "the first play must not contact the MTAs before the setting is made"
