"""Alert mail per incident: one "stuck" mail when a partner's mail starts waiting too long, one "recovered"
mail when it stops, nothing in between.

A partner is stuck while mail to it is queued and the oldest of it has waited ``threshold`` seconds or more.
The incident ends when that is no longer true: the queue drained, or what is left is younger than the
threshold. The state - the incidents open, with when they began - is a JSON object the caller saves.
A partner that left the configuration during an incident is dropped from the state without a mail.
"""

import email.utils
import textwrap
from datetime import datetime, timezone
from email.message import EmailMessage

STUCK = "stuck"
RECOVERED = "recovered"
# A delivery to a partner that was not made at its TLS level: not an incident with an end, but an event; each run
# that sees one or more mails about them at once.
INSECURE = "insecure_delivery"


class Alert:
    __slots__ = ("kind", "now", "partner", "since", "status", "threshold")

    def __init__(self, kind, partner, status, since, now, threshold):
        self.kind = kind
        self.partner = partner
        self.status = status  # the partner's status dict of this run (see check.partner_status)
        self.since = since  # when the incident began (this run, for a STUCK alert)
        self.now = now
        self.threshold = threshold

    def __repr__(self):
        return f"Alert({self.kind!r}, {self.partner!r})"


def is_stuck(status, threshold):
    return status["queued"] > 0 and status["oldest_age_seconds"] >= threshold


def step(state, statuses, threshold, now):
    """(new state, [Alert]) from the saved state and this run's {partner: status}."""
    incidents = dict((state or {}).get("incidents") or {})
    alerts = []
    for partner in sorted(statuses):
        status = statuses[partner]
        stuck = is_stuck(status, threshold)
        if stuck and partner not in incidents:
            incidents[partner] = {"since": now, "reason": status.get("reason")}
            alerts.append(Alert(STUCK, partner, status, now, now, threshold))
        elif not stuck and partner in incidents:
            since = incidents.pop(partner).get("since", now)
            alerts.append(Alert(RECOVERED, partner, status, since, now, threshold))
    for partner in [name for name in incidents if name not in statuses]:
        del incidents[partner]
    return {"incidents": incidents}, alerts


def duration(seconds):
    """'3d 4h', '2h 5m', '7m 12s', '40s'."""
    seconds = int(max(0, seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m {secs}s"
    return f"{secs}s"


def _when(stamp):
    if stamp is None:
        return "never (not in the log read so far)"
    return datetime.fromtimestamp(stamp, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def new_message(sender, recipients, hostname, now, subject, body, kind, partner=None):
    """An alert mail of the health check: its headers (X-Partnermail-Alert: ``kind``) and a plain text body."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Subject"] = subject
    message["Date"] = email.utils.formatdate(now, usegmt=True)
    message["Message-ID"] = email.utils.make_msgid("partnermail-health", domain=hostname)
    message["Auto-Submitted"] = "auto-generated"
    message["X-Partnermail-Alert"] = kind
    if partner is not None:
        message["X-Partnermail-Partner"] = partner
    message.set_content(body)
    return message


def build_message(alert, sender, recipients, hostname):
    """The alert as an EmailMessage: From, To, Subject, Date, Message-ID, Auto-Submitted, a plain text body."""
    status = alert.status
    reason = status.get("reason") or status.get("queue_reason") or status.get("last_deferral_reason") or "unknown"
    partner = alert.partner
    if alert.kind == STUCK:
        subject = (f"[partnermail] {hostname}: mail to partner {partner} stuck for "
                   f"{duration(status['oldest_age_seconds'])} ({status['queued']} messages, {reason})")
        lead = (f"Mail to partner {partner} has waited in the queue of {hostname} for longer than "
                f"{duration(alert.threshold)}.")
        tail = f"One mail per incident: the next one says when mail to {partner} flows again."
    else:
        subject = (f"[partnermail] {hostname}: mail to partner {partner} flows again "
                   f"(stuck for {duration(alert.now - alert.since)})")
        lead = (f"Mail to partner {partner} flows again: nothing queued for it on {hostname} is older than "
                f"{duration(alert.threshold)}.")
        tail = f"The incident began {_when(alert.since)} and ended {_when(alert.now)}."
    rows = [
        ("Partner", partner),
        ("Messages queued", str(status["queued"])),
        ("Oldest message", duration(status["oldest_age_seconds"]) if status["queued"] else "none queued"),
        ("Reason", reason),
        ("Postfix said", status.get("last_deferral_text") or status.get("queue_reason_text") or "-"),
        ("Last deferral", _when(status.get("last_deferral"))),
        ("Last delivery", _when(status.get("last_delivery"))),
    ]
    width = max(len(label) for label, _unused in rows) + 2
    body = "\n".join([lead, ""] + [f"{label + ':':<{width}}{value}" for label, value in rows] + ["", tail, ""])
    return new_message(sender, recipients, hostname, alert.now, subject, body, alert.kind, partner)


# More incidents of one kind than this in one run (a mass outage: our own network, DNS, a CA) make one digest
# mail instead of one mail each: nobody reads 800 mails, and building them would cost the run seconds.
DIGEST_OVER = 5


def build_messages(alerts, sender, recipients, hostname):
    """The mails of one run: one per alert, or one digest per kind when there are more than DIGEST_OVER."""
    out = []
    for kind in (STUCK, RECOVERED):
        mine = [alert for alert in alerts if alert.kind == kind]
        if len(mine) > DIGEST_OVER:
            out.append(build_digest(mine, sender, recipients, hostname))
        else:
            out += [build_message(alert, sender, recipients, hostname) for alert in mine]
    return out


def build_digest(alerts, sender, recipients, hostname):
    """One mail for many alerts of one kind: a line per partner."""
    kind, now = alerts[0].kind, alerts[0].now
    if kind == STUCK:
        subject = f"[partnermail] {hostname}: mail to {len(alerts)} partners stuck"
        lead = (f"Mail to {len(alerts)} partners has waited in the queue of {hostname} for longer than "
                f"{duration(alerts[0].threshold)}. One line per partner: messages queued, oldest, reason.")
    else:
        subject = f"[partnermail] {hostname}: mail to {len(alerts)} partners flows again"
        lead = f"Mail to {len(alerts)} partners flows again on {hostname}. One line per partner: how long it was stuck."
    lines = [lead, ""]
    for alert in sorted(alerts, key=lambda item: item.partner):
        status = alert.status
        if kind == STUCK:
            reason = status.get("reason") or status.get("queue_reason") or "unknown"
            oldest = duration(status["oldest_age_seconds"])
            lines.append(f"  {alert.partner}: {status['queued']} queued, oldest {oldest}, {reason}")
        else:
            lines.append(f"  {alert.partner}: stuck for {duration(alert.now - alert.since)}")
    lines += ["", "One mail per incident: each partner's incident ends with a mail when its mail flows again.", ""]
    return new_message(sender, recipients, hostname, now, subject, "\n".join(lines), f"{kind}-digest")


_REQUIRED_TEXT = {"verified": "TLS with a verified certificate", "encrypted": "TLS (its level is encrypt)"}
_INSECURE_ADVICE = (
    "Partner mail must never leave without it. Look at the partner transport's settings (postconf -Mf partner/unix "
    "and postconf -P 'partner/unix/*'), the partner's rows in the TLS policy map and what changed on this host; ask "
    "the partner whether these messages reached them. The link's password may have gone to whoever answered: "
    "change it with the partner.")


def build_insecure_messages(statuses, sender, recipients, hostname, now):
    """Mail about deliveries not made at the partner's TLS level, from {partner: status} of the partners that had
    one in this run (``insecure_run`` > 0, ``insecure_events`` the first of them): one mail per partner, or one
    digest when more than DIGEST_OVER partners had one."""
    if len(statuses) > DIGEST_OVER:
        lines = [*_wrapped(f"Mail to {len(statuses)} partners was delivered from {hostname} without the TLS their "
                           "links require. One line per partner: deliveries in this check run, the first one's relay "
                           "and TLS."), ""]
        for partner in sorted(statuses):
            first = statuses[partner]["insecure_events"][0]
            lines.append(f"  {partner}: {statuses[partner]['insecure_run']}, {first['relay']}: {first['tls']}")
        lines += ["", *_wrapped(_INSECURE_ADVICE), ""]
        subject = f"[partnermail] {hostname}: mail to {len(statuses)} partners delivered without the required TLS"
        return [new_message(sender, recipients, hostname, now, subject, "\n".join(lines), f"{INSECURE}-digest")]
    return [_insecure_message(partner, statuses[partner], sender, recipients, hostname, now)
            for partner in sorted(statuses)]


def _insecure_message(partner, status, sender, recipients, hostname, now):
    events, count = status["insecure_events"], status["insecure_run"]
    required = _REQUIRED_TEXT.get(events[0]["required"], "the TLS its link requires")
    subject = (f"[partnermail] {hostname}: mail to partner {partner} delivered without {required} "
               f"({count} {'delivery' if count == 1 else 'deliveries'}, {events[0]['tls']})")
    lines = [*_wrapped(f"{hostname} delivered mail to partner {partner} through the partner transport without "
                       f"{required}:"), ""]
    for event in events:  # two lines each: the mail stays within 78 columns (no quoted-printable)
        lines += [f"  {_when(event['time'])}  {event['queue_id']}  to=<{event['to']}>",
                  f"      relay={event['relay']}, {event['tls']}"]
    if count > len(events):
        lines.append(f"  ... and {count - len(events)} more in this check run")
    lines += ["", *_wrapped(f"Such deliveries to {partner} counted so far: {status['insecure']} "
                            "(partnermail_partner_insecure_deliveries_total)."), "", *_wrapped(_INSECURE_ADVICE), ""]
    return new_message(sender, recipients, hostname, now, subject, "\n".join(lines), INSECURE, partner)


def _wrapped(text):
    return textwrap.wrap(text, width=76, break_long_words=False, break_on_hyphens=False)


def message_bytes(message):
    """The message as bytes with LF line ends, for ``/usr/sbin/sendmail -t`` on its standard input.

    Headers are not folded below RFC 5322's 998 characters: the email package folds a long Subject right
    after its colon, which some readers show as a leading space.
    """
    return message.as_bytes(policy=message.policy.clone(max_line_length=998))
