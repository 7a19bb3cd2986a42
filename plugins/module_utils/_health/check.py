"""One check pass: read the log's new lines and the queue, update the state, write the metrics, return the
alert mail to send.

The configuration (a JSON object; ``load_config()`` checks it and names every field at fault)::

    {
      "log_path": "/var/log/mail.log",                        # required
      "state_dir": "/var/lib/partnermail-health",             # required, exists; holds state.json and a lock
      "textfile_path": "/var/lib/prometheus/node-exporter/partnermail.prom",   # required, its directory exists
      "partner_domains": {"b.test": "b", ".b.test": "b"},     # required ({} = no partners); partners.domain_map()
      "transport": "partner",                                 # the partner transport's master.cf name
      "tls_requirements": {"b": "verified"},                  # per enforced partner: "verified" (a verified
                                                              # certificate) or "encrypted" (level encrypt: any
                                                              # TLS); default: verified for each partner not in
                                                              # test mode
      "certificates": [                                       # PEM files whose notAfter is exported
        {"certificate": "own", "path": "/etc/postfix/partnermail/cert.pem"},
        {"certificate": "trust_anchor", "partner": "b", "path": "/etc/postfix/partnermail/trust/b.pem"}
      ],
      "alert": {
        "threshold_seconds": 3600,                            # stuck: oldest queued partner mail at least this old
        "to": ["postmaster@a.test"],                          # [] = no alert mail (metrics only)
        "from": "partnermail-health@mx-a.a.test",             # default: partnermail-health@<hostname>
        "hostname": "mx-a.a.test"                             # default: socket.getfqdn()
      },
      "postqueue_command": ["/usr/sbin/postqueue", "-j"],
      "log_start": "beginning",                               # or "end": without state, skip the log's history
      "log_history_bytes": 16777216,                          # without state, read at most the log's last 16 MiB
      "policy_probe": {                                       # partners in test mode (policy.py)
        "partners": [ ... ],                                  # their entries of the validated model
        "interval_seconds": 900,                              # probe them this often (each run checks if due)
        "timeout": 10,                                        # seconds for each step of each probe
        "helo_name": "mx-a.a.test",                           # default: alert.hostname
        "trust_dir": "/etc/postfix/partnermail/trust"         # <partner>.pem: the partner's trust anchor
      }
    }

A delivery through the partner transport that was not made at the partner's level (logparse.py) is counted in
``partnermail_partner_insecure_deliveries_total`` and reported at once: one mail per run and partner that had one.

``run(config)`` returns a RunResult: ``messages`` (EmailMessage list; ``alerts.message_bytes()`` gives what to
pipe to ``sendmail -t``), ``statuses`` ({partner: status dict}), ``errors`` (what went wrong, one line each),
``events`` (log rotation and truncation seen), ``success`` and ``metrics`` (the text written). The state is saved
before run() returns: an incident's mail is returned once, whether or not the caller manages to send it.

Partners in test mode are probed with their declared policy when due, by the ``prober`` the caller passes (the
check program's is the link report's probe, which needs cryptography and dnspython; this package needs neither).
"""

import fcntl
import os
import socket
import time

from . import alerts as _alerts
from . import certs as _certs
from . import classify as _classify
from . import files as _files
from . import logparse as _logparse
from . import logreader as _logreader
from . import metrics as _metrics
from . import policy as _policy
from . import queue as _queue
from .partners import PartnerIndex

STATE_FILE = "state.json"
LOCK_FILE = "lock"
STATE_VERSION = 1
DEFAULT_THRESHOLD = 3600
LOG_STARTS = ("beginning", "end")
DEFAULT_PROBE_INTERVAL = 900
# The first run (no saved position) reads at most this much of the log's end: about 0.6 s of CPU here, so that no
# run costs more than 1 s even over a large log (a whole 100 MB log took 3.5 s).
DEFAULT_HISTORY_BYTES = 16 * 1024 * 1024
DEFAULT_PROBE_TIMEOUT = 10


class ConfigError(ValueError):
    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__("; ".join(self.errors))


class Config:
    __slots__ = ("alert_from", "alert_to", "certificates", "hostname", "log_history", "log_path", "log_start",
                 "partner_domains", "postqueue_command", "probe_helo", "probe_interval", "probe_partners",
                 "probe_timeout", "state_dir", "textfile_path", "threshold", "tls_requirements", "transport",
                 "trust_dir")


def _string(raw, path, errors, required=True):
    if raw is None and not required:
        return None
    if not isinstance(raw, str) or not raw:
        errors.append(f"{path}: must be a non-empty string")
        return None
    return raw


def _domains(raw, errors):
    if not isinstance(raw, dict):
        errors.append("partner_domains: must be a mapping of domain to partner name")
        return {}
    for domain, partner in raw.items():
        if not isinstance(domain, str) or not domain.strip(".") or not isinstance(partner, str) or not partner:
            errors.append(f"partner_domains.{domain}: must map a domain to a partner name (strings)")
    return dict(raw)


def _requirements(raw, config, errors):
    """{partner: requirement}: the configured ones, else verified for every partner not in test mode."""
    testing = {partner["name"] for partner in config.probe_partners}
    if raw is None:
        return {name: _logparse.VERIFIED for name in set(config.partner_domains.values()) if name not in testing}
    if not isinstance(raw, dict) or not all(isinstance(name, str) and name for name in raw):
        errors.append("tls_requirements: must be a mapping of partner name to "
                      + " or ".join(_logparse.REQUIREMENTS))
        return {}
    for name, value in raw.items():
        if value not in _logparse.REQUIREMENTS:
            errors.append(f"tls_requirements.{name}: must be one of {', '.join(_logparse.REQUIREMENTS)}")
    return dict(raw)


def _certificates(raw, errors):
    if not isinstance(raw, list):
        errors.append("certificates: must be a list")
        return []
    certificates = []
    for index, item in enumerate(raw):
        where = f"certificates[{index}]"
        if not isinstance(item, dict):
            errors.append(f"{where}: must be a mapping with certificate, path and optionally partner")
            continue
        unknown = sorted(set(item) - {"certificate", "path", "partner"})
        if unknown:
            errors.append(f"{where}: unknown keys {', '.join(unknown)}")
        entry = {"certificate": _string(item.get("certificate"), f"{where}.certificate", errors),
                 "path": _string(item.get("path"), f"{where}.path", errors),
                 "partner": _string(item.get("partner"), f"{where}.partner", errors, required=False)}
        certificates.append(entry)
    return certificates


def _alert(raw, config, errors):
    if not isinstance(raw, dict):
        errors.append("alert: must be a mapping")
        raw = {}
    unknown = sorted(set(raw) - {"threshold_seconds", "to", "from", "hostname"})
    if unknown:
        errors.append(f"alert: unknown keys {', '.join(unknown)}")
    threshold = raw.get("threshold_seconds", DEFAULT_THRESHOLD)
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or threshold <= 0:
        errors.append("alert.threshold_seconds: must be a positive number of seconds")
        threshold = DEFAULT_THRESHOLD
    recipients = raw.get("to", [])
    if not isinstance(recipients, list) or not all(isinstance(item, str) and "@" in item for item in recipients):
        errors.append("alert.to: must be a list of mail addresses")
        recipients = []
    config.threshold = threshold
    config.alert_to = list(recipients)
    config.hostname = _string(raw.get("hostname"), "alert.hostname", errors, required=False) or socket.getfqdn()
    config.alert_from = (_string(raw.get("from"), "alert.from", errors, required=False)
                         or f"partnermail-health@{config.hostname}")


def _seconds(raw, path, default, errors, most=None):
    value = default if raw is None else raw
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0 or (most and value > most):
        errors.append(f"{path}: must be a positive number of seconds" + (f", at most {most}" if most else ""))
        return default
    return value


def _policy_probe(raw, config, errors):
    if not isinstance(raw, dict):
        errors.append("policy_probe: must be a mapping")
        raw = {}
    unknown = sorted(set(raw) - {"partners", "interval_seconds", "timeout", "helo_name", "trust_dir"})
    if unknown:
        errors.append(f"policy_probe: unknown keys {', '.join(unknown)}")
    partners = raw.get("partners", [])
    if not isinstance(partners, list) or not all(
            isinstance(item, dict) and isinstance(item.get("name"), str) and item["name"]
            and isinstance(item.get("connectors"), list) and isinstance(item.get("tls"), dict)
            and isinstance(item.get("outbound_auth") or {}, dict) for item in partners):
        errors.append("policy_probe.partners: must be a list of partners of the validated model")
        partners = []
    config.probe_partners = partners
    config.probe_interval = _seconds(raw.get("interval_seconds"), "policy_probe.interval_seconds",
                                     DEFAULT_PROBE_INTERVAL, errors)
    config.probe_timeout = _seconds(raw.get("timeout"), "policy_probe.timeout", DEFAULT_PROBE_TIMEOUT, errors,
                                    most=60)
    config.probe_helo = _string(raw.get("helo_name"), "policy_probe.helo_name", errors, required=False)
    config.trust_dir = _string(raw.get("trust_dir"), "policy_probe.trust_dir", errors, required=False)


def load_config(raw):
    """A Config from the parsed JSON object; ConfigError lists every field at fault."""
    errors = []
    if not isinstance(raw, dict):
        raise ConfigError(["the configuration must be a JSON object"])
    known = {"log_path", "state_dir", "textfile_path", "partner_domains", "transport", "certificates", "alert",
             "postqueue_command", "log_start", "log_history_bytes", "policy_probe", "tls_requirements"}
    errors.extend(f"{key}: unknown key" for key in sorted(set(raw) - known))
    config = Config()
    config.log_path = _string(raw.get("log_path"), "log_path", errors)
    config.state_dir = _string(raw.get("state_dir"), "state_dir", errors)
    config.textfile_path = _string(raw.get("textfile_path"), "textfile_path", errors)
    config.partner_domains = _domains(raw.get("partner_domains"), errors)
    config.transport = _string(raw.get("transport", "partner"), "transport", errors)
    config.certificates = _certificates(raw.get("certificates", []), errors)
    _alert(raw.get("alert", {}), config, errors)
    _policy_probe(raw.get("policy_probe", {}), config, errors)
    config.tls_requirements = _requirements(raw.get("tls_requirements"), config, errors)
    config.probe_helo = config.probe_helo or config.hostname
    command = raw.get("postqueue_command", list(_queue.POSTQUEUE))
    if not isinstance(command, list) or not command or not all(isinstance(arg, str) for arg in command):
        errors.append("postqueue_command: must be a non-empty list of strings")
    config.postqueue_command = command
    history = raw.get("log_history_bytes", DEFAULT_HISTORY_BYTES)
    if isinstance(history, bool) or not isinstance(history, int) or history < 0:
        errors.append("log_history_bytes: must be a whole number of bytes (0: the whole log)")
        history = DEFAULT_HISTORY_BYTES
    config.log_history = history
    config.log_start = raw.get("log_start", "beginning")
    if config.log_start not in LOG_STARTS:
        errors.append(f"log_start: must be one of {', '.join(LOG_STARTS)}")
    if errors:
        raise ConfigError(errors)
    return config


class RunResult:
    __slots__ = ("errors", "events", "messages", "metrics", "policies", "statuses", "success")

    def __init__(self):
        self.messages = []
        self.policies = {}
        self.statuses = {}
        self.errors = []
        self.events = []
        self.success = False
        self.metrics = ""


def partner_status(log, queue, now):
    """One partner's status: what the queue holds and what the log said last.

    ``reason`` is the class of the current failure: the last deferral's when it came after the last delivery
    and mail is queued; with no log history, the queue's; otherwise None.
    """
    queued = queue.messages
    reason = None
    if queued:
        if log.last_deferral is not None and (log.last_delivery is None or log.last_deferral >= log.last_delivery):
            reason = log.last_reason
        elif log.last_delivery is None and log.last_deferral is None:
            reason = queue.reason
    return {
        "queued": queued,
        "oldest_age_seconds": queue.oldest_age(now),
        "oldest_arrival": queue.oldest_arrival,
        "queue_reason": queue.reason,
        "queue_reason_text": queue.reason_text,
        "delayed_by_reason": dict(queue.reasons),
        "last_delivery": log.last_delivery,
        "last_deferral": log.last_deferral,
        "last_deferral_reason": log.last_reason,
        "last_deferral_text": log.last_text,
        "reason": reason,
        "attempts": dict(log.attempts),
        "expired": log.expired,
        "insecure": log.insecure,
        "insecure_run": log.insecure_run,
        "insecure_events": list(log.insecure_events),
    }


def _families():
    def family(name, kind, text):
        return _metrics.Family(name, kind, text)

    return {
        "queued": family("partnermail_partner_queued_messages", _metrics.GAUGE,
                         "Messages in the Postfix queue (not on hold) with a recipient of this partner."),
        "oldest": family("partnermail_partner_oldest_queued_age_seconds", _metrics.GAUGE,
                         "Age of the oldest queued message for this partner (0 when none is queued)."),
        "delayed": family("partnermail_partner_delayed_messages", _metrics.GAUGE,
                          "Queued messages for this partner by the class of their delay reason."),
        "stuck": family("partnermail_partner_stuck", _metrics.GAUGE,
                        "1 while the oldest queued message for this partner is older than the alert threshold."),
        "delivery": family("partnermail_partner_last_delivery_timestamp_seconds", _metrics.GAUGE,
                           "Time of the last delivery (status=sent) to this partner seen in the log."),
        "deferral": family("partnermail_partner_last_deferral_timestamp_seconds", _metrics.GAUGE,
                           "Time of the last deferral or bounce of mail to this partner seen in the log."),
        "reason": family("partnermail_partner_deferral_reason", _metrics.GAUGE,
                         "1 for the class of the current failure of mail to this partner, 0 for the others."),
        "attempts": family("partnermail_partner_delivery_attempts_total", _metrics.COUNTER,
                           "Delivery attempts for recipients of this partner by outcome, from the log."),
        "expired": family("partnermail_partner_expired_messages_total", _metrics.COUNTER,
                          "Messages with a recipient of this partner returned to sender after the queue lifetime."),
        "insecure": family("partnermail_partner_insecure_deliveries_total", _metrics.COUNTER,
                           "Deliveries to this partner through the partner transport that were not made over TLS "
                           "at its level (a verified certificate; any TLS at level encrypt). Alerted at once."),
        "enforced": family("partnermail_partner_enforced", _metrics.GAUGE,
                           "1 when the partner's declared policy is enforced, 0 in test mode (its mail goes out as "
                           "Internet mail: opportunistic TLS, no login)."),
        "holds": family("partnermail_partner_policy_holds", _metrics.GAUGE,
                        "Test mode: 1 when every connector of the partner met its declared policy at the last probe."),
        "policy_reason": family("partnermail_partner_policy_failure_reason", _metrics.GAUGE,
                                "Test mode: 1 for the class of the first connector failing the declared policy."),
        "connector": family("partnermail_partner_policy_connector_ok", _metrics.GAUGE,
                            "Test mode: 1 when this connector host met the declared policy at the last probe."),
        "probed": family("partnermail_partner_policy_probe_timestamp_seconds", _metrics.GAUGE,
                         "Test mode: time of the last probe of the partner's connectors with its declared policy."),
        "expiry": family("partnermail_certificate_expiry_timestamp_seconds", _metrics.GAUGE,
                         "notAfter of the certificate (the earliest one in the file)."),
        "success": family("partnermail_health_last_success_timestamp_seconds", _metrics.GAUGE,
                          "Time of the last health check that read both the log and the queue."),
        "errors": family("partnermail_health_errors", _metrics.GAUGE,
                         "Problems the last health check run met (see its output)."),
        "lines": family("partnermail_health_log_lines_read_total", _metrics.COUNTER,
                        "Log lines the health check has read."),
        "duration": family("partnermail_health_last_run_duration_seconds", _metrics.GAUGE,
                           "Wall time of the last health check run."),
    }


def _render(statuses, incidents, certificates, state, errors, duration, testing=()):
    families = _families()
    for partner, verdict in sorted(((state.get("policy") or {}).get("verdicts") or {}).items()):
        families["holds"].add(verdict["holds"], partner=partner)
        families["probed"].add(verdict["probed_at"], partner=partner)
        for reason in _classify.REASONS:
            families["policy_reason"].add(verdict["reason"] == reason, partner=partner, reason=reason)
        for item in verdict["connectors"]:
            families["connector"].add(item["ok"], partner=partner, nexthop=item["nexthop"], host=item["host"])
    for partner, status in sorted(statuses.items()):
        families["enforced"].add(partner not in testing, partner=partner)
        families["queued"].add(status["queued"], partner=partner)
        families["oldest"].add(status["oldest_age_seconds"], partner=partner)
        families["stuck"].add(partner in incidents, partner=partner)
        for reason in _classify.REASONS:
            families["delayed"].add(status["delayed_by_reason"].get(reason, 0), partner=partner, reason=reason)
            families["reason"].add(status["reason"] == reason, partner=partner, reason=reason)
        if status["last_delivery"] is not None:
            families["delivery"].add(status["last_delivery"], partner=partner)
        if status["last_deferral"] is not None:
            families["deferral"].add(status["last_deferral"], partner=partner)
        for outcome in _logparse.STATUSES:
            families["attempts"].add(status["attempts"][outcome], partner=partner, status=outcome)
        families["expired"].add(status["expired"], partner=partner)
        families["insecure"].add(status["insecure"], partner=partner)
    for labels, expiry in certificates:
        families["expiry"].add(expiry, **labels)
    if state.get("last_success") is not None:
        families["success"].add(state["last_success"])
    families["errors"].add(len(errors))
    families["lines"].add(state.get("lines_read", 0))
    families["duration"].add(round(duration, 6))
    return _metrics.render(families.values())


def _read_certificates(config, errors):
    found = []
    for entry in config.certificates:
        labels = {"certificate": entry["certificate"]}
        if entry["partner"]:
            labels["partner"] = entry["partner"]
        try:
            found.append((labels, _certs.file_expiry(entry["path"])))
        except (OSError, _certs.CertificateError) as exc:
            errors.append(f"certificate {entry['path']}: {exc}")
    return found


def run(config, now=None, postqueue=None, tz=None, prober=None):
    """One check pass (see the module docstring). ``config``: the parsed JSON object or a Config.

    ``now``: the time to judge by (tests); ``postqueue``: a callable returning ``postqueue -j``'s output, instead
    of running ``postqueue_command``; ``tz``: the time zone of classic log timestamps (None: local time);
    ``prober``: ``prober(partners, trust_contents, helo_name, timeout)`` -> link report rows, for the partners in
    test mode (without it they are not probed, and the run says so).
    """
    started = time.monotonic()
    if not isinstance(config, Config):
        config = load_config(config)
    now = time.time() if now is None else now
    result = RunResult()
    with open(os.path.join(config.state_dir, LOCK_FILE), "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            result.errors.append("another health check is running: this one did nothing")
            return result
        _run_locked(config, now, postqueue, tz, result, started, prober)
    return result


def _trust_contents(config, errors):
    """{partner: PEM text} of the test-mode partners' trust anchors found in trust_dir."""
    found = {}
    for partner in config.probe_partners:
        if not partner["tls"].get("ca_file") or not config.trust_dir:
            continue
        path = os.path.join(config.trust_dir, f"{partner['name']}.pem")
        try:
            with open(path, encoding="ascii") as handle:
                found[partner["name"]] = handle.read()
        except (OSError, UnicodeDecodeError) as exc:
            errors.append(f"trust anchor {path}: {exc}")
    return found


def _probe_policies(config, state, now, prober, errors):
    """(policy state, [PolicyAlert]): probe the test-mode partners when due, else keep the last verdicts."""
    names = [partner["name"] for partner in config.probe_partners]
    saved = state.get("policy") or {}
    if not _policy.due(saved, names, config.probe_interval, now):
        kept = {name: verdict for name, verdict in (saved.get("verdicts") or {}).items() if name in names}
        incidents = {name: item for name, item in (saved.get("incidents") or {}).items() if name in names}
        return ({"probed_at": saved.get("probed_at"), "verdicts": kept, "incidents": incidents} if names else {}), []
    if prober is None:
        errors.append("partners in test mode, but no prober: their declared policy was not probed")
        return saved, []
    try:
        rows = prober(config.probe_partners, _trust_contents(config, errors), config.probe_helo, config.probe_timeout)
    except Exception as exc:  # pylint: disable=broad-exception-caught
        # A failed probe run must not cost the queue and log metrics.
        errors.append(f"probing the partners in test mode failed: {type(exc).__name__}: {exc}")
        return saved, []
    verdict_map = _policy.verdicts(rows, names, now)
    incidents, fired = _policy.step(saved.get("incidents"), verdict_map, now)
    return {"probed_at": now, "verdicts": verdict_map, "incidents": incidents}, fired


def _read_log(config, reader, tracker, errors):
    """Feed the log's new lines to the tracker; False when the log could not be read."""
    log_ok = True
    try:
        tracker.feed(reader.lines())
    except OSError as exc:
        errors.append(f"log {config.log_path}: {exc}")
        log_ok = False
    if not os.path.exists(config.log_path):
        errors.append(f"log {config.log_path} does not exist")
        log_ok = False
    if tracker.errors:
        errors.append(f"log {config.log_path}: {tracker.errors} delivery lines with an unreadable timestamp")
    return log_ok


def _run_locked(config, now, postqueue, tz, result, started, prober):
    state_path = os.path.join(config.state_dir, STATE_FILE)
    state = _files.load_state(state_path)
    if state.get("version") != STATE_VERSION:
        state = {}
    index = PartnerIndex(config.partner_domains)
    errors = result.errors

    reader = _logreader.LogReader(config.log_path, state.get("log"), from_end=config.log_start == "end",
                                  history_bytes=config.log_history)
    testing = {partner["name"] for partner in config.probe_partners}
    tracker = _logparse.LogTracker(index, config.transport, state.get("tracker"), now=now, tz=tz,
                                   internet=bool(testing), required=config.tls_requirements)
    log_ok = _read_log(config, reader, tracker, errors)
    result.events = list(reader.events)

    queue_ok = True
    try:
        text = postqueue() if postqueue is not None else _queue.run_postqueue(config.postqueue_command)
        queues, bad = _queue.parse_postqueue(text, index)
        if bad:
            errors.append(f"postqueue -j: {bad} lines were not JSON objects")
    except _queue.QueueError as exc:
        errors.append(str(exc))
        queue_ok = False
        queues = {name: _queue.QueueStatus() for name in index.partners}

    statuses = {name: partner_status(tracker.partners[name], queues[name], now) for name in index.partners}
    if queue_ok:
        alert_state, fired = _alerts.step(state.get("alerts"), statuses, config.threshold, now)
    else:  # without the queue nothing is known about incidents: keep them as they are
        alert_state, fired = state.get("alerts") or {"incidents": {}}, []
    incidents = alert_state["incidents"]
    for name, status in statuses.items():
        status["stuck"] = name in incidents
    certificates = _read_certificates(config, errors)
    policy_state, policy_fired = _probe_policies(config, state, now, prober, errors)

    new_state = {
        "version": STATE_VERSION,
        "log": reader.state,
        "tracker": tracker.state(),
        "alerts": alert_state,
        "last_success": now if log_ok and queue_ok else state.get("last_success"),
        "lines_read": int(state.get("lines_read", 0)) + tracker.lines,
        "policy": policy_state,
    }
    result.success = log_ok and queue_ok
    result.metrics = _render(statuses, incidents, certificates, new_state, errors, time.monotonic() - started,
                             testing)
    try:
        _metrics.write_textfile(config.textfile_path, result.metrics)
    except OSError as exc:
        errors.append(f"metrics {config.textfile_path}: {exc}")
    _files.save_state(state_path, new_state)
    result.statuses = statuses
    if config.alert_to:
        result.messages = _alerts.build_messages(fired, config.alert_from, config.alert_to, config.hostname)
        result.messages += [_policy.build_message(alert, config.alert_from, config.alert_to, config.hostname)
                            for alert in policy_fired]
        insecure = {name: status for name, status in statuses.items() if status["insecure_run"]}
        result.messages += _alerts.build_insecure_messages(insecure, config.alert_from, config.alert_to,
                                                           config.hostname, now)
    result.policies = policy_state.get("verdicts") or {}
    return result
