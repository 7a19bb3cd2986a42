"""Test mode: the declared policy's verdict from real probes of fake SMTP servers, incidents and their mail."""

import pytest

from ansible_collections.partnermail.links.plugins.module_utils import _report
from ansible_collections.partnermail.links.plugins.module_utils._health import cli, policy
from ansible_collections.partnermail.links.plugins.module_utils._pki import certs

from .pki_helpers import make_ca, make_leaf
from .smtp_server import FakeSmtpServer, RefusedPort, ServerConfig, write_tls_files

NOW = certs.utcnow()
T0 = 1_800_000_000


class Pki:
    def __init__(self):
        self.ca_key, self.ca, _spec = make_ca("b.test CA", now=NOW)
        self.leaf_key, self.leaf, _spec = make_leaf(self.ca_key, self.ca, name="mx.b.test", sans=("DNS:b.test",),
                                                    now=NOW)
        _key, self.other_ca, _spec = make_ca("b.test CA", now=NOW)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    found = Pki()
    found.files = write_tls_files(tmp_path_factory.mktemp("tls"), found.leaf_key, [found.leaf], "leaf")
    return found


def partner(port, level="secure", match=("b.test",), password="s3cret pass", name="b"):  # noqa: S107
    nexthop = f"[127.0.0.1]:{port}"
    return {
        "name": name, "mode": "test", "transport": "partner", "domains": ["b.test"],
        "connectors": [{"cost": 1, "via": None, "host": "127.0.0.1", "port": port, "nexthops": {"b.test": nexthop}}],
        "routes": {"b.test": [nexthop]}, "nexthops": [nexthop],
        "tls": {"level": level, "match": list(match), "ca_file": "trust/b.pem", "fingerprints": []},
        "outbound_auth": {"username": "a-example", "password": password},
        "inbound_auth": {"username": "b-test", "password": "In-From-B-secret-1"}, "allowed_senders": [],
    }


CASES = [
    # case, server config, partner overrides, anchor ("ca" or "other"), reason (None: holds)
    ("good", {}, {}, "ca", None),
    ("certificate from another CA", {}, {}, "other", "certificate_untrusted"),
    ("name not in match", {}, {"match": ("x.test",)}, "ca", "name_mismatch"),
    ("no STARTTLS", {"starttls": False}, {}, "ca", "no_starttls"),
    ("no TLS after 220", {"not_tls": True}, {}, "ca", "tls_handshake_failed"),
    ("wrong password", {}, {"password": "not the password"}, "ca", "auth_failed"),
    ("greeting refuses", {"banner": "554 5.3.2 closed for you"}, {}, "ca", "other"),
]


@pytest.mark.parametrize(("case", "config", "overrides", "anchor", "reason"), CASES, ids=[c[0] for c in CASES])
def test_the_verdict_of_a_real_probe(pki, case, config, overrides, anchor, reason):
    chain_file, key_file = pki.files
    with FakeSmtpServer(ServerConfig(chain_file=chain_file, key_file=key_file, **config)) as srv:
        item = partner(srv.port, **overrides)
        anchors = {"b": certs.pem(pki.ca if anchor == "ca" else pki.other_ca)}
        rows = cli.link_report_prober([item], anchors, "mx.a.test", 3.0)
    verdict = policy.verdicts(rows, ["b"], T0)["b"]
    assert verdict["holds"] is (reason is None), (case, rows)
    assert verdict["reason"] == reason, (case, rows)
    assert verdict["connectors"] == [{"nexthop": f"[127.0.0.1]:{srv.port}", "host": f"127.0.0.1:{srv.port}",
                                      "ok": reason is None, "reason": reason}]
    assert (verdict["problems"] == []) is (reason is None)


def test_a_refused_connection():
    port = RefusedPort()
    try:
        rows = cli.link_report_prober([partner(port.port)], {}, "mx.a.test", 2.0)
    finally:
        port.close()
    verdict = policy.verdicts(rows, ["b"], T0)["b"]
    assert (verdict["holds"], verdict["reason"]) == (False, "connection_failed")
    assert "refused" in verdict["problems"][0]


@pytest.mark.parametrize(("status", "message", "reason"), [
    ("nxdomain", "b.test does not exist (NXDOMAIN)", "dns_failure"),
    ("servfail", "the resolver failed to answer b.test MX: x", "dns_failure"),
    ("timeout", "no answer to b.test MX within 3 s", "dns_failure"),
])
def test_a_failed_mx_lookup_is_a_dns_failure(status, message, reason):
    item = partner(25)
    item["connectors"] = [{"cost": 1, "via": "dns", "host": None, "port": 25, "nexthops": {"b.test": "b.test"}}]

    def lookup(domain):
        return {"status": status, "message": message, "mx": []}

    rows = _report.link_report([item], {}, "mx.a.test", 3, lookup, lambda spec, ca: pytest.fail("no MX, no probe"))
    assert policy.verdicts(rows, ["b"], T0)["b"]["reason"] == reason


def test_a_probe_timeout_is_a_connection_failure():
    row = {"partner": "b", "nexthop": "b.test", "host": "mx.b.test:25", "status": "timeout", "ok": False,
           "problems": ["tls: timed out waiting for the greeting from 10.0.0.1 port 25 after 3 s"]}
    assert policy.classify_row(row) == "connection_failed"


def test_every_connector_must_hold_and_the_first_failure_gives_the_reason():
    rows = [
        {"partner": "b", "nexthop": "b.test", "host": "mx.b.test:25", "status": "ok", "ok": True, "problems": [],
         "policy": "secure"},
        {"partner": "b", "nexthop": "[backup.b.test]:2525", "host": "backup.b.test:2525", "status": "no_starttls",
         "ok": False, "problems": ["tlsv1.2: the server does not offer STARTTLS"], "policy": "secure"},
        {"partner": "c", "nexthop": "c.test", "host": "mx.c.test:25", "status": "ok", "ok": True, "problems": []},
    ]
    verdict = policy.verdicts(rows, ["b"], T0)
    assert list(verdict) == ["b"]
    assert (verdict["b"]["holds"], verdict["b"]["reason"], verdict["b"]["policy"]) == (False, "no_starttls", "secure")
    assert verdict["b"]["problems"] == ["backup.b.test:2525 ([backup.b.test]:2525): tlsv1.2: the server does not "
                                        "offer STARTTLS"]
    assert policy.verdicts([], ["b"], T0)["b"]["holds"] is False


def test_probes_are_due_on_their_own_schedule():
    assert policy.due({}, ["b"], 900, T0) is True
    assert policy.due({}, [], 900, T0) is False
    state = {"probed_at": T0, "verdicts": {"b": {}}}
    assert policy.due(state, ["b"], 900, T0 + 899) is False
    assert policy.due(state, ["b"], 900, T0 + 900) is True
    assert policy.due(state, ["b", "c"], 900, T0 + 1) is True  # a partner joined test mode
    assert policy.due(state, ["b"], 900, T0 - 5) is True  # the clock went back


def verdict(holds, reason=None):
    return {"holds": holds, "reason": reason, "policy": "secure", "problems": [] if holds else ["x: why"],
            "connectors": [{"nexthop": "b.test", "host": "mx.b.test:25", "ok": holds, "reason": reason}],
            "probed_at": T0}


def test_one_mail_when_the_policy_stops_holding_and_one_when_it_holds_again():
    incidents, alerts = policy.step({}, {"b": verdict(True)}, T0)
    assert (incidents, alerts) == ({}, [])
    incidents, alerts = policy.step(incidents, {"b": verdict(False, "certificate_untrusted")}, T0 + 900)
    assert [(a.kind, a.partner) for a in alerts] == [("policy_fails", "b")]
    message = policy.build_message(alerts[0], "partnermail-health@mx.a.test", ["postmaster@a.test"], "mx.a.test")
    assert message["Subject"] == ("[partnermail] mx.a.test: partner b (test mode): the declared policy would fail "
                                  "(certificate_untrusted)")
    body = message.get_content()
    assert "NOT ENFORCED" in body and "mx.b.test:25 (b.test): FAILS (certificate_untrusted)" in body
    assert "x: why" in body
    incidents, alerts = policy.step(incidents, {"b": verdict(False, "certificate_untrusted")}, T0 + 1800)
    assert alerts == [] and list(incidents) == ["b"]
    incidents, alerts = policy.step(incidents, {"b": verdict(True)}, T0 + 2700)
    assert [(a.kind, a.since, a.now) for a in alerts] == [("policy_holds", T0 + 900, T0 + 2700)]
    assert incidents == {}
    assert "holds again" in policy.build_message(alerts[0], "f@a.test", ["p@a.test"], "mx.a.test")["Subject"]
    # A partner that leaves test mode during an incident leaves without a mail.
    incidents, _unused = policy.step({}, {"b": verdict(False, "other")}, T0)
    assert policy.step(incidents, {}, T0 + 60) == ({}, [])
