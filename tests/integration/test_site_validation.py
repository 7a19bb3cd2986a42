"""site.yml refuses an invalid inventory before it touches any host, naming the partner and the field.

The MTAs of these inventories point at a closed loopback port on purpose: if validation ever let a bad
model through, the run would stop at the first connection instead of configuring anything.
"""

import copy
import json
import os
import subprocess

import pytest
import yaml

from .playbook_runner import BIN, ROOT, run_playbook_inventory

SITE = os.path.join(ROOT, "playbooks", "site.yml")

GOOD = {
    "partnermail_hostname": "mx.a.test",
    "partnermail_domains": ["a.test"],
    "partnermail_partners": [
        {
            "name": "b",
            "domains": ["b.test"],
            "connectors": [{"cost": 1, "via": "dns"}, {"cost": 5, "host": "backup.b.test", "port": 2525}],
            "tls": {"level": "secure", "match": ["b.test"]},
            "outbound_auth": {"username": "a-test", "password": "Out-To-B-secret-1"},
            "inbound_auth": {"username": "b-test", "password": "In-From-B-secret-1"},
        }
    ],
}


def broken(mutate):
    model = copy.deepcopy(GOOD)
    mutate(model)
    return model


def partner(model):
    return model["partnermail_partners"][0]


CASES = [
    ("tls level", lambda m: partner(m)["tls"].update(level="may"), "partnermail_partners[0] (b): tls.level"),
    ("cost range", lambda m: partner(m)["connectors"][0].update(cost=0), "(b): connectors[0].cost"),
    ("nexthop without host", lambda m: partner(m)["connectors"][1].pop("host"), "(b): connectors[1]"),
    ("weak password", lambda m: partner(m)["outbound_auth"].update(password="short"), "(b): outbound_auth.password"),
    ("domain syntax", lambda m: partner(m)["domains"].append("bad_domain..test"), "(b): domains[1]"),
    ("own domain claimed", lambda m: partner(m)["domains"].append("a.test"), "(b): domains[1]"),
    ("typo in a key", lambda m: partner(m)["tls"].update(levle="secure"), "(b): tls.levle"),
    ("typo in a variable", lambda m: m.update(partnermail_partner=[]), "partnermail_partner: unknown variable"),
    ("ca file missing", lambda m: partner(m)["tls"].update(ca_file="/nonexistent/b-ca.pem"),
     "(b): tls.ca_file: '/nonexistent/b-ca.pem' was not found on the controller"),
    ("ca file relative and missing", lambda m: partner(m)["tls"].update(ca_file="trust/b-ca.pem"),
     "(b): tls.ca_file: 'trust/b-ca.pem' was not found on the controller (a relative path"),
]


def inventory(tmp_path, models):
    hosts = {
        name: {"ansible_host": "127.0.0.1", "ansible_port": 1, "ansible_connection": "ssh", **model}
        for name, model in models.items()
    }
    path = tmp_path / "inventory.yml"
    path.write_text(yaml.safe_dump({"partnermail_mtas": {"hosts": hosts}}))
    return str(path)


def ran_tasks(output):
    return [task["task"]["name"] for play in output["plays"] for task in play["tasks"]]


@pytest.mark.parametrize(("case", "mutate", "field"), CASES, ids=[c[0] for c in CASES])
def test_bad_inventory_is_refused_before_any_host_is_touched(tmp_path, case, mutate, field):
    model = broken(mutate)
    rc, out = run_playbook_inventory(SITE, inventory(tmp_path, {"mx-a": model, "mx-b": GOOD | {
        "partnermail_hostname": "mx.b.test", "partnermail_domains": ["b2.test"],
        "partnermail_partners": [partner(broken(lambda m: None)) | {"domains": ["a2.test"]}]}}))
    assert rc != 0
    failed = out["plays"][0]["tasks"][-1]["hosts"]["mx-a"]
    assert failed.get("failed") is True
    message = json.dumps(failed["msg"])
    assert field in message, message
    for secret in ("Out-To-B-secret-1", "In-From-B-secret-1", "short"):
        assert secret not in json.dumps(out), f"a password leaked into the output ({case})"
    # Only the first play ran, and no host was contacted: nothing could have changed anywhere.
    assert len(out["plays"]) == 1
    assert all(stats["unreachable"] == 0 and stats["changed"] == 0 for stats in out["stats"].values())


def test_valid_inventory_passes_validation_and_only_then_contacts_hosts(tmp_path):
    rc, out = run_playbook_inventory(SITE, inventory(tmp_path, {"mx-a": GOOD}))
    assert rc != 0
    assert len(out["plays"]) == 2, ran_tasks(out)
    assert out["stats"]["mx-a"]["unreachable"] == 1


def listed_tasks(tmp_path, *tags):
    """The task names `site.yml --list-tasks` shows for a tagged run (no host is contacted)."""
    args = [os.path.join(BIN, "ansible-playbook"), "-i", inventory(tmp_path, {"mx-a": GOOD}), SITE, "--list-tasks"]
    if tags:
        args += ["--tags", ",".join(tags)]
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".collections"), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run(args, capture_output=True, text=True, check=True, env=env)
    return proc.stdout


PKI_TASK = "partnermail.links.pki : Ensure the TLS directory on the MTA"
POSTFIX_TASK = ("partnermail.links.postfix : Install main.cf, master.cf, the virtual mailbox map, the alias file and "
                "the configuration check")
PARTNERS_TASK = ("partnermail.links.partners : Write the partner maps, and rebuild the map databases that are missing "
                 "or older than their source")
REPORT_TASK = "partnermail.links.report : Probe every partner link of this MTA"


@pytest.mark.parametrize(("tag", "present", "absent"), [
    ("pki", PKI_TASK, [POSTFIX_TASK, PARTNERS_TASK, REPORT_TASK]),
    ("postfix", POSTFIX_TASK, [PKI_TASK, PARTNERS_TASK, REPORT_TASK]),
    ("partners", PARTNERS_TASK, [PKI_TASK, POSTFIX_TASK, REPORT_TASK]),
    ("report", REPORT_TASK, [PKI_TASK, POSTFIX_TASK, PARTNERS_TASK]),
])
def test_a_tagged_run_still_validates_first(tmp_path, tag, present, absent):
    tasks = listed_tasks(tmp_path, tag)
    assert "Check the partnermail inventory model of this MTA" in tasks, tasks
    assert "Refuse an MTA on a release the collection does not support" in tasks, tasks
    assert present in tasks, tasks
    for task in absent:
        assert task not in tasks, tasks


def test_a_ca_file_that_is_not_a_ca_certificate_is_refused_before_any_host_is_touched(tmp_path):
    key = tmp_path / "b.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-subj", "/CN=mx.b.test", "-addext", "basicConstraints=critical,CA:FALSE", "-days", "30",
                    "-keyout", str(key), "-out", str(tmp_path / "b-leaf.pem")], check=True, capture_output=True)
    (tmp_path / "b-with-key.pem").write_text(key.read_text() + (tmp_path / "b-leaf.pem").read_text())
    for name, message in (("b-leaf.pem", "certificate 1 (CN=mx.b.test) is not a CA certificate"),
                          ("b-with-key.pem", "holds a private key")):
        model = broken(lambda m, name=name: partner(m)["tls"].update(ca_file=str(tmp_path / name)))
        rc, out = run_playbook_inventory(SITE, inventory(tmp_path, {"mx-a": model}))
        assert rc != 0
        assert len(out["plays"]) == 1, ran_tasks(out)
        failed = out["plays"][0]["tasks"][-1]["hosts"]["mx-a"]
        assert message in json.dumps(failed["msg"]), failed["msg"]
        assert out["stats"]["mx-a"]["unreachable"] == 0


def test_a_brought_certificate_is_checked_on_the_controller_before_any_host_is_touched(tmp_path):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-subj", "/CN=mx.a.test", "-addext", "basicConstraints=critical,CA:FALSE", "-days", "30",
                    "-keyout", str(tmp_path / "mx.key"), "-out", str(tmp_path / "mx-chain.pem")],
                   check=True, capture_output=True)
    byo = {"pki_mode": "byo", "pki_byo_key_path": "/etc/ssl/private/mx.key"}
    for chain, message in ((str(tmp_path / "missing.pem"), f"pki_byo_chain_src: '{tmp_path}/missing.pem' was not "
                                                           "found on the controller"),
                           (str(tmp_path / "mx.key"), "holds a private key: the key stays on the MTA")):
        rc, out = run_playbook_inventory(SITE, inventory(tmp_path, {"mx-a": GOOD | byo | {"pki_byo_chain_src": chain}}))
        assert rc != 0
        assert len(out["plays"]) == 1, ran_tasks(out)
        failed = out["plays"][0]["tasks"][-1]["hosts"]["mx-a"]
        assert message in json.dumps(failed["msg"]), failed["msg"]
        assert out["stats"]["mx-a"]["unreachable"] == 0
    # The MTA's own certificate first: validation passes, and only then is the host contacted.
    rc, out = run_playbook_inventory(SITE, inventory(tmp_path, {"mx-a": GOOD | byo | {
        "pki_byo_chain_src": str(tmp_path / "mx-chain.pem")}}))
    assert len(out["plays"]) == 2, ran_tasks(out)
    assert out["stats"]["mx-a"]["unreachable"] == 1


def site_output(tmp_path, models, *tags):
    """stdout and stderr of a site.yml run with the default output (the MTAs cannot be reached)."""
    args = [os.path.join(BIN, "ansible-playbook"), "-i", inventory(tmp_path, models), SITE]
    if tags:
        args += ["--tags", ",".join(tags)]
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".collections"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_HOST_KEY_CHECKING="false", ANSIBLE_TIMEOUT="3", ANSIBLE_STDOUT_CALLBACK="default")
    proc = subprocess.run(args, capture_output=True, text=True, check=False, env=env)
    return proc.stdout + proc.stderr


TEST_MODE_WARNING = ("[WARNING]: mx-a: partner b is in test mode, NOT ENFORCED: its mail is delivered like Internet "
                     "mail (to the MX hosts, opportunistic TLS (may), no authentication)")


@pytest.mark.parametrize("tags", [(), ("partners",), ("pki",), ("report",)], ids=["all", "partners", "pki", "report"])
def test_every_run_warns_about_a_partner_in_test_mode(tmp_path, tags):
    tested = broken(lambda m: partner(m).update(mode="test"))
    output = " ".join(site_output(tmp_path, {"mx-a": tested, "mx-b": GOOD | {
        "partnermail_hostname": "mx.b.test", "partnermail_domains": ["b2.test"],
        "partnermail_partners": [partner(broken(lambda m: None)) | {"domains": ["a2.test"]}]}}, *tags).split())
    assert TEST_MODE_WARNING in output, output
    assert "set 'mode: enforce' (or remove 'mode') in its partnermail_partners entry" in output, output
    assert output.count("is in test mode") == 1, output  # mx-b's partner is enforced: no warning for it


def test_no_warning_when_every_partner_is_enforced(tmp_path):
    output = site_output(tmp_path, {"mx-a": broken(lambda m: partner(m).update(mode="enforce"))}, "partners")
    assert "Check the partnermail inventory model of this MTA" in output, output
    assert "is in test mode" not in output, output
