"""``postqueue -j`` -> per partner: messages queued, age of the oldest, what the queue says is wrong.

``postqueue -j`` writes one JSON object per message (postqueue(1)): queue_name, queue_id, arrival_time,
message_size, forced_expire, sender, recipients [{address, delay_reason}]. It lists the recipients still to be
delivered. A message counts for every partner one of those recipients belongs to. Messages on hold are left
out: an administrator put them there, they are not stuck.
"""

import json
import subprocess

from . import classify as _classify

POSTQUEUE = ("/usr/sbin/postqueue", "-j")


class QueueError(RuntimeError):
    pass


class QueueStatus:
    """One partner's share of the queue."""

    __slots__ = ("_newest_reason_arrival", "messages", "oldest_arrival", "reason", "reason_text", "reasons")

    def __init__(self):
        self.messages = 0
        self.oldest_arrival = None
        self.reason = None  # the class of the delay reason of the most recently arrived message that has one
        self.reason_text = None
        self.reasons = {}  # class -> messages
        self._newest_reason_arrival = None

    def oldest_age(self, now):
        return 0.0 if self.oldest_arrival is None else max(0.0, now - self.oldest_arrival)

    def add(self, arrival, delay_reason):
        self.messages += 1
        if self.oldest_arrival is None or arrival < self.oldest_arrival:
            self.oldest_arrival = arrival
        if delay_reason:
            reason = _classify.classify(delay_reason)
            self.reasons[reason] = self.reasons.get(reason, 0) + 1
            if self._newest_reason_arrival is None or arrival >= self._newest_reason_arrival:
                self._newest_reason_arrival = arrival
                self.reason = reason
                self.reason_text = delay_reason


def parse_postqueue(text, index):
    """{partner: QueueStatus} for every partner of ``index`` (those with nothing queued too).

    Lines that are not a JSON object are skipped and counted: (statuses, bad line count).
    """
    statuses = {name: QueueStatus() for name in index.partners}
    bad = 0
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            message = json.loads(line)
            if message.get("queue_name") == "hold":
                continue
            arrival = float(message.get("arrival_time") or 0)
            recipients = message.get("recipients") or ()
        except (ValueError, AttributeError, TypeError):
            bad += 1
            continue
        seen = {}
        for recipient in recipients:
            if not isinstance(recipient, dict):
                continue
            partner = index.partner_for_address(str(recipient.get("address") or ""))
            if partner is not None and (partner not in seen or not seen[partner]):
                seen[partner] = recipient.get("delay_reason") or seen.get(partner)
        for partner, reason in seen.items():
            statuses[partner].add(arrival, reason)
    return statuses, bad


def run_postqueue(command=POSTQUEUE, timeout=60):
    """The output of ``postqueue -j``; QueueError when it cannot be had."""
    try:
        proc = subprocess.run(list(command), capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise QueueError(f"{' '.join(command)}: {exc}") from None
    if proc.returncode != 0:
        raise QueueError(f"{' '.join(command)} exited {proc.returncode}: {proc.stderr.strip()[:300]}")
    return proc.stdout
