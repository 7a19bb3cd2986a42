"""mx_info and smtp_probe through real ansible runs on localhost, against fake DNS and SMTP servers on 127.0.0.1."""

import json

import pytest

from ansible_collections.partnermail.links.plugins.module_utils._model import validate_model
from ansible_collections.partnermail.links.plugins.module_utils._pki import certs

from ..unit.dns_server import FakeDnsServer
from ..unit.pki_helpers import make_ca, make_leaf, write_pem
from ..unit.smtp_server import FakeSmtpServer, RefusedPort, ServerConfig, write_tls_files
from .playbook_runner import run_module, run_playbook, task_results

PASSWORD = "s3cret pass"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    directory = tmp_path_factory.mktemp("probe-pki")
    ca_key, ca_cert, _spec = make_ca("Partner CA", now=certs.utcnow())
    key, leaf, _spec = make_leaf(ca_key, ca_cert, name="mx.b.test", sans=("DNS:b.test",), now=certs.utcnow())
    chain_file, key_file = write_tls_files(directory, key, [leaf])
    return {"ca_file": write_pem(directory / "partner-ca.pem", ca_cert), "chain_file": chain_file,
            "key_file": key_file, "facts": certs.facts(leaf)}


@pytest.fixture(scope="module")
def smtp(pki):
    config = ServerConfig(chain_file=pki["chain_file"], key_file=pki["key_file"], password=PASSWORD)
    with FakeSmtpServer(config) as server:
        yield server


@pytest.fixture(scope="module")
def dns_server(pki):
    zone = ["b.test MX 10 mx.b.test.", "mx.b.test A 127.0.0.1", f"_25._tcp.mx.b.test TLSA {pki['facts']['tlsa']}",
            "nomail.b.test MX 0 ."]
    server = FakeDnsServer(zone, secure=["b.test"]).start()
    yield server
    server.stop()


def mx_args(server, **extra):
    return {"nameservers": ["127.0.0.1"], "port": server.port, "timeout": 2, **extra}


def probe_args(smtp, pki, **extra):
    return {"host": "127.0.0.1", "port": smtp.port, "timeout": 5, "helo_name": "mx.a.test",
            "ca_file": pki["ca_file"], "match": ["mx.b.test"], **extra}


# --- mx_info ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("check", [False, True], ids=["run", "check mode"])
def test_mx_info_reports_hosts_tlsa_and_dnssec(dns_server, pki, check):
    result = run_module("partnermail.links.mx_info", mx_args(dns_server, domain="b.test"), check=check)
    assert result.get("failed") is not True, result
    assert result["changed"] is False
    assert (result["status"], result["dnssec"]) == ("ok", True)
    (host,) = result["mx"]
    assert (host["preference"], host["host"], host["addresses"]) == (10, "mx.b.test", ["127.0.0.1"])
    assert host["tlsa"]["records"] == [pki["facts"]["tlsa"]] and host["dane"] is True


def test_mx_info_status_is_not_a_failure(dns_server):
    result = run_module("partnermail.links.mx_info", mx_args(dns_server, domain="nomail.b.test"))
    assert result.get("failed") is not True
    assert result["status"] == "null_mx" and "RFC 7505" in result["message"]


def test_mx_info_bad_input_names_the_option(dns_server):
    result = run_module("partnermail.links.mx_info", mx_args(dns_server, domain="bad_name.b.test"))
    assert result["failed"] is True
    assert result["msg"].startswith("domain: ") and "Traceback" not in result["msg"]


# --- smtp_probe ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("check", [False, True], ids=["run", "check mode"])
def test_smtp_probe_verifies_and_authenticates(smtp, pki, check):
    args = probe_args(smtp, pki, username="a-example", password=PASSWORD,
                      require=["tls", "tlsv1.2", "verified", "auth", "no_auth_before_tls"])
    result = run_module("partnermail.links.smtp_probe", args, check=check)
    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] is False
    assert (result["status"], result["verified"], result["auth"]["success"]) == ("ok", True, True)
    assert result["chain"][0]["spki_sha256"] == pki["facts"]["spki_sha256"]
    assert result["missing"] == [] and result["findings"] == []
    assert PASSWORD not in json.dumps(result)


def test_smtp_probe_shortfall_fails_and_still_reports(smtp, pki):
    args = probe_args(smtp, pki, match=["mx.c.test"], username="a-example", password="wrong",
                      require=["name", "auth"])
    result = run_module("partnermail.links.smtp_probe", args)
    assert result["failed"] is True
    assert result["msg"].startswith("requirements not met: name: the certificate carries none of mx.c.test")
    assert "auth: AUTH PLAIN failed: 535" in result["msg"]
    assert result["status"] == "ok" and result["trusted"] is True and len(result["missing"]) == 2


def test_smtp_probe_refused_port_is_a_status():
    port = RefusedPort()
    try:
        result = run_module("partnermail.links.smtp_probe", {"host": "127.0.0.1", "port": port.port, "timeout": 2})
    finally:
        port.close()
    assert result.get("failed") is not True
    assert result["status"] == "refused" and result["tls"] == {}


def test_smtp_probe_bad_input_names_the_option(smtp, pki):
    result = run_module("partnermail.links.smtp_probe", probe_args(smtp, pki, tlsa=["3 1 1 xyz"]))
    assert result["failed"] is True and result["msg"].startswith("tlsa: ")


# --- the two together, as a role probing a partner would use them ----------------------------------------

PLAYBOOK = """
- name: Probe a partner's MX hosts with the TLSA records DNS publishes
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Look up the partner's mail exchangers
      partnermail.links.mx_info:
        domain: b.test
        nameservers: [127.0.0.1]
        port: "{{ dns_port | int }}"
      register: partner_mx

    - name: Probe every DANE-enabled MX host
      partnermail.links.smtp_probe:
        host: "{{ item.addresses | first }}"
        port: "{{ smtp_port | int }}"
        server_name: "{{ item.host }}"
        helo_name: mx.a.test
        tlsa: "{{ item.tlsa.records }}"
        require: [tls, tlsa, no_auth_before_tls]
      loop: "{{ partner_mx.mx | selectattr('dane') | list }}"
      loop_control:
        label: "{{ item.host }}"
      register: partner_links

    - name: Report each link
      ansible.builtin.debug:
        msg: "{{ partner_links.results | map(attribute='message') | list }}"
"""


def test_mx_info_feeds_smtp_probe(tmp_path, dns_server, smtp):
    playbook = tmp_path / "probe.yml"
    playbook.write_text(PLAYBOOK)
    rc, out = run_playbook(str(playbook), {"dns_port": dns_server.port, "smtp_port": smtp.port})
    assert rc == 0, out
    (link,) = task_results(out)["Probe every DANE-enabled MX host"]["results"]
    assert link["tlsa_matched"] is True and link["verified"] is True
    assert link["matched_tlsa"].startswith("3 1 1 ")


# --- link_report, with a partner in test mode ----------------------------------------------------------

LINK_PASSWORD = "Out-To-Partners-42"


@pytest.fixture(scope="module")
def partner_smtp(pki):
    config = ServerConfig(chain_file=pki["chain_file"], key_file=pki["key_file"], password=LINK_PASSWORD)
    with FakeSmtpServer(config) as server:
        yield server


def fixed_host_partner(name, port, mode):
    return {"name": name, "mode": mode, "domains": [f"{name}.test"], "connectors": [
        {"cost": 1, "host": "127.0.0.1", "port": port}], "tls": {"level": "encrypt"},
        "outbound_auth": {"username": "a-example", "password": LINK_PASSWORD},
        "inbound_auth": {"username": name, "password": f"In-From-{name}-secret-1"}}


def test_link_report_counts_a_partner_in_test_mode_apart(partner_smtp):
    """The validated partners go to the module as they are (mode included); a test partner's failure is apart."""
    refused = RefusedPort()
    try:
        model = validate_model({"partnermail_hostname": "mx.a.test", "partnermail_domains": ["a.test"],
                                "partnermail_partners": [fixed_host_partner("b", partner_smtp.port, "enforce"),
                                                         fixed_host_partner("c", refused.port, "test")]})
        args = {"partners": model["partnermail_partners"], "helo_name": "mx.a.test", "timeout": 3}
        result = run_module("partnermail.links.link_report", args)
    finally:
        refused.close()
    assert result.get("failed") is not True, result.get("msg")
    rows = {row["partner"]: row for row in result["rows"]}
    assert (rows["b"]["mode"], rows["b"]["ok"], rows["b"]["auth_ok"]) == ("enforce", True, True)
    assert (rows["c"]["mode"], rows["c"]["ok"], rows["c"]["status"]) == ("test", False, "refused")
    assert (result["failures"], result["test_failures"]) == (0, 1)
    assert LINK_PASSWORD not in json.dumps(result)


@pytest.mark.parametrize("concurrency", [0, 65])
def test_link_report_refuses_a_concurrency_out_of_range(concurrency):
    model = validate_model({"partnermail_hostname": "mx.a.test", "partnermail_domains": ["a.test"],
                            "partnermail_partners": [fixed_host_partner("b", 1, "enforce")]})
    result = run_module("partnermail.links.link_report", {
        "partners": model["partnermail_partners"], "helo_name": "mx.a.test", "concurrency": concurrency})
    assert result.get("failed") is True
    assert result["msg"] == f"concurrency: must be 1 to 64 probes at a time, got {concurrency}"
    assert "rows" not in result
