"""The link report backend driven by stub lookups and probes: targets, policies, rows and layout."""

import copy
import threading
import time

import pytest

from ansible_collections.partnermail.links.plugins.module_utils import _report
from ansible_collections.partnermail.links.plugins.module_utils._model import mx_routed_nexthops, validate_model

INVENTORY = {
    "partnermail_hostname": "mx.a.test",
    "partnermail_domains": ["a.test"],
    "partnermail_partners": [
        {
            "name": "b",
            "domains": ["b.test", "b2.test"],
            "connectors": [{"cost": 1, "via": "dns"}, {"cost": 5, "host": "backup.b.test", "port": 2525}],
            "tls": {"level": "secure", "ca_file": "/ca/b.pem"},
            "outbound_auth": {"username": "a-test", "password": "Out-To-B-secret-1"},
            "inbound_auth": {"username": "b-test", "password": "In-From-B-secret-1"},
        },
        {
            "name": "d",
            "domains": ["d.test"],
            "connectors": [{"cost": 1, "via": "dns"}],
            "tls": {"level": "dane-only"},
            "outbound_auth": {"username": "a-test", "password": "Out-To-D-secret-1"},
            "inbound_auth": {"username": "d-test", "password": "In-From-D-secret-1"},
        },
    ],
}


def mx(domain, dane=False):
    host = f"mx.{domain}"
    return {"status": "ok", "message": "", "mx": [{
        "host": host, "addresses": ["127.0.0.1"], "dane": dane,
        "tlsa": {"records": ["3 1 1 " + "ab" * 32] if dane else []}}]}


def good_probe(spec, ca_content):
    return {"status": "ok", "verified": True, "tls": {"protocol": "TLSv1.3", "cipher": "TLS_AES_256_GCM_SHA384"},
            "chain": [{"not_after": "2027-01-01T00:00:00Z"}], "auth": {"attempted": True, "success": True},
            "missing": [], "spec": spec, "ca": ca_content}


@pytest.fixture
def model():
    return validate_model(copy.deepcopy(INVENTORY))


def test_targets_follow_the_connectors_once_per_nexthop(model):
    plan = _report.targets(model["partnermail_partners"])
    assert [(t["partner"], t["cost"], t["nexthop"]) for t in plan] == [
        ("b", 1, "b.test"), ("b", 1, "b2.test"), ("b", 5, "[backup.b.test]:2525"), ("d", 1, "d.test")]


def test_probe_specs_carry_each_links_policy(model):
    seen = []

    def probe(spec, ca_content):
        seen.append((spec, ca_content))
        return good_probe(spec, ca_content)

    rows = _report.link_report(model["partnermail_partners"], {"b": "B-CA"}, "mx.a.test", 5,
                               lambda d: mx(d, dane=d == "d.test"), probe, workers=1)
    assert [row["ok"] for row in rows] == [True] * 4
    specs = {spec.server_name: (spec, ca) for spec, ca in seen}
    secure, ca = specs["mx.b.test"]
    assert ca == "B-CA" and secure.match == ("b.test", ".b.test") and "verified" in secure.require
    assert secure.username == "a-test" and "auth" in secure.require
    backup, _ca = specs["backup.b.test"]
    assert backup.port == 2525 and backup.match == ("backup.b.test", ".backup.b.test")
    dane, ca = specs["mx.d.test"]
    assert ca is None and dane.tlsa == ("3 1 1 " + "ab" * 32,) and "tlsa" in dane.require and not dane.match


def test_dane_only_without_validated_tlsa_is_a_failure_without_probing(model):
    rows = _report.link_report(model["partnermail_partners"][1:], {}, "mx.a.test", 5, mx, None)
    assert len(rows) == 1 and not rows[0]["ok"] and rows[0]["status"] == "no_dane"
    assert "stays queued" in rows[0]["problems"][0]


def test_a_shortfall_fails_the_row_and_is_explained(model):
    def bad_auth(spec, ca_content):
        result = good_probe(spec, ca_content)
        result.update(auth={"attempted": True, "success": False}, missing=["auth: AUTH PLAIN failed: 535"])
        return result

    rows = _report.link_report(model["partnermail_partners"][:1], {}, "mx.a.test", 5, mx, bad_auth)
    assert not any(row["ok"] for row in rows)
    table = _report.text_table(rows)
    assert table[0].split() == list(_report.COLUMNS)
    assert "NO" in table[1] and "FAIL (ok): auth: AUTH PLAIN failed: 535" in table[1]
    assert "Out-To-B-secret-1" not in "\n".join(table)


def test_an_mx_host_named_like_another_partners_sasl_key_fails_its_row(model):
    """Postfix would look up the MX host name first and find partner b's row: d's link would log in as b."""
    def lookup(domain):
        info = mx(domain, dane=True)
        if domain == "d.test":
            info["mx"][0]["host"] = "b2.test"  # d's MX is named like b's MX-routed domain
        return info

    rows = _report.link_report(model["partnermail_partners"], {"b": "B-CA"}, "mx.a.test", 5, lookup, good_probe)
    by_host = {(row["partner"], row["host"]): row for row in rows}
    clash = by_host[("d", "b2.test:25")]
    assert not clash["ok"] and "also partner b's SASL key" in clash["problems"][0], clash
    assert all(row["ok"] for row in rows if row is not clash)
    # A partner's MX host named like its own domain finds its own row: nothing wrong.
    assert _report._sasl_key_clash(model["partnermail_partners"][0], "b.test", mx_routed_nexthops(
        model["partnermail_partners"])) is None


def test_unresolvable_partner_domain_gives_one_failed_row(model):
    def nx(domain):
        return {"status": "nxdomain", "message": f"{domain} does not exist", "mx": []}

    rows = _report.link_report(model["partnermail_partners"][1:], {}, "mx.a.test", 5, nx, None)
    assert rows[0]["status"] == "nxdomain" and rows[0]["problems"] == ["d.test does not exist"]


def test_markdown_lists_our_tlsa_and_every_link(model):
    rows = _report.link_report(model["partnermail_partners"][:1], {}, "mx.a.test", 5, mx, good_probe)
    text = _report.markdown({"mx.a.test": {"rows": rows, "local": {"tlsa": "3 1 1 00", "not_after": "2027",
                                                                   "spki_sha256": "AA"}}})
    assert "_25._tcp.mx.a.test. IN TLSA 3 1 1 00" in text
    assert text.count("| b |") == 3


# ---------------------------------------------------------------- test mode


def in_test_mode(*names):
    inventory = copy.deepcopy(INVENTORY)
    for partner in inventory["partnermail_partners"]:
        if partner["name"] in names:
            partner["mode"] = "test"
    return validate_model(inventory)["partnermail_partners"]


def bad_auth(spec, ca_content):
    result = good_probe(spec, ca_content)
    result.update(auth={"attempted": True, "success": False}, missing=["auth: AUTH PLAIN failed: 535"])
    return result


def test_a_partner_in_test_mode_is_probed_with_its_declared_policy(model):
    seen = {}

    def probe(spec, ca_content):
        seen.setdefault(spec.server_name, []).append((spec, ca_content))
        return good_probe(spec, ca_content)

    def lookup(domain):
        return mx(domain, dane=domain == "d.test")

    enforced_rows = _report.link_report(model["partnermail_partners"], {"b": "B-CA"}, "mx.a.test", 5, lookup, probe,
                                        workers=1)
    enforced_specs, seen = seen, {}
    tested_rows = _report.link_report(in_test_mode("b", "d"), {"b": "B-CA"}, "mx.a.test", 5, lookup, probe, workers=1)
    assert seen == enforced_specs  # the same probes: policy, names, pins, TLSA and credentials
    assert [row["mode"] for row in enforced_rows] == ["enforce"] * 4
    assert [row["mode"] for row in tested_rows] == ["test"] * 4
    assert [{k: v for k, v in row.items() if k != "mode"} for row in tested_rows] == [
        {k: v for k, v in row.items() if k != "mode"} for row in enforced_rows]


@pytest.mark.parametrize("mode, probe, result, counts", [
    ("enforce", good_probe, "ok", (0, 0)),
    ("enforce", bad_auth, "FAIL (ok): auth: AUTH PLAIN failed: 535", (3, 0)),
    ("test", good_probe, "NOT ENFORCED (test mode): would hold", (0, 0)),
    ("test", bad_auth, "NOT ENFORCED (test mode): would FAIL (ok): auth: AUTH PLAIN failed: 535", (0, 3)),
])
def test_rows_of_a_partner_in_test_mode_are_not_enforced_and_not_failures(mode, probe, result, counts):
    partners = in_test_mode("b" if mode == "test" else None)[:1]
    rows = _report.link_report(partners, {}, "mx.a.test", 5, mx, probe)
    assert {row["mode"] for row in rows} == {mode}
    assert _report.failure_counts(rows) == counts
    table = _report.text_table(rows)
    assert all(line.endswith("  " + result) for line in table[1:]), table
    assert all(f"| {result} |" in line for line in _report.markdown({"mx.a.test": {"rows": rows}}).splitlines()
               if line.startswith("| b |"))


def test_failures_of_enforced_and_test_partners_are_counted_apart():
    def d_fails(spec, ca_content):
        return bad_auth(spec, ca_content) if spec.server_name == "mx.d.test" else good_probe(spec, ca_content)

    rows = _report.link_report(in_test_mode("d"), {}, "mx.a.test", 5, lambda d: mx(d, dane=True), d_fails)
    assert _report.failure_counts(rows) == (0, 1)
    rows = _report.link_report(in_test_mode("b"), {}, "mx.a.test", 5, lambda d: mx(d, dane=True), d_fails)
    assert _report.failure_counts(rows) == (1, 0)
    # A row from a report written before test mode existed has no mode: it counts as enforced.
    assert _report.failure_counts([{"ok": False}, {"ok": True}]) == (1, 0)


def test_sasl_key_clashes_come_from_enforced_partners_only():
    """d's MX is named like b's MX-routed domain: a clash while b is enforced, none while b has no SASL rows."""
    def lookup(domain):
        info = mx(domain, dane=True)
        if domain == "d.test":
            info["mx"][0]["host"] = "b2.test"
        return info

    def d_row(partners):
        rows = _report.link_report(partners, {}, "mx.a.test", 5, lookup, good_probe)
        return next(row for row in rows if row["partner"] == "d")

    assert not d_row(in_test_mode()).get("ok")
    assert d_row(in_test_mode("b"))["ok"]
    # d in test mode: its declared link would clash with b's credentials once enforced, and says so.
    tested = d_row(in_test_mode("d"))
    assert not tested["ok"] and "also partner b's SASL key" in tested["problems"][0]
    assert "would FAIL" in _report.result_text(tested)


def test_markdown_names_the_partners_in_test_mode():
    rows = _report.link_report(in_test_mode("d"), {}, "mx.a.test", 5, lambda d: mx(d, dane=True), good_probe)
    text = _report.markdown({"mx.a.test": {"rows": rows, "local": {"tlsa": "3 1 1 00"}}})
    assert "- partners in test mode (NOT ENFORCED): d - " in text
    enforced_only = [row for row in rows if row["partner"] == "b"]
    assert "NOT ENFORCED" not in _report.markdown({"mx.a.test": {"rows": enforced_only}})


@pytest.mark.parametrize("workers", [1, 3, 32])
def test_at_most_workers_probes_run_at_once_and_rows_keep_model_order(workers):
    """report_concurrency bounds the probes in flight (each is an SMTP session with the partner's server)."""
    partners = validate_model({**copy.deepcopy(INVENTORY), "partnermail_partners": [
        {"name": f"p{i}", "domains": [f"p{i}.test"], "connectors": [{"cost": 1, "host": f"mx.p{i}.test"}],
         "tls": {"level": "encrypt"}, "outbound_auth": {"username": "a-test", "password": "Out-To-P-secret-1"},
         "inbound_auth": {"username": f"p{i}-test", "password": "In-From-P-secret-1"}} for i in range(12)]})
    lock, state = threading.Lock(), {"now": 0, "most": 0}

    def slow_probe(spec, ca_content):
        with lock:
            state["now"] += 1
            state["most"] = max(state["most"], state["now"])
        time.sleep(0.02)
        with lock:
            state["now"] -= 1
        return good_probe(spec, ca_content)

    rows = _report.link_report(partners["partnermail_partners"], {}, "mx.a.test", 5, mx, slow_probe,
                               workers=workers)
    assert [row["partner"] for row in rows] == [f"p{i}" for i in range(12)]
    assert state["most"] == min(workers, 12)
