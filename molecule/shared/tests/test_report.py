"""The link report: written by site.yml, and probe.yml alone, which changes nothing on the MTAs."""

from __future__ import annotations

import json
import os
import re

import yaml
from runner import HOST_VARS, REPORT_DIR, playbook


def test_site_wrote_a_report_where_every_link_meets_its_policy():
    with open(os.path.join(REPORT_DIR, "links.json"), encoding="utf-8") as handle:
        report = json.load(handle)
    assert sorted(report) == ["mx.a.test", "mx.b.test"]
    for mta, peer in (("mx.a.test", "b"), ("mx.b.test", "a")):
        rows = [row for row in report[mta]["rows"] if row["partner"] == peer]
        assert {(row["partner"], row["cost"]) for row in rows} == {(peer, 1), (peer, 5)}
        for row in rows:
            assert row["ok"] and row["verified"] and row["auth_ok"] and row["inbound"] == "login", row
            assert row["protocol"] in ("TLSv1.2", "TLSv1.3")
        assert re.fullmatch(r"3 1 1 [0-9a-f]{64}", report[mta]["local"]["tlsa"])
    # mx-a's partners without a login (inventory/host_vars/mx-a.yml): probed for TLS only (level encrypt), no AUTH.
    others = {row["partner"]: row for row in report["mx.a.test"]["rows"] if row["partner"] != "b"}
    assert {name: (row["ok"], row["auth_ok"], row["inbound"]) for name, row in others.items()} == {
        "c-cert": (True, None, "2 pins"), "c-net": (True, None, "1 network")}
    markdown = open(os.path.join(REPORT_DIR, "links.md"), encoding="utf-8").read()
    assert "_25._tcp.mx.a.test. IN TLSA 3 1 1 " in markdown
    assert "| b | 5 | [backup.b.test]:2525 |" in markdown


def test_probe_reports_a_broken_link_and_changes_nothing(pytestconfig, tmp_path, hosts):
    with open(os.path.join(HOST_VARS, "mx-a.yml"), encoding="utf-8") as handle:
        partners = yaml.safe_load(handle)["partnermail_partners"]
    partners[0]["outbound_auth"] = {"username": "a-test", "password": "not-the-right-one-42"}
    before = hosts("mx-a").check_output("find /etc/postfix /etc/dovecot /etc/partnermail -type f | xargs md5sum")
    rc, out = playbook(pytestconfig, tmp_path, "probe.yml",
                       {"partnermail_partners": partners, "report_fail_on_policy": True})
    assert rc != 0, out
    assert "link(s) of mx-a do not meet their policy: b" in out, out
    assert re.search(r"b\s+1\s+b\.test\s+mx\.b\.test:25\s+secure\s+yes\s+.*\s+NO\s+login\s+FAIL \(ok\): auth: AUTH",
                     out), out
    assert "not-the-right-one-42" not in out
    assert hosts("mx-a").check_output("find /etc/postfix /etc/dovecot /etc/partnermail -type f | xargs md5sum") \
        == before
    # Put the report back as site.yml leaves it.
    rc, out = playbook(pytestconfig, tmp_path, "probe.yml", limit="mx-a,mx-b")
    assert rc == 0, out


def test_report_drops_mtas_that_left_the_inventory_and_keeps_those_outside_the_limit(pytestconfig, tmp_path):
    path = os.path.join(REPORT_DIR, "links.json")
    with open(path, encoding="utf-8") as handle:
        report = json.load(handle)
    report["mx.gone.test"] = report["mx.b.test"]
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(report, handle)
    rc, out = playbook(pytestconfig, tmp_path, "probe.yml", limit="mx-a")
    assert rc == 0, out
    with open(path, encoding="utf-8") as handle:
        after = json.load(handle)
    assert sorted(after) == ["mx.a.test", "mx.b.test"]
    assert after["mx.b.test"] == report["mx.b.test"]  # not probed in this run: kept as it was
    markdown = open(os.path.join(REPORT_DIR, "links.md"), encoding="utf-8").read()
    assert "mx.gone.test" not in markdown
