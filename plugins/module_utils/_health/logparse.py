"""The partner transport's lines in Postfix's log -> per partner: last delivery, last deferral and its class.

Lines used (shapes as Postfix 3.7 and 3.10 write them; see tests/unit/test_health_logparse.py):

- ``postfix/partner/smtp[pid]: QID: to=<addr>, relay=..., ..., dsn=..., status=sent|deferred|bounced (text)``:
  one delivery attempt for one recipient (the tag is ``postfix/$service_name``, the collection's syslog_name);
- ``postfix/error[pid]: QID: to=<addr>, ..., status=deferred (delivery temporarily suspended: text)``: qmgr's
  deferral of further mail to a destination it has marked dead - counted when ``addr`` is a partner's;
- ``postfix/partner/smtp[pid]`` or ``postfix/tlsproxy[pid]: server certificate verification failed for PEER:
  detail``: what "Server certificate not verified" on the next status line for that PEER (its relay=) means;
- ``postfix/qmgr[pid]: QID: from=<...>, status=expired, returned to sender`` (``force-expired`` after
  ``postsuper -e``) and ``QID: removed``: a partner message given up, and the end of a queue id.

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
    r"\S+ (?P<tag>[^\s\[]+)\[\d+\]: (?P<msg>.*)$"
)
_CLASSIC = re.compile(r"^([A-Z][a-z]{2}) ([ \d]\d) (\d\d):(\d\d):(\d\d)(\.\d+)?$")
_MONTHS = {name: index for index, name in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1)}
_STATUS = re.compile(
    r"^(?P<qid>[0-9A-Za-z]+): to=<(?P<to>[^>]*)>, (?:orig_to=<[^>]*>, )?relay=(?P<relay>[^,]*), "
    r".*?status=(?P<status>sent|deferred|bounced)(?: \((?P<text>.*)\))?$"
)
_VERIFY = re.compile(r"^(?:server )?certificate verification failed for (?P<peer>\S+): (?P<detail>.*)$")
_QMGR = re.compile(r"^(?P<qid>[0-9A-Za-z]+): (?:from=<[^>]*>, status=(?P<expired>(?:force-)?expired)|removed$)")

STATUSES = ("sent", "deferred", "bounced")
MAX_TEXT = 300  # characters of a deferral text kept in the state and shown in alert mail
MAX_QUEUE_IDS = 50_000  # queue ids of partner mail not yet delivered, remembered for qmgr's expiry lines
MAX_PEERS = 1_000  # peers whose last certificate verification failure is remembered


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
    """What the log said about one partner's mail."""

    __slots__ = ("attempts", "expired", "last_deferral", "last_delivery", "last_reason", "last_text")

    def __init__(self, data=None):
        data = data or {}
        self.last_delivery = data.get("last_delivery")
        self.last_deferral = data.get("last_deferral")
        self.last_reason = data.get("last_reason")
        self.last_text = data.get("last_text")
        self.attempts = {status: int((data.get("attempts") or {}).get(status, 0)) for status in STATUSES}
        self.expired = int(data.get("expired", 0))

    def to_dict(self):
        return {
            "last_delivery": self.last_delivery, "last_deferral": self.last_deferral,
            "last_reason": self.last_reason, "last_text": self.last_text,
            "attempts": dict(self.attempts), "expired": self.expired,
        }


class LogTracker:
    """Feed it log lines (bytes, in log order); read ``partners`` and ``state()``.

    ``state`` is what ``state()`` returned after the previous run: the counters go on from there.
    Memory is bounded: at most MAX_QUEUE_IDS queue ids and MAX_PEERS peers are remembered.
    """

    def __init__(self, index, transport="partner", state=None, now=None, tz=None, internet=False):
        state = state or {}
        self.index = index
        self.now = time.time() if now is None else now
        self.tz = tz
        self.partners = {name: PartnerLog((state.get("partners") or {}).get(name)) for name in index.partners}
        self.queue_ids = {qid: name for qid, name in (state.get("queue_ids") or {}).items() if name in self.partners}
        self.peers = dict(state.get("peers") or {})
        self.lines = 0
        self.errors = 0
        # ``internet``: partners in test mode are delivered by the Internet connector (postfix/smtp), so every
        # smtp client's lines count; the recipient's domain still decides the partner.
        self._smtp_tag = "/smtp" if internet else f"/{transport}/smtp"
        self._smtp_bytes = b"/smtp[" if internet else f"/{transport}/smtp[".encode()
        self._stamp_cache = (None, None)

    def state(self):
        return {
            "partners": {name: log.to_dict() for name, log in sorted(self.partners.items())},
            "queue_ids": self.queue_ids,
            "peers": self.peers,
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
                self._status(match["ts"], status)
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

    def _status(self, stamp_text, status):
        partner = self.index.partner_for_address(status["to"])
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
            return
        text = status["text"] or ""
        log.last_deferral = stamp
        log.last_reason = _classify.classify(text, self.peers.get(status["relay"]))
        log.last_text = text[:MAX_TEXT]
        qid = status["qid"]
        if qid not in self.queue_ids and len(self.queue_ids) >= MAX_QUEUE_IDS:
            del self.queue_ids[next(iter(self.queue_ids))]
        self.queue_ids[qid] = partner

    def _remember_peer(self, peer, detail):
        self.peers.pop(peer, None)
        if len(self.peers) >= MAX_PEERS:
            del self.peers[next(iter(self.peers))]
        self.peers[peer] = detail[:MAX_TEXT]
