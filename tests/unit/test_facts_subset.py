"""site.yml gathers only the fact subsets the roles read: every fact a role reads must come out of that subset.

The provisioning play gathers ``distribution`` and ``service_mgr`` instead of everything (half the setup time over a
container connection, issue 13). A role that starts reading another fact would silently get nothing (a default, or
an undefined variable in a branch the tests do not take): this test runs Ansible's own fact collectors with the
play's subset on this machine and checks that every ``ansible_facts`` key named in the roles and playbooks is there.
"""

import os
import re
import shutil
import subprocess

import pytest
import yaml
from ansible.module_utils.facts import ansible_collector, default_collectors

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# ansible_facts['name'], ansible_facts["name"], ansible_facts.name; the bare `ansible_facts` handed to a filter is
# read by that filter's Python (platform_errors: distribution keys, listed below).
FACT_USE = re.compile(r"""ansible_facts(?:\[['"](\w+)['"]\]|\.(\w+))""")
READ_BY_FILTERS = {"distribution", "distribution_major_version", "distribution_version", "distribution_release"}
# Ansible's own use: the service module's action plugin picks its backend from this fact (and gathers it again
# itself, one more round trip per service task, when it is missing).
READ_BY_ANSIBLE = {"service_mgr"}


def provisioning_play():
    with open(os.path.join(ROOT, "playbooks", "site.yml")) as stream:
        plays = yaml.safe_load(stream)
    gathering = [play for play in plays if play.get("gather_facts")]
    assert [play["name"] for play in gathering] == ["Provision the partner links"], "one play gathers facts"
    return gathering[0]


def facts_read():
    found = set()
    for top in ("roles", "playbooks", "plugins/filter", "plugins/lookup"):
        for directory, _dirs, files in os.walk(os.path.join(ROOT, top)):
            for name in files:
                if name.endswith((".yml", ".yaml", ".j2", ".py")):
                    with open(os.path.join(directory, name), encoding="utf-8") as stream:
                        for match in FACT_USE.finditer(stream.read()):
                            found.add(match.group(1) or match.group(2))
    return found | READ_BY_FILTERS | READ_BY_ANSIBLE


class _Module:
    """What the collectors use of AnsibleModule: finding and running commands on this machine."""

    def get_bin_path(self, name, required=False, opt_dirs=None):
        return shutil.which(name)

    def run_command(self, args, use_unsafe_shell=False, **_kwargs):
        proc = subprocess.run(args, shell=use_unsafe_shell, capture_output=True, text=True, check=False)
        return proc.returncode, proc.stdout, proc.stderr


def gathered(subset):
    collectors = ansible_collector.get_ansible_collector(
        all_collector_classes=default_collectors.collectors, gather_subset=subset, gather_timeout=10,
        minimal_gather_subset=frozenset(["apparmor", "caps", "cmdline", "date_time", "distribution", "dns", "env",
                                         "fips", "local", "lsb", "pkg_mgr", "platform", "python", "selinux",
                                         "service_mgr", "ssh_pub_keys", "user"]))
    return collectors.collect(module=_Module(), collected_facts={})


def test_the_play_gathers_a_subset_not_everything():
    subset = provisioning_play().get("gather_subset")
    assert subset, "site.yml's provisioning play gathers every fact again"
    assert "!all" in subset and "!min" in subset


def test_the_scan_finds_what_the_roles_read():
    """Not vacuous: the per-release vars files and the health role's schedule read facts."""
    assert {"distribution", "distribution_major_version", "service_mgr"} <= facts_read()


@pytest.mark.parametrize("fact", sorted(facts_read()))
def test_every_fact_the_roles_read_is_gathered(fact):
    facts = gathered(provisioning_play()["gather_subset"])
    assert fact in facts, f"the roles read ansible_facts.{fact}, which gather_subset does not collect"


def test_a_fact_outside_the_subset_is_not_gathered():
    """The check above can fail: a fact of another subset (the network's) is absent."""
    assert "default_ipv4" not in gathered(provisioning_play()["gather_subset"])
