"""One check pass: read the log's new lines and the queue, update the state, write the metrics, return the
alert mail to send.

The configuration (a JSON object; ``load_config()`` checks it and names every field at fault)::

    {
      "log_path": "/var/log/mail.log",                        # required
      "state_dir": "/var/lib/partnermail-health",             # required, exists; holds state.json and a lock
      "textfile_path": "/var/lib/prometheus/node-exporter/partnermail.prom",   # required, its directory exists
      "partner_domains": {"b.test": "b", ".b.test": "b"},     # required ({} = no partners); partners.domain_map()
      "transport": "partner",                                 # the partner transport's master.cf name
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
      "log_start": "beginning"                                # or "end": without state, skip the log's history
    }

``run(config)`` returns a RunResult: ``messages`` (EmailMessage list; ``alerts.message_bytes()`` gives what to
pipe to ``sendmail -t``), ``statuses`` ({partner: status dict}), ``errors`` (what went wrong, one line each),
``events`` (log rotation and truncation seen), ``success`` and ``metrics`` (the text written). The state is saved
before run() returns: an incident's mail is returned once, whether or not the caller manages to send it.
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
from . import queue as _queue
from .partners import PartnerIndex

STATE_FILE = "state.json"
LOCK_FILE = "lock"
STATE_VERSION = 1
DEFAULT_THRESHOLD = 3600
LOG_STARTS = ("beginning", "end")


class ConfigError(ValueError):
    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__("; ".join(self.errors))


class Config:
    __slots__ = ("alert_from", "alert_to", "certificates", "hostname", "log_path", "log_start", "partner_domains",
                 "postqueue_command", "state_dir", "textfile_path", "threshold", "transport")


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


def load_config(raw):
    """A Config from the parsed JSON object; ConfigError lists every field at fault."""
    errors = []
    if not isinstance(raw, dict):
        raise ConfigError(["the configuration must be a JSON object"])
    known = {"log_path", "state_dir", "textfile_path", "partner_domains", "transport", "certificates", "alert",
             "postqueue_command", "log_start"}
    errors.extend(f"{key}: unknown key" for key in sorted(set(raw) - known))
    config = Config()
    config.log_path = _string(raw.get("log_path"), "log_path", errors)
    config.state_dir = _string(raw.get("state_dir"), "state_dir", errors)
    config.textfile_path = _string(raw.get("textfile_path"), "textfile_path", errors)
    config.partner_domains = _domains(raw.get("partner_domains"), errors)
    config.transport = _string(raw.get("transport", "partner"), "transport", errors)
    config.certificates = _certificates(raw.get("certificates", []), errors)
    _alert(raw.get("alert", {}), config, errors)
    command = raw.get("postqueue_command", list(_queue.POSTQUEUE))
    if not isinstance(command, list) or not command or not all(isinstance(arg, str) for arg in command):
        errors.append("postqueue_command: must be a non-empty list of strings")
    config.postqueue_command = command
    config.log_start = raw.get("log_start", "beginning")
    if config.log_start not in LOG_STARTS:
        errors.append(f"log_start: must be one of {', '.join(LOG_STARTS)}")
    if errors:
        raise ConfigError(errors)
    return config


class RunResult:
    __slots__ = ("errors", "events", "messages", "metrics", "statuses", "success")

    def __init__(self):
        self.messages = []
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


def _render(statuses, incidents, certificates, state, errors, duration):
    families = _families()
    for partner, status in sorted(statuses.items()):
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


def run(config, now=None, postqueue=None, tz=None):
    """One check pass (see the module docstring). ``config``: the parsed JSON object or a Config.

    ``now``: the time to judge by (tests); ``postqueue``: a callable returning ``postqueue -j``'s output, instead
    of running ``postqueue_command``; ``tz``: the time zone of classic log timestamps (None: local time).
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
        _run_locked(config, now, postqueue, tz, result, started)
    return result


def _run_locked(config, now, postqueue, tz, result, started):
    state_path = os.path.join(config.state_dir, STATE_FILE)
    state = _files.load_state(state_path)
    if state.get("version") != STATE_VERSION:
        state = {}
    index = PartnerIndex(config.partner_domains)
    errors = result.errors

    reader = _logreader.LogReader(config.log_path, state.get("log"), from_end=config.log_start == "end")
    tracker = _logparse.LogTracker(index, config.transport, state.get("tracker"), now=now, tz=tz)
    log_ok = True
    try:
        tracker.feed(reader.lines())
    except OSError as exc:
        errors.append(f"log {config.log_path}: {exc}")
        log_ok = False
    result.events = list(reader.events)
    if not os.path.exists(config.log_path):
        errors.append(f"log {config.log_path} does not exist")
        log_ok = False
    if tracker.errors:
        errors.append(f"log {config.log_path}: {tracker.errors} delivery lines with an unreadable timestamp")

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

    new_state = {
        "version": STATE_VERSION,
        "log": reader.state,
        "tracker": tracker.state(),
        "alerts": alert_state,
        "last_success": now if log_ok and queue_ok else state.get("last_success"),
        "lines_read": int(state.get("lines_read", 0)) + tracker.lines,
    }
    result.success = log_ok and queue_ok
    result.metrics = _render(statuses, incidents, certificates, new_state, errors, time.monotonic() - started)
    try:
        _metrics.write_textfile(config.textfile_path, result.metrics)
    except OSError as exc:
        errors.append(f"metrics {config.textfile_path}: {exc}")
    _files.save_state(state_path, new_state)
    result.statuses = statuses
    if config.alert_to:
        result.messages = [_alerts.build_message(alert, config.alert_from, config.alert_to, config.hostname)
                           for alert in fired]
    return result
