"""The partner transport's lines in Postfix's log -> per partner: last delivery, last deferral and its class.

Lines used (shapes as Postfix 3.7 and 3.10 write them; see tests/unit/test_health_logparse.py):

- ``postfix/partner/smtp[pid]: QID: to=<addr>, relay=..., ..., dsn=..., status=sent|deferred|bounced (text)``:
  one delivery attempt for one recipient (the tag is ``postfix/$service_name``, the collection's syslog_name);
- ``postfix/error[pid]: QID: to=<addr>, ..., status=deferred (delivery temporarily suspended: text)``: qmgr's
  deferral of further mail to a destination it has marked dead - counted when ``addr`` is a partner's;
- ``postfix/partner/smtp[pid]`` or ``postfix/tlsproxy[pid]: server certificate verification failed for PEER:
  detail``: what "Server certificate not verified" on the next status line for that PEER (its relay=) means;
- ``postfix/qmgr[pid]: QID: from=<...>, status=expired, returned to sender`` (``force-expired`` after
  ``postsuper -e``) and ``QID: removed``: a partner message given up, and the end of a queue id;
- ``postfix/partner/smtp[pid]: Verified|Trusted|Untrusted|Anonymous TLS connection established|reused to PEER: ...``:
  the TLS of the session the same smtp process delivers over next. Each delivery request over TLS begins with one
  (``reused`` when the connection comes from the cache), so a ``status=sent`` of the partner transport whose process
  logged no such line for that PEER since its previous queue id went out without TLS. A partner's delivery that was
  not made at its level - a verified certificate, or any TLS at level ``encrypt`` - is counted as insecure.

Timestamps: RFC 3339 (``2026-12-01T10:00:00.123456+00:00``, rsyslog's default on Debian 12 and 13) or the
classic ``Dec 01 10:00:00`` that postlogd writes (local time, no year: the year is the one that puts the time
no later than a day after ``now``).
"""

import re
import time
from datetime import datetime

from . import classify as _classify

_LINE = re.compile(
    r"^(?P<ts>\d{4}-\d\d-\d\dT\S+|[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d(?:\.\d+)?) "
    r"\S+ (?P<tag>[^\s\[]+)\[(?P<pid>\d+)\]: (?P<msg>.*)$"
)
_CLASSIC = re.compile(r"^([A-Z][a-z]{2}) ([ \d]\d) (\d\d):(\d\d):(\d\d)(\.\d+)?$")
_MONTHS = {name: index for index, name in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1)}
_STATUS = re.compile(
    r"^(?P<qid>[0-9A-Za-z]+): to=<(?P<to>[^>]*)>, (?:orig_to=<[^>]*>, )?relay=(?P<relay>[^,]*), "
    r".*?status=(?P<status>sent|deferred|bounced)(?: \((?P<text>.*)\))?$"
)
_VERIFY = re.compile(r"^(?:server )?certificate verification failed for (?P<peer>\S+): (?P<detail>.*)$")
_TLS = re.compile(r"^(?P<grade>Anonymous|Untrusted|Trusted|Verified) TLS connection (?:established|reused) to "
                  r"(?P<peer>\S+): ")
_QMGR = re.compile(r"^(?P<qid>[0-9A-Za-z]+): (?:from=<[^>]*>, status=(?P<expired>(?:force-)?expired)|removed$)")

STATUSES = ("sent", "deferred", "bounced")
MAX_TEXT = 300  # characters of a deferral text kept in the state and shown in alert mail
MAX_QUEUE_IDS = 50_000  # queue ids of partner mail not yet delivered, remembered for qmgr's expiry lines
MAX_PEERS = 1_000  # peers whose last certificate verification failure is remembered
MAX_SESSIONS = 1_000  # smtp processes whose last TLS session is remembered (Postfix runs at most 100 by default)
MAX_INSECURE_EVENTS = 20  # insecure deliveries of one partner kept from one run, for the alert mail

# What a partner's TLS level asks of a delivery (``required``): a verified certificate, or (level encrypt) any TLS.
VERIFIED = "verified"
ENCRYPTED = "encrypted"
REQUIREMENTS = (VERIFIED, ENCRYPTED)


def requirement(level):
    """The delivery requirement of a partner TLS level of the model (encrypt, verify, secure, fingerprint, ...)."""
    return ENCRYPTED if level == "encrypt" else VERIFIED


def meets(grade, required):
    """Whether a session's TLS grade (None: no TLS) meets the requirement."""
    if grade is None:
        return False
    return grade == "Verified" if required == VERIFIED else True


class TimestampError(ValueError):
    pass


def parse_timestamp(text, now, tz=None):
    """Seconds since the epoch of a log timestamp; ``tz`` for the classic format (None: local time)."""
    match = _CLASSIC.match(text)
    if match is None:
        try:
            stamp = datetime.fromisoformat(text)
        except ValueError:
            raise TimestampError(f"not a log timestamp: {text!r}") from None
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=tz) if tz is not None else stamp
        return stamp.timestamp()
    month = _MONTHS.get(match[1])
    if month is None:
        raise TimestampError(f"not a log timestamp: {text!r}")
    fraction = float(match[6]) if match[6] else 0.0
    fields = (month, int(match[2]), int(match[3]), int(match[4]), int(match[5]))
    year = datetime.fromtimestamp(now, tz).year
    for candidate in (year, year - 1):
        try:
            stamp = datetime(candidate, *fields, tzinfo=tz)
        except ValueError:  # 29 February of a year that has none
            continue
        seconds = stamp.timestamp() if tz is not None else time.mktime((*stamp.timetuple()[:8], -1))
        if seconds <= now + 86400:
            return seconds + fraction
    raise TimestampError(f"no year puts {text!r} before now")


class PartnerLog:
    """What the log said about one partner's mail.

    ``insecure`` counts the deliveries not made at the partner's TLS level (kept across runs); ``insecure_run`` those
    of this run, and ``insecure_events`` the first MAX_INSECURE_EVENTS of them, for the alert mail.
    """

    __slots__ = ("attempts", "expired", "insecure", "insecure_events", "insecure_run", "last_deferral",
                 "last_delivery", "last_reason", "last_text")

    def __init__(self, data=None):
        data = data or {}
        self.last_delivery = data.get("last_delivery")
        self.last_deferral = data.get("last_deferral")
        self.last_reason = data.get("last_reason")
        self.last_text = data.get("last_text")
        self.attempts = {status: int((data.get("attempts") or {}).get(status, 0)) for status in STATUSES}
        self.expired = int(data.get("expired", 0))
        self.insecure = int(data.get("insecure", 0))
        self.insecure_run = 0
        self.insecure_events = []

    def to_dict(self):
        return {
            "last_delivery": self.last_delivery, "last_deferral": self.last_deferral,
            "last_reason": self.last_reason, "last_text": self.last_text,
            "attempts": dict(self.attempts), "expired": self.expired, "insecure": self.insecure,
        }


class LogTracker:
    """Feed it log lines (bytes, in log order); read ``partners`` and ``state()``.

    ``state`` is what ``state()`` returned after the previous run: the counters go on from there.
    ``required``: {partner: VERIFIED or ENCRYPTED} for the partners whose deliveries through the partner transport
    are judged (the enforced ones; a partner in test mode goes out as Internet mail, by design without its policy).
    Memory is bounded: at most MAX_QUEUE_IDS queue ids, MAX_PEERS peers and MAX_SESSIONS sessions are remembered.
    """

    def __init__(self, index, transport="partner", state=None, now=None, tz=None, internet=False, required=None):
        state = state or {}
        self.index = index
        self.now = time.time() if now is None else now
        self.tz = tz
        self.partners = {name: PartnerLog((state.get("partners") or {}).get(name)) for name in index.partners}
        self.queue_ids = {qid: name for qid, name in (state.get("queue_ids") or {}).items() if name in self.partners}
        self.peers = dict(state.get("peers") or {})
        # smtp process id -> [peer, TLS grade, queue id it was used for or None]: a TLS line and the status line
        # after it may fall in two runs.
        self.sessions = {pid: list(item) for pid, item in (state.get("sessions") or {}).items()}
        self.required = dict(required or {})
        self.lines = 0
        self.errors = 0
        # ``internet``: partners in test mode are delivered by the Internet connector (postfix/smtp), so every
        # smtp client's lines count; the recipient's domain still decides the partner.
        self._smtp_tag = "/smtp" if internet else f"/{transport}/smtp"
        self._partner_tag = f"/{transport}/smtp"
        self._smtp_bytes = b"/smtp[" if internet else f"/{transport}/smtp[".encode()
        self._stamp_cache = (None, None)

    def state(self):
        return {
            "partners": {name: log.to_dict() for name, log in sorted(self.partners.items())},
            "queue_ids": self.queue_ids,
            "peers": self.peers,
            "sessions": self.sessions,
        }

    def feed(self, lines):
        """Take an iterable of raw lines (bytes without the newline)."""
        handle = self._handle
        smtp = self._smtp_bytes
        count = 0
        for raw in lines:
            count += 1
            # Cheap byte tests first: most lines of a busy log are smtpd, cleanup and Internet smtp lines.
            if smtp in raw or b"/tlsproxy[" in raw or b"/error[" in raw or b"/retry[" in raw or (
                    b"/qmgr[" in raw and (b": removed" in raw or b"expired, " in raw)):
                handle(raw.decode("utf-8", "replace"))
        self.lines += count

    def _timestamp(self, text):
        cached_text, cached = self._stamp_cache
        if text != cached_text:
            cached = parse_timestamp(text, self.now, self.tz)
            self._stamp_cache = (text, cached)
        return cached

    def _handle(self, line):
        match = _LINE.match(line)
        if match is None:
            return
        tag, message = match["tag"], match["msg"]
        if tag.endswith(self._smtp_tag) or tag.endswith(("/error", "/retry")):
            status = _STATUS.match(message)
            if status is not None:
                self._status(match["ts"], status, match["pid"] if tag.endswith(self._partner_tag) else None)
                return
        if tag.endswith(self._partner_tag):
            tls = _TLS.match(message)
            if tls is not None:
                self._session(match["pid"], tls["peer"], tls["grade"])
                return
        if tag.endswith((self._smtp_tag, "/tlsproxy")):
            verify = _VERIFY.match(message)
            if verify is not None:
                self._remember_peer(verify["peer"], verify["detail"])
            return
        if tag.endswith("/qmgr"):
            qmgr = _QMGR.match(message)
            if qmgr is not None:
                partner = self.queue_ids.pop(qmgr["qid"], None)
                if partner is not None and qmgr["expired"]:
                    self.partners[partner].expired += 1

    def _session(self, pid, peer, grade):
        self.sessions.pop(pid, None)
        if len(self.sessions) >= MAX_SESSIONS:
            del self.sessions[next(iter(self.sessions))]
        self.sessions[pid] = [peer, grade, None]

    def _grade(self, pid, relay, qid):
        """The TLS grade this smtp process delivered ``qid`` to ``relay`` with, or None (no TLS session).

        The session's first status line binds it to its queue id: a later request needs a TLS line of its own.
        """
        session = self.sessions.get(pid)
        if session is None or session[0] != relay or session[2] not in (None, qid):
            return None  # no TLS line for this delivery request: its session had no TLS
        session[2] = qid
        return session[1]

    def _status(self, stamp_text, status, pid=None):
        partner = self.index.partner_for_address(status["to"])
        # The TLS of each partner-transport delivery request, whoever its recipient (binds the session to it).
        grade = self._grade(pid, status["relay"], status["qid"]) if pid is not None else None
        if partner is None:
            return
        try:
            stamp = self._timestamp(stamp_text)
        except TimestampError:
            self.errors += 1
            return
        log = self.partners[partner]
        outcome = status["status"]
        log.attempts[outcome] += 1
        if outcome == "sent":
            log.last_delivery = stamp
            required = self.required.get(partner)
            if pid is not None and required is not None and not meets(grade, required):
                self._insecure(log, stamp, status, grade, required)
            return
        text = status["text"] or ""
        log.last_deferral = stamp
        log.last_reason = _classify.classify(text, self.peers.get(status["relay"]))
        log.last_text = text[:MAX_TEXT]
        qid = status["qid"]
        if qid not in self.queue_ids and len(self.queue_ids) >= MAX_QUEUE_IDS:
            del self.queue_ids[next(iter(self.queue_ids))]
        self.queue_ids[qid] = partner

    @staticmethod
    def _insecure(log, stamp, status, grade, required):
        log.insecure += 1
        log.insecure_run += 1
        if len(log.insecure_events) < MAX_INSECURE_EVENTS:
            log.insecure_events.append({
                "time": stamp, "queue_id": status["qid"], "to": status["to"], "relay": status["relay"],
                "tls": f"{grade} TLS" if grade else "no TLS", "required": required,
            })

    def _remember_peer(self, peer, detail):
        self.peers.pop(peer, None)
        if len(self.peers) >= MAX_PEERS:
            del self.peers[next(iter(self.peers))]
        self.peers[peer] = detail[:MAX_TEXT]
