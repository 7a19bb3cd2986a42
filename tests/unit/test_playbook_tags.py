"""A tagged run (``--tags partners``) must still run every safety step of the playbooks.

The tags of an ``include_role`` select the include itself, not the tasks it brings in (ansible-core: only tags of
the play, or of an import, reach them). So each tagged include_role repeats its tags in ``apply``; without it,
``site.yml --tags partners`` skipped the platform check, the refusal to take over a Postfix that is not ours, and the
drop or restore of the run's snapshot (a snapshot left behind was restored over later runs' files).
"""

import os

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOKS = sorted(name for name in os.listdir(os.path.join(ROOT, "playbooks")) if name.endswith(".yml"))
SECTIONS = ("pre_tasks", "tasks", "post_tasks", "handlers")


def _tasks(tasks):
    for task in tasks or []:
        yield task
        for part in ("block", "rescue", "always"):
            yield from _tasks(task.get(part))


def tagged_includes(playbook):
    """(task name, its tags, the tags its `apply` gives the included tasks) of every tagged include_role."""
    with open(os.path.join(ROOT, "playbooks", playbook)) as stream:
        plays = yaml.safe_load(stream)
    for play in plays:
        for section in SECTIONS:
            for task in _tasks(play.get(section)):
                include = task.get("ansible.builtin.include_role") or task.get("include_role")
                if include is not None and task.get("tags"):
                    yield task["name"], task["tags"], (include.get("apply") or {}).get("tags")


def test_site_yml_has_tagged_includes():
    """The check below is not vacuous: site.yml has such includes (the refusals, the snapshot's drop)."""
    names = [include[0] for include in tagged_includes("site.yml")]
    assert "Check the site's extension points; refuse to replace a Postfix configuration that is not ours" in names
    assert "Drop the snapshot, the run finished" in names


@pytest.mark.parametrize("playbook", PLAYBOOKS)
def test_every_tagged_include_role_applies_its_tags_to_what_it_includes(playbook):
    missing = [(name, tags, applied) for name, tags, applied in tagged_includes(playbook)
               if sorted(applied or []) != sorted(tags)]
    assert missing == [], f"{playbook}: include_role tasks whose `apply: tags` differ from their tags: {missing}"
