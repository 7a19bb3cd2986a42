"""The model of an MTA is checked once per run, however many roles depend on the model role.

site.yml brings the model role in six times (the validation play, then each role's dependency); at 1000 partners
each pass validated the model and read every partner's CA file again (issue 13). The first pass checks and records
the model; the later ones of the same run skip, and the recorded model is still there for the roles.
"""

import json

from .playbook_runner import run_playbook
from .test_site_validation import GOOD, broken, partner

CHECK = "Check the partnermail inventory model of this MTA"


def outcomes(output, name):
    """Per play, what became of the task called ``name`` on localhost: ok, skipped, failed or absent."""
    seen = []
    for play in output["plays"]:
        result = next((task["hosts"]["localhost"] for task in play["tasks"]
                       if task["task"]["name"].endswith(name)), None)
        seen.append("absent" if result is None else "skipped" if result.get("skipped") else
                    "failed" if result.get("failed") else "ok")
    return seen


def run(tmp_path, model):
    playbook = tmp_path / "twice.yml"
    playbook.write_text("""
- name: The validation play
  hosts: localhost
  gather_facts: false
  roles: [partnermail.links.model]
- name: A later play whose role depends on the model again
  hosts: localhost
  gather_facts: false
  tasks:
    - name: The dependency
      ansible.builtin.import_role:
        name: partnermail.links.model
    - name: Show the recorded model
      ansible.builtin.debug:
        msg: "{{ model_validated.partnermail_partners | map(attribute='name') | join(',') }}"
""")
    return run_playbook(str(playbook), model)


def test_the_model_is_checked_once_and_stays_recorded(tmp_path):
    rc, output = run(tmp_path, GOOD)
    assert rc == 0, json.dumps(output)[-2000:]
    assert outcomes(output, CHECK) == ["ok", "skipped"]
    assert outcomes(output, "Record the validated model") == ["ok", "skipped"]
    shown = next(task["hosts"]["localhost"]["msg"] for task in output["plays"][1]["tasks"]
                 if task["task"]["name"] == "Show the recorded model")
    assert shown == "b"


def test_a_bad_model_still_stops_the_first_pass(tmp_path):
    rc, output = run(tmp_path, broken(lambda m: partner(m)["tls"].update(level="may")))
    assert rc != 0
    assert outcomes(output, CHECK) == ["failed"]
    assert len(output["plays"]) == 1
