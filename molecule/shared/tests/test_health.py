"""The health check in operation: metrics scraped from the node exporter, alert mail once per incident, test mode.

The check runs from cron every minute on each MTA (the containers have no systemd); the scenario sets the alert
threshold to 1 minute. The long tests (a broken link, test mode) run in one run of the release matrix only
(PARTNERMAIL_SKIP_LONG=1 skips them): they wait for the schedule, minutes each.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import shlex
import time

import pytest
from mail import MAILDIR, log_mark, queued, send, token, wait_delivered, wait_log
from runner import HOST_VARS, REPORT_DIR, playbook
from test_link import dns_changed

PROM = "/var/lib/prometheus/node-exporter/partnermail.prom"
POSTMASTER = f"{MAILDIR}/a.test/postmaster/new"
long_test = pytest.mark.skipif(os.environ.get("PARTNERMAIL_SKIP_LONG") == "1",
                               reason="long health tests run in one run of the matrix")


_SAMPLE = re.compile(r'^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>.*)\})? (?P<value>\S+)')
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def metric(text: str, name: str, **labels) -> float | None:
    """The sample's value; labels with an empty value count as absent (the node exporter's textfile collector
    gives every sample of a family the same label names, filling the missing ones with "")."""
    for line in text.splitlines():
        match = _SAMPLE.match(line)
        if match is None or match["name"] != name:
            continue
        found = {key: value for key, value in _LABEL.findall(match["labels"] or "") if value}
        if found == labels:
            return float(match["value"])
    return None


def scrape(hosts, target: str) -> str:
    """GET /metrics of ``target``'s node exporter, from the outsider (another host of the network)."""
    address = hosts(target).check_output("hostname -i").split()[0]
    code = (f"import urllib.request; print(urllib.request.urlopen('http://{address}:9100/metrics', timeout=10)"
            ".read().decode())")
    return hosts("outsider").check_output(f"python3 -c {shlex.quote(code)}")


def wait_metrics(host, predicate, timeout: float = 150, what: str = "") -> str:
    """The metrics file once ``predicate(text)`` holds; written by the scheduled check, never by the test."""
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = host.run(f"cat {PROM}").stdout
        if predicate(text):
            return text
        time.sleep(3)
    raise AssertionError(f"{what or 'the metrics'} not seen on {host} within {timeout}s:\n{text[-3000:]}\n"
                         f"{host.run('tail -20 /var/log/partnermail-health.log').stdout}")


def alerts(host, partner: str, kind: str | None = None) -> list[str]:
    """The alert mails about ``partner`` in the postmaster's mailbox of a.test (mx-a)."""
    names = host.run(f"grep -l -- 'X-Partnermail-Partner: {partner}' {POSTMASTER}/* 2>/dev/null").stdout.split()
    found = [host.file(name).content_string for name in sorted(names)]
    return [mail for mail in found if kind is None or f"X-Partnermail-Alert: {kind}\n" in mail]


def wait_alerts(host, partner, kind, count, timeout=150):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = alerts(host, partner, kind)
        if len(found) >= count:
            return found
        time.sleep(3)
    raise AssertionError(f"{count} {kind} alert(s) about {partner} did not arrive within {timeout}s: "
                         f"{len(alerts(host, partner, kind))}; {host.run('tail -20 /var/log/mail.log').stdout}")


def wait_drained(host, domain: str, timeout: float = 90) -> None:
    """Flush ``host``'s queue until nothing in it is for ``domain`` (an earlier test's mail may still be on its way)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        host.run("postqueue -f")
        if f"@{domain}" not in host.check_output("postqueue -j"):
            return
        time.sleep(2)
    raise AssertionError(f"mail for {domain} stays in {host}'s queue: {host.check_output('postqueue -p')}")


def test_the_node_exporter_serves_each_partners_metrics_to_another_host(hosts):
    for mta, partner in (("mx-a", "b"), ("mx-b", "a")):
        # The link is healthy once what is in flight has gone; the next scheduled run then says so.
        wait_drained(hosts(mta), f"{partner}.test")
        wait_metrics(hosts(mta), lambda t, p=partner: metric(t, "partnermail_partner_queued_messages", partner=p) == 0,
                     timeout=100, what="0 queued")
        text = scrape(hosts, mta)
        assert metric(text, "partnermail_partner_queued_messages", partner=partner) == 0, text[-2000:]
        assert metric(text, "partnermail_partner_stuck", partner=partner) == 0
        assert metric(text, "partnermail_partner_enforced", partner=partner) == 1
        assert metric(text, "partnermail_health_errors") == 0, hosts(mta).run("cat /var/log/partnermail-health.log")
        assert time.time() - metric(text, "partnermail_health_last_success_timestamp_seconds") < 180
        for labels in ({"certificate": "own"}, {"certificate": "trust_anchor", "partner": partner}):
            expiry = metric(text, "partnermail_certificate_expiry_timestamp_seconds", **labels)
            assert expiry is not None and expiry > time.time() + 30 * 86400, (labels, expiry)


@long_test
def test_the_check_runs_on_its_schedule(hosts):
    mx_a = hosts("mx-a")
    first = metric(mx_a.check_output(f"cat {PROM}"), "partnermail_health_last_success_timestamp_seconds")
    wait_metrics(mx_a, lambda text: (metric(text, "partnermail_health_last_success_timestamp_seconds") or 0) > first,
                 timeout=100, what="a newer successful run")
    assert mx_a.file("/etc/cron.d/partnermail-health").contains("partnermail-health --config")
    assert mx_a.file("/etc/partnermail/health.json").mode == 0o600


@long_test
def test_a_delivery_shows_in_the_metrics(hosts):
    mx_a = hosts("mx-a")
    tag = token()
    before = metric(mx_a.check_output(f"cat {PROM}"), "partnermail_partner_delivery_attempts_total", partner="b",
                    status="sent") or 0
    send(mx_a, "alice@a.test", "alice@b.test", tag)
    wait_delivered(hosts("mx-b"), "alice@b.test", tag)
    text = wait_metrics(mx_a, lambda t: (metric(t, "partnermail_partner_delivery_attempts_total", partner="b",
                                                status="sent") or 0) > before, what="the delivery")
    assert time.time() - metric(text, "partnermail_partner_last_delivery_timestamp_seconds", partner="b") < 180


NO_STARTTLS_SERVER = r'''
import socket, threading
def serve(conn):
    f = conn.makefile("rwb")
    f.write(b"220 down.b.test ESMTP no TLS here\r\n"); f.flush()
    for line in f:
        verb = line[:4].upper()
        if verb in (b"EHLO", b"HELO"):
            f.write(b"250-down.b.test\r\n250 8BITMIME\r\n")
        elif verb == b"QUIT":
            f.write(b"221 bye\r\n"); f.flush(); break
        else:
            f.write(b"451 4.3.0 try later\r\n")
        f.flush()
    conn.close()
def listen(port):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port)); s.listen(16)
    while True:
        conn, _unused = s.accept(); threading.Thread(target=serve, args=(conn,), daemon=True).start()
for port in (25, 2525):
    threading.Thread(target=listen, args=(port,), daemon=True).start()
threading.Event().wait()
'''


@contextlib.contextmanager
def no_starttls_server(ns):
    """An SMTP server on ns (ports 25 and 2525) that does not offer STARTTLS: what a stripping firewall leaves."""
    encoded = base64.b64encode(NO_STARTTLS_SERVER.encode()).decode()
    ns.check_output(f"echo {encoded} | base64 -d > /tmp/no-starttls.py")
    ns.check_output("nohup python3 /tmp/no-starttls.py >/tmp/no-starttls.log 2>&1 & echo $! > /tmp/no-starttls.pid")
    try:
        yield
    finally:
        ns.run("kill $(cat /tmp/no-starttls.pid)")


@long_test
def test_a_broken_link_is_measured_alerted_once_and_recovers(hosts, ipv4):
    mx_a = hosts("mx-a")
    stuck_before, recovered_before = len(alerts(mx_a, "b", "stuck")), len(alerts(mx_a, "b", "recovered"))
    tag = token()
    # 1. An impostor: both of b's connectors lead to the outsider, whose certificate comes from another CA.
    with dns_changed(hosts, ipv4, mx={"b.test": "mx.c.test"}, addresses={"backup.b.test": "outsider"}):
        mx_a.check_output("postfix reload")
        mark = log_mark(mx_a)
        send(mx_a, "alice@a.test", "alice@b.test", tag)
        wait_log(mx_a, mark, "status=deferred", flush=mx_a)
        text = wait_metrics(mx_a, lambda t: metric(t, "partnermail_partner_deferral_reason", partner="b",
                                                   reason="certificate_untrusted") == 1, what="certificate_untrusted")
        assert metric(text, "partnermail_partner_queued_messages", partner="b") >= 1
        mail = wait_alerts(mx_a, "b", "stuck", stuck_before + 1)[-1]
        assert re.search(r"Subject: \[partnermail\] mx\.a\.test: mail to partner b stuck for .*certificate_untrusted",
                         mail), mail
        assert "Reason:" in mail and "certificate_untrusted" in mail
        text = wait_metrics(mx_a, lambda t: metric(t, "partnermail_partner_stuck", partner="b") == 1, what="stuck")
        assert metric(text, "partnermail_partner_oldest_queued_age_seconds", partner="b") >= 60
        # 2. STARTTLS stripped: the same mail, the same incident, another reason.
        with no_starttls_server(hosts("ns")), dns_changed(hosts, ipv4, mx={"b.test": "down.b.test"},
                                                          addresses={"backup.b.test": "ns"}):
            mx_a.check_output("postfix reload")
            mark = log_mark(mx_a)
            wait_log(mx_a, mark, "was not offered by host", flush=mx_a)
            wait_metrics(mx_a, lambda t: metric(t, "partnermail_partner_deferral_reason", partner="b",
                                                reason="no_starttls") == 1, what="no_starttls")
            assert queued(mx_a, tag)
            assert len(alerts(mx_a, "b", "stuck")) == stuck_before + 1  # once per incident, not once per run
    # 3. Fixed: the queue drains, one recovery mail.
    mx_a.check_output("postfix reload")
    wait_delivered(hosts("mx-b"), "alice@b.test", tag, flush=mx_a)
    mail = wait_alerts(mx_a, "b", "recovered", recovered_before + 1)[-1]
    assert "mail to partner b flows again" in mail, mail
    text = wait_metrics(mx_a, lambda t: metric(t, "partnermail_partner_stuck", partner="b") == 0, what="recovery")
    assert metric(text, "partnermail_partner_queued_messages", partner="b") == 0
    assert len(alerts(mx_a, "b", "stuck")) == stuck_before + 1


@contextlib.contextmanager
def impostor_accepts_b(outsider):
    """The outsider takes mail for alice@b.test into its own Maildir: an impostor that really receives."""
    outsider.check_output("cp /etc/postfix/vmailbox /tmp/vmailbox.saved && echo 'alice@b.test b.test/alice/' "
                          ">> /etc/postfix/vmailbox && postconf -e 'virtual_mailbox_domains = c.test, b.test' "
                          "&& postfix reload")
    try:
        yield
    finally:
        outsider.check_output("cp /tmp/vmailbox.saved /etc/postfix/vmailbox && "
                              "postconf -e 'virtual_mailbox_domains = c.test' && postfix reload")


@long_test
def test_test_mode_delivers_over_may_and_reports_that_the_policy_would_fail(hosts, ipv4, pytestconfig, tmp_path):
    import yaml  # noqa: PLC0415

    mx_a, outsider = hosts("mx-a"), hosts("outsider")
    with open(os.path.join(HOST_VARS, "mx-a.yml"), encoding="utf-8") as handle:
        partners = yaml.safe_load(handle)["partnermail_partners"]
    testing = [dict(partners[0], mode="test")]
    fails_before = len(alerts(mx_a, "b", "policy_fails"))
    with impostor_accepts_b(outsider), dns_changed(hosts, ipv4, mx={"b.test": "mx.c.test"},
                                                   addresses={"backup.b.test": "outsider"}):
        try:
            rc, out = playbook(pytestconfig, tmp_path, "site.yml", {"partnermail_partners": testing})
            assert rc == 0, out
            assert re.search(r"\[WARNING\]: mx-a: partner b is in test mode, NOT ENFORCED", out), out
            report = open(os.path.join(REPORT_DIR, "links.md"), encoding="utf-8").read()
            assert re.search(r"NOT ENFORCED \(test mode\): would FAIL", report), report
            mx_a.check_output("postfix reload")
            tag = token()
            send(mx_a, "alice@a.test", "alice@b.test", tag)
            # Documented risk of test mode: the impostor gets the mail, over opportunistic TLS.
            message = wait_delivered(outsider, "alice@b.test", tag, flush=mx_a)
            assert "Authenticated sender" not in message
            text = wait_metrics(mx_a, lambda t: metric(t, "partnermail_partner_policy_holds", partner="b") == 0,
                                what="the test-mode verdict")
            assert metric(text, "partnermail_partner_enforced", partner="b") == 0
            assert metric(text, "partnermail_partner_policy_failure_reason", partner="b",
                          reason="certificate_untrusted") == 1, text
            mail = wait_alerts(mx_a, "b", "policy_fails", fails_before + 1)[-1]
            assert "the declared policy would fail (certificate_untrusted)" in mail, mail
        finally:
            rc, out = playbook(pytestconfig, tmp_path, "site.yml")
        assert rc == 0, out
        assert "[WARNING]: mx-a: partner b is in test mode" not in out, out
        # Enforced again: the same mail now waits for the real partner.
        mx_a.check_output("postfix reload")
        tag = token()
        mark = log_mark(mx_a)
        send(mx_a, "alice@a.test", "alice@b.test", tag)
        wait_log(mx_a, mark, "status=deferred", flush=mx_a)
        assert queued(mx_a, tag)
    mx_a.check_output("postfix reload")
    wait_delivered(hosts("mx-b"), "alice@b.test", tag, flush=mx_a)
    text = wait_metrics(mx_a, lambda t: metric(t, "partnermail_partner_enforced", partner="b") == 1, what="enforce")
    assert "partnermail_partner_policy_holds" not in text


HEALTH_FILES = ("/etc/cron.d/partnermail-health", "/usr/local/sbin/partnermail-health", "/etc/partnermail/health.json",
                "/usr/local/lib/partnermail", "/var/lib/partnermail-health", PROM)


@long_test
def test_health_enabled_false_removes_the_check_and_true_brings_it_back(hosts, pytestconfig, tmp_path):
    mx_a = hosts("mx-a")
    try:
        disable = ("--tags", "health", "-e", "health_enabled=false")
        rc, out = playbook(pytestconfig, tmp_path, "site.yml", options=disable)
        assert rc == 0, out
        assert [path for path in HEALTH_FILES if mx_a.file(path).exists] == []
    finally:
        rc, out = playbook(pytestconfig, tmp_path, "site.yml", options=("--tags", "health"))
    assert rc == 0, out
    # A tagged run finishes like any other: its snapshot is dropped (left behind, a later failure would restore it).
    assert not mx_a.file("/var/lib/partnermail/run-snapshot.tar").exists
    assert [path for path in HEALTH_FILES[:5] if not mx_a.file(path).exists] == []
    wait_metrics(mx_a, lambda text: "partnermail_health_last_success_timestamp_seconds" in text, timeout=100,
                 what="the check back on its schedule")
