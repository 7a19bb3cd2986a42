"""_health.check.run(): one pass over a log, a queue and certificates -> state, metrics file, alert mail."""

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from ansible_collections.partnermail.links.plugins.module_utils._health import check

from .health_lines import STATUS_LINES, TLS_LINES, VERIFIED_PAIRS
from .pki_helpers import make_ca, write_pem

UTC = timezone.utc
T0 = datetime(2026, 12, 2, 1, 0, tzinfo=UTC).timestamp()
PACKAGE = Path(check.__file__).parent


def queue_text(*messages):
    return "\n".join(json.dumps({"queue_name": "deferred", "queue_id": f"Q{index}", "arrival_time": arrival,
                                 "message_size": 1, "forced_expire": False, "sender": "a@a.test",
                                 "recipients": [{"address": address, "delay_reason": reason}]})
                     for index, (arrival, address, reason) in enumerate(messages)) + "\n"


@pytest.fixture
def world(tmp_path):
    (tmp_path / "state").mkdir()
    (tmp_path / "textfile").mkdir()
    _unused, ca_cert, _unused = make_ca()
    config = {
        "log_path": str(tmp_path / "mail.log"),
        "state_dir": str(tmp_path / "state"),
        "textfile_path": str(tmp_path / "textfile" / "partnermail.prom"),
        "partner_domains": {"b.test": "b", ".b.test": "b", "c.test": "c"},
        "certificates": [{"certificate": "own", "path": write_pem(tmp_path / "own.pem", ca_cert)},
                         {"certificate": "trust_anchor", "partner": "b", "path": str(tmp_path / "missing.pem")}],
        "alert": {"threshold_seconds": 3600, "to": ["postmaster@a.test"], "hostname": "mx-a.a.test"},
    }
    (tmp_path / "mail.log").write_text("")
    return tmp_path, config


def append(path, *lines):
    with open(path, "a") as handle:
        handle.write("".join(line + "\n" for line in lines))


def sample(text, name, **labels):
    want = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    prefix = f"{name}{{{want}}} " if labels else f"{name} "
    found = [line[len(prefix):] for line in text.splitlines() if line.startswith(prefix)]
    return float(found[0]) if found else None


def test_an_incident_from_start_to_end(world):
    tmp_path, config = world
    log = tmp_path / "mail.log"
    untrusted = STATUS_LINES[2][1]  # 00:53:25, Server certificate not verified, to bob@untrusted.b.test
    mismatch_verify, mismatch_status = VERIFIED_PAIRS[0][1], VERIFIED_PAIRS[0][2]
    append(log, TLS_LINES["3.7"], STATUS_LINES[0][1], untrusted)
    stuck_queue = queue_text((T0 - 4000, "bob@untrusted.b.test", "Server certificate not verified"),
                             (T0 - 100, "bob@x.b.test", "Server certificate not verified"))

    first = check.run(config, now=T0, postqueue=lambda: stuck_queue, tz=UTC)
    assert first.success is True
    assert first.errors == [f"certificate {tmp_path / 'missing.pem'}: [Errno 2] No such file or directory: "
                            f"'{tmp_path / 'missing.pem'}'"]
    assert [message["X-Partnermail-Alert"] for message in first.messages] == ["stuck"]
    assert "partner b stuck for 1h 6m (2 messages, certificate_untrusted)" in first.messages[0]["Subject"]
    status = first.statuses["b"]
    assert (status["queued"], status["oldest_age_seconds"], status["reason"], status["stuck"]) == (
        2, 4000, "certificate_untrusted", True)
    assert status["attempts"] == {"sent": 1, "deferred": 1, "bounced": 0}

    prom = Path(config["textfile_path"]).read_text()
    assert prom == first.metrics
    assert sample(prom, "partnermail_partner_queued_messages", partner="b") == 2
    assert sample(prom, "partnermail_partner_queued_messages", partner="c") == 0
    assert sample(prom, "partnermail_partner_oldest_queued_age_seconds", partner="b") == 4000
    assert sample(prom, "partnermail_partner_deferral_reason", partner="b", reason="certificate_untrusted") == 1
    assert sample(prom, "partnermail_partner_deferral_reason", partner="b", reason="name_mismatch") == 0
    assert sample(prom, "partnermail_partner_stuck", partner="b") == 1
    assert sample(prom, "partnermail_partner_delayed_messages", partner="b", reason="certificate_untrusted") == 2
    assert sample(prom, "partnermail_partner_last_delivery_timestamp_seconds", partner="b") == \
        datetime(2026, 12, 2, 0, 53, 25, tzinfo=UTC).timestamp()
    assert sample(prom, "partnermail_partner_last_delivery_timestamp_seconds", partner="c") is None
    assert sample(prom, "partnermail_partner_delivery_attempts_total", partner="b", status="deferred") == 1
    assert sample(prom, "partnermail_certificate_expiry_timestamp_seconds", certificate="own") > T0
    assert sample(prom, "partnermail_health_last_success_timestamp_seconds") == T0
    assert sample(prom, "partnermail_health_errors") == 1
    assert sample(prom, "partnermail_health_log_lines_read_total") == 3
    assert sample(prom, "partnermail_partner_insecure_deliveries_total", partner="b") == 0
    assert "# TYPE partnermail_partner_delivery_attempts_total counter" in prom

    # The incident goes on, now with a name mismatch: no mail, the reason follows the log.
    append(log, mismatch_verify, mismatch_status)
    second = check.run(config, now=T0 + 60, postqueue=lambda: stuck_queue, tz=UTC)
    assert second.messages == [] and second.statuses["b"]["reason"] == "name_mismatch"
    assert sample(second.metrics, "partnermail_health_log_lines_read_total") == 5

    # Drained: one "recovered" mail; the counters went on from the state.
    append(log, STATUS_LINES[0][1])
    third = check.run(config, now=T0 + 120, postqueue=lambda: "", tz=UTC)
    assert [message["X-Partnermail-Alert"] for message in third.messages] == ["recovered"]
    assert third.statuses["b"]["attempts"] == {"sent": 2, "deferred": 2, "bounced": 0}
    assert third.statuses["b"]["reason"] is None
    assert sample(third.metrics, "partnermail_partner_stuck", partner="b") == 0
    state = json.loads((tmp_path / "state" / "state.json").read_text())
    assert state["alerts"] == {"incidents": {}} and state["log"]["offset"] == log.stat().st_size
    assert sorted(os.listdir(tmp_path / "state")) == ["lock", "state.json"]


def test_a_partner_delivery_without_verified_tls_is_counted_and_mailed_at_once(world):
    tmp_path, config = world
    log = tmp_path / "mail.log"
    untrusted_tls = TLS_LINES["3.10"].replace("Verified TLS", "Untrusted TLS")
    sent = STATUS_LINES[1][1]  # pid 924 to 127.0.0.1[127.0.0.1]:2501, like the TLS line
    append(log, untrusted_tls, sent, sent.replace("89A3C1883EE", "89A3C1883FF"))
    first = check.run(config, now=T0, postqueue=lambda: "", tz=UTC)
    assert [message["X-Partnermail-Alert"] for message in first.messages] == ["insecure_delivery"]
    mail = first.messages[0]
    assert mail["X-Partnermail-Partner"] == "b"
    assert mail["Subject"] == ("[partnermail] mx-a.a.test: mail to partner b delivered without TLS with a verified "
                               "certificate (2 deliveries, Untrusted TLS)")
    body = mail.get_content()
    assert "89A3C1883EE  to=<bob@ok.b.test>\n      relay=127.0.0.1[127.0.0.1]:2501, Untrusted TLS\n" in body
    assert "89A3C1883FF  to=<bob@ok.b.test>\n      relay=127.0.0.1[127.0.0.1]:2501, no TLS\n" in body
    assert "counted so far: 2" in body
    # Plain 7bit text a person reads in any mail client: no line over 78 columns, no quoted-printable.
    assert mail["Content-Transfer-Encoding"] == "7bit"
    assert max(len(line) for line in body.splitlines()) <= 78
    prom = Path(config["textfile_path"]).read_text()
    assert sample(prom, "partnermail_partner_insecure_deliveries_total", partner="b") == 2
    assert sample(prom, "partnermail_partner_insecure_deliveries_total", partner="c") == 0
    assert "# TYPE partnermail_partner_insecure_deliveries_total counter" in prom

    # Nothing new: no mail, the counter stays. A verified delivery: still none.
    append(log, TLS_LINES["3.10"], sent.replace("89A3C1883EE", "89A3C188400"))
    second = check.run(config, now=T0 + 60, postqueue=lambda: "", tz=UTC)
    assert second.messages == []
    assert sample(second.metrics, "partnermail_partner_insecure_deliveries_total", partner="b") == 2


def test_at_level_encrypt_only_a_delivery_without_tls_is_insecure(world):
    tmp_path, config = world
    untrusted_tls = TLS_LINES["3.10"].replace("Verified TLS", "Untrusted TLS")
    sent = STATUS_LINES[1][1]
    append(tmp_path / "mail.log", untrusted_tls, sent, sent.replace("89A3C1883EE", "89A3C1883FF"))
    result = check.run(config | {"tls_requirements": {"b": "encrypted"}}, now=T0, postqueue=lambda: "", tz=UTC)
    assert [message["Subject"] for message in result.messages] == [
        "[partnermail] mx-a.a.test: mail to partner b delivered without TLS (its level is encrypt) "
        "(1 delivery, no TLS)"]


def test_many_partners_with_insecure_deliveries_make_one_digest(world):
    tmp_path, config = world
    names = [f"p{index}" for index in range(check._alerts.DIGEST_OVER + 1)]
    config = config | {"partner_domains": {f"{name}.test": name for name in names}}
    lines = [STATUS_LINES[1][1].replace("bob@ok.b.test", f"bob@{name}.test") for name in names]
    append(tmp_path / "mail.log", *lines)
    result = check.run(config, now=T0, postqueue=lambda: "", tz=UTC)
    assert [message["X-Partnermail-Alert"] for message in result.messages] == ["insecure_delivery-digest"]
    assert f"mail to {len(names)} partners delivered without the required TLS" in result.messages[0]["Subject"]
    assert "  p0: 1, 127.0.0.1[127.0.0.1]:2501: no TLS" in result.messages[0].get_content()


def test_a_failing_postqueue_is_no_success_and_keeps_the_incidents(world):
    _unused, config = world
    stuck = queue_text((T0 - 4000, "bob@b.test", "Cannot start TLS: handshake failure"))
    assert check.run(config, now=T0, postqueue=lambda: stuck, tz=UTC).messages
    config["postqueue_command"] = [sys.executable, "-c", "import sys; sys.exit('postqueue: fatal: whatever')"]
    failed = check.run(config, now=T0 + 60, tz=UTC)
    assert failed.success is False and failed.messages == []
    assert any("exited 1: postqueue: fatal: whatever" in error for error in failed.errors)
    assert sample(failed.metrics, "partnermail_health_last_success_timestamp_seconds") == T0  # the old one
    assert sample(failed.metrics, "partnermail_partner_stuck", partner="b") == 1
    recovered = check.run(config | {"postqueue_command": [sys.executable, "-c", "pass"]}, now=T0 + 120, tz=UTC)
    assert [message["X-Partnermail-Alert"] for message in recovered.messages] == ["recovered"]


def test_a_missing_log_is_no_success(world):
    tmp_path, config = world
    os.unlink(tmp_path / "mail.log")
    result = check.run(config, now=T0, postqueue=lambda: "", tz=UTC)
    assert result.success is False and f"log {tmp_path / 'mail.log'} does not exist" in result.errors
    assert sample(result.metrics, "partnermail_health_last_success_timestamp_seconds") is None


def test_no_recipients_no_mail_but_the_incident_is_tracked(world):
    _unused, config = world
    config["alert"]["to"] = []
    stuck = queue_text((T0 - 4000, "bob@b.test", "Cannot start TLS: handshake failure"))
    result = check.run(config, now=T0, postqueue=lambda: stuck, tz=UTC)
    assert result.messages == [] and result.statuses["b"]["stuck"] is True


def test_log_start_end_skips_the_history(world):
    tmp_path, config = world
    append(tmp_path / "mail.log", STATUS_LINES[0][1])
    result = check.run(config | {"log_start": "end"}, now=T0, postqueue=lambda: "", tz=UTC)
    assert result.statuses["b"]["last_delivery"] is None


def test_a_second_run_at_the_same_time_does_nothing(world):
    tmp_path, config = world
    import fcntl  # noqa: PLC0415

    with open(tmp_path / "state" / "lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        result = check.run(config, now=T0, postqueue=lambda: "", tz=UTC)
    assert result.errors == ["another health check is running: this one did nothing"]
    assert not (tmp_path / "state" / "state.json").exists()


def test_a_damaged_state_file_starts_over(world):
    tmp_path, config = world
    append(tmp_path / "mail.log", STATUS_LINES[0][1])
    (tmp_path / "state" / "state.json").write_text("{not json")
    result = check.run(config, now=T0, postqueue=lambda: "", tz=UTC)
    assert result.success and result.statuses["b"]["attempts"]["sent"] == 1


@pytest.mark.parametrize(("change", "message"), [
    ({"log_path": ""}, "log_path: must be a non-empty string"),
    ({"state_dir": None}, "state_dir: must be a non-empty string"),
    ({"partner_domains": ["b.test"]}, "partner_domains: must be a mapping of domain to partner name"),
    ({"partner_domains": {"b.test": 3}}, "partner_domains.b.test: must map a domain to a partner name"),
    ({"certificates": [{"path": "/x"}]}, "certificates[0].certificate: must be a non-empty string"),
    ({"certificates": [{"certificate": "own", "path": "/x", "file": 1}]}, "certificates[0]: unknown keys file"),
    ({"alert": {"threshold_seconds": 0}}, "alert.threshold_seconds: must be a positive number of seconds"),
    ({"alert": {"to": "postmaster@a.test"}}, "alert.to: must be a list of mail addresses"),
    ({"alert": {"threshold": 60}}, "alert: unknown keys threshold"),
    ({"postqueue_command": "postqueue -j"}, "postqueue_command: must be a non-empty list of strings"),
    ({"log_start": "middle"}, "log_start: must be one of beginning, end"),
    ({"extra": 1}, "extra: unknown key"),
    ({"tls_requirements": {"b": "secure"}}, "tls_requirements.b: must be one of verified, encrypted"),
    ({"tls_requirements": ["b"]}, "tls_requirements: must be a mapping of partner name to verified or encrypted"),
])
def test_config_errors_name_the_field(world, change, message):
    _unused, config = world
    with pytest.raises(check.ConfigError) as err:
        check.load_config(config | change)
    assert any(error.startswith(message) for error in err.value.errors), err.value.errors


def test_config_defaults(world):
    _unused, config = world
    loaded = check.load_config({key: config[key] for key in ("log_path", "state_dir", "textfile_path",
                                                             "partner_domains")})
    assert (loaded.threshold, loaded.alert_to, loaded.transport, loaded.log_start, loaded.postqueue_command) == (
        3600, [], "partner", "beginning", ["/usr/sbin/postqueue", "-j"])
    assert loaded.alert_from == f"partnermail-health@{loaded.hostname}"
    # Without tls_requirements every partner not in test mode must have had a verified certificate.
    assert loaded.tls_requirements == {"b": "verified", "c": "verified"}


def test_the_package_works_as_a_plain_directory_next_to_a_script(world):
    """What the role installs: _health/ copied next to the program, imported without the collection."""
    tmp_path, config = world
    bin_dir = tmp_path / "bin"
    shutil.copytree(PACKAGE, bin_dir / "_health", ignore=shutil.ignore_patterns("__pycache__"))
    (bin_dir / "check.py").write_text(
        "import json, sys\nfrom _health import check\n"
        "result = check.run(json.load(open(sys.argv[1])), postqueue=lambda: '')\n"
        "print(json.dumps({'success': result.success, 'partners': sorted(result.statuses)}))\n")
    (tmp_path / "config.json").write_text(json.dumps(config))
    proc = subprocess.run([sys.executable, "-E", "-s", str(bin_dir / "check.py"), str(tmp_path / "config.json")],
                          capture_output=True, text=True, check=False, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"success": True, "partners": ["b", "c"]}


def test_the_package_uses_the_standard_library_and_relative_imports_only():
    for path in PACKAGE.glob("*.py"):
        for line in path.read_text().splitlines():
            if line.startswith(("import ", "from ")):
                module = line.split()[1]
                assert module.startswith(".") or module.split(".")[0] in sys.stdlib_module_names, (path.name, line)


def partner_in_test_mode(name="b", domain="b.test"):
    return {"name": name, "mode": "test", "domains": [domain],
            "connectors": [{"cost": 1, "via": "dns", "host": None, "port": 25, "nexthops": {domain: domain}}],
            "tls": {"level": "secure", "match": [], "ca_file": "trust/b.pem", "fingerprints": []},
            "outbound_auth": {"username": "a-test", "password": "Out-To-B-secret-1"}}


def probe_rows(ok, reason_problem="verified: not trusted by ca_content: unable to get local issuer certificate"):
    return [{"partner": "b", "cost": 1, "nexthop": "b.test", "host": "mx.b.test:25", "policy": "secure",
             "status": "ok", "verified": ok, "ok": ok, "problems": [] if ok else [reason_problem]}]


def test_partners_in_test_mode_are_probed_when_due_and_alerted_once(world):
    tmp_path, config = world
    (tmp_path / "trust").mkdir()
    (tmp_path / "trust" / "b.pem").write_text("ANCHOR OF B\n")
    config["policy_probe"] = {"partners": [partner_in_test_mode()], "interval_seconds": 900, "timeout": 3,
                              "trust_dir": str(tmp_path / "trust")}
    calls = []

    def prober(rows):
        def run_probe(partners, anchors, helo, timeout):
            calls.append(([p["name"] for p in partners], anchors, helo, timeout))
            return rows
        return run_probe

    def empty():
        return ""

    first = check.run(config, now=T0, postqueue=empty, tz=UTC, prober=prober(probe_rows(False)))
    assert calls == [(["b"], {"b": "ANCHOR OF B\n"}, "mx-a.a.test", 3)]
    assert [m["X-Partnermail-Alert"] for m in first.messages] == ["policy_fails"]
    assert "(certificate_untrusted)" in first.messages[0]["Subject"]
    assert first.policies["b"]["holds"] is False
    prom = Path(config["textfile_path"]).read_text()
    assert sample(prom, "partnermail_partner_enforced", partner="b") == 0
    assert sample(prom, "partnermail_partner_enforced", partner="c") == 1
    assert sample(prom, "partnermail_partner_policy_holds", partner="b") == 0
    assert sample(prom, "partnermail_partner_policy_failure_reason", partner="b", reason="certificate_untrusted") == 1
    assert sample(prom, "partnermail_partner_policy_failure_reason", partner="b", reason="name_mismatch") == 0
    assert sample(prom, "partnermail_partner_policy_connector_ok", partner="b", nexthop="b.test",
                  host="mx.b.test:25") == 0
    assert sample(prom, "partnermail_partner_policy_probe_timestamp_seconds", partner="b") == T0

    # Not due: the verdict is kept, nothing probed, no second mail.
    second = check.run(config, now=T0 + 60, postqueue=empty, tz=UTC, prober=prober(probe_rows(True)))
    assert len(calls) == 1 and second.messages == [] and second.policies["b"]["holds"] is False
    assert sample(Path(config["textfile_path"]).read_text(), "partnermail_partner_policy_holds", partner="b") == 0

    third = check.run(config, now=T0 + 900, postqueue=empty, tz=UTC, prober=prober(probe_rows(True)))
    assert len(calls) == 2
    assert [m["X-Partnermail-Alert"] for m in third.messages] == ["policy_holds"]
    assert sample(Path(config["textfile_path"]).read_text(), "partnermail_partner_policy_holds", partner="b") == 1

    # Back to enforce: no probe, no policy metrics, partner enforced again.
    del config["policy_probe"]
    fourth = check.run(config, now=T0 + 2000, postqueue=empty, tz=UTC, prober=prober(probe_rows(False)))
    assert len(calls) == 2 and fourth.messages == [] and fourth.policies == {}
    prom = Path(config["textfile_path"]).read_text()
    assert "partnermail_partner_policy_holds" not in prom
    assert sample(prom, "partnermail_partner_enforced", partner="b") == 1


def test_a_failing_prober_costs_only_the_verdict(world):
    _unused, config = world
    config["policy_probe"] = {"partners": [partner_in_test_mode()]}

    def broken(*_args):
        raise OSError("no route")

    result = check.run(config, now=T0, postqueue=lambda: "", tz=UTC, prober=broken)
    assert result.success is True
    assert "probing the partners in test mode failed: OSError: no route" in result.errors
    assert sample(Path(config["textfile_path"]).read_text(), "partnermail_partner_queued_messages", partner="b") == 0


def test_in_test_mode_deliveries_by_the_internet_connector_count(world):
    tmp_path, config = world
    internet = ("Dec 02 00:53:25 mx-a postfix/smtp[915]: EA63C1844A4: to=<bob@b.test>, relay=mx.b.test[10.0.0.2]:25,"
                " delay=0.18, delays=0.05/0.05/0.06/0.01, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 1676)")
    append(tmp_path / "mail.log", internet)
    enforced = check.run(dict(config), now=T0, postqueue=lambda: "", tz=UTC)
    assert enforced.statuses["b"]["last_delivery"] is None  # enforced: only the partner transport delivers
    shutil.rmtree(config["state_dir"])
    os.mkdir(config["state_dir"])
    config["policy_probe"] = {"partners": [partner_in_test_mode()], "interval_seconds": 900}
    testing = check.run(config, now=T0, postqueue=lambda: "", tz=UTC, prober=lambda *_a: probe_rows(True))
    assert testing.statuses["b"]["last_delivery"] == datetime(2026, 12, 2, 0, 53, 25, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(("policy_probe", "field"), [
    ({"partners": [{"name": "b"}]}, "policy_probe.partners"),
    ({"interval_seconds": 0}, "policy_probe.interval_seconds"),
    ({"timeout": 600}, "policy_probe.timeout"),
    ({"helo": "x"}, "policy_probe: unknown keys helo"),
    ([], "policy_probe: must be a mapping"),
])
def test_bad_policy_probe_settings_name_the_field(world, policy_probe, field):
    _unused, config = world
    config["policy_probe"] = policy_probe
    with pytest.raises(check.ConfigError) as err:
        check.load_config(config)
    assert any(error.startswith(field) for error in err.value.errors), err.value.errors
