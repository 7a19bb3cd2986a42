"""Test mode: would a partner's declared policy hold? Verdicts from probing its connectors, incidents, alert mail.

A partner in test mode (``mode: test``) has its mail delivered as Internet mail (TLS level ``may``, no login),
so the queue and the log say nothing about its declared policy. The health check probes the partner's
connectors with that policy instead (the link report's probe: TLS, the certificate as the policy asks, the
outbound login) on a schedule of its own, and this module turns the probe's rows (``_report.link_report()``
rows) into one verdict per partner:

- ``holds``: every connector meets the declared policy - switching the partner to ``enforce`` would deliver
  through each of them;
- ``reason``: the class (``classify.REASONS``) of the first connector that fails it, in cost order, else None.

An incident is a partner whose policy does not hold: one mail when it starts, one when it holds again, as for
stuck mail (``alerts``). Pure Python over plain data: the probing is the caller's.
"""

from datetime import datetime, timezone

from . import alerts as _alerts
from . import classify as _classify

FAILS = "policy_fails"
HOLDS = "policy_holds"

_CONNECTION = {"refused", "timeout", "unreachable", "closed"}
# _dns.mx statuses of a failed MX lookup, the probe's for a host name it cannot resolve, and the report's for
# dane-only without validated TLSA records. "timeout" is both the probe's and the resolver's: the problem says which.
_DNS_STATUSES = {"unresolvable", "nxdomain", "servfail", "nodata", "no_mx_implicit", "null_mx", "no_dane"}


def classify_row(row):
    """The reason class of a probe row that fails its policy, or None when it meets it."""
    if row.get("ok"):
        return None
    status = row.get("status") or "other"
    if status == "timeout" and any(problem.startswith("no answer to ") for problem in row.get("problems") or []):
        return _classify.DNS_FAILURE
    if status in _CONNECTION:
        return _classify.CONNECTION_FAILED
    if status == "no_starttls":
        return _classify.NO_STARTTLS
    if status == "tls_failed":
        return _classify.TLS_HANDSHAKE_FAILED
    if status != "ok":
        # The MX lookup failed (the row's status is the DNS answer's), or dane-only found no validated TLSA.
        return _classify.DNS_FAILURE if status in _DNS_STATUSES else _classify.OTHER
    for problem in row.get("problems") or []:
        requirement, _sep, detail = problem.partition(": ")
        if requirement in ("verified", "name") and "carries none of" in detail:
            return _classify.NAME_MISMATCH
        if requirement in ("verified", "trusted", "fingerprint", "tlsa"):
            return _classify.CERTIFICATE_UNTRUSTED
        if requirement in ("tls", "tlsv1.2", "tlsv1.3"):
            return _classify.TLS_HANDSHAKE_FAILED
        if requirement == "auth":
            return _classify.AUTH_FAILED
    return _classify.OTHER


def verdicts(rows, partners, now):
    """{partner: verdict} for the names in ``partners`` from the probe rows (rows of other partners are ignored).

    A verdict: holds, reason, problems (one line per failing connector), connectors (each row's nexthop, host, ok
    and reason) and probed_at. A partner without any row (no connector could be planned) does not hold.
    """
    out = {}
    for name in partners:
        mine = [row for row in rows if row.get("partner") == name]
        connectors = [{"nexthop": row["nexthop"], "host": row["host"], "ok": bool(row.get("ok")),
                       "reason": classify_row(row)} for row in mine]
        failing = [(row, item) for row, item in zip(mine, connectors, strict=True) if not item["ok"]]
        problems = [f"{row['host']} ({row['nexthop']}): " + ("; ".join(row.get("problems") or [])
                                                             or row.get("status") or "failed")
                    for row, _item in failing]
        if not mine:
            problems = ["no connector to probe"]
        out[name] = {
            "holds": bool(mine) and not failing,
            "reason": failing[0][1]["reason"] if failing else (None if mine else _classify.OTHER),
            "policy": mine[0].get("policy") if mine else None,
            "problems": problems,
            "connectors": connectors,
            "probed_at": now,
        }
    return out


def due(state, partners, interval, now):
    """True when the partners in test mode should be probed now: never probed, the set changed, or interval passed."""
    if not partners:
        return False
    state = state or {}
    last = state.get("probed_at")
    if not isinstance(last, (int, float)) or sorted(state.get("verdicts") or {}) != sorted(partners):
        return True
    return now - last >= interval or now < last


class PolicyAlert:
    __slots__ = ("kind", "now", "partner", "since", "verdict")

    def __init__(self, kind, partner, verdict, since, now):
        self.kind = kind
        self.partner = partner
        self.verdict = verdict
        self.since = since
        self.now = now


def step(state, verdict_map, now):
    """(incidents, [PolicyAlert]): an incident per partner whose declared policy does not hold.

    ``state``: the incidents saved by the last run ({partner: {"since": t}}); ``verdict_map``: this probe's verdicts.
    Partners no longer in test mode leave the incidents without a mail.
    """
    incidents = dict(state or {})
    alerts = []
    for partner in sorted(verdict_map):
        verdict = verdict_map[partner]
        if not verdict["holds"] and partner not in incidents:
            incidents[partner] = {"since": now, "reason": verdict["reason"]}
            alerts.append(PolicyAlert(FAILS, partner, verdict, now, now))
        elif verdict["holds"] and partner in incidents:
            since = incidents.pop(partner).get("since", now)
            alerts.append(PolicyAlert(HOLDS, partner, verdict, since, now))
    for partner in [name for name in incidents if name not in verdict_map]:
        del incidents[partner]
    return incidents, alerts


def _when(stamp):
    return datetime.fromtimestamp(stamp, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def build_message(alert, sender, recipients, hostname):
    """The mail for a test-mode incident: the declared policy stopped holding, or holds again."""
    verdict, partner = alert.verdict, alert.partner
    policy = verdict.get("policy") or "declared"
    if alert.kind == FAILS:
        subject = (f"[partnermail] {hostname}: partner {partner} (test mode): the declared policy would fail "
                   f"({verdict['reason']})")
        lead = (f"Partner {partner} is in test mode on {hostname}: its mail is delivered with opportunistic TLS "
                f"and no login (NOT ENFORCED). Probing its connectors with the declared policy ({policy}) shows "
                f"that switching it to enforce now would make its mail wait in the queue.")
        tail = f"One mail per incident: the next one says when the declared policy holds for {partner}."
    else:
        subject = f"[partnermail] {hostname}: partner {partner} (test mode): the declared policy holds again"
        lead = (f"Probing partner {partner}'s connectors from {hostname} with the declared policy ({policy}) "
                f"succeeds again: switching it to enforce would deliver through each of them.")
        tail = f"The incident began {_when(alert.since)} and ended {_when(alert.now)}."
    lines = [lead, "", f"Reason: {verdict['reason'] or 'none'}", "Connectors:"]
    for item in verdict["connectors"]:
        lines.append(f"  {item['host']} ({item['nexthop']}): " + ("meets the policy" if item["ok"] else
                                                                  f"FAILS ({item['reason']})"))
    if verdict["problems"] and alert.kind == FAILS:
        lines += ["", "What the probe found:"] + [f"  {problem}" for problem in verdict["problems"]]
    lines += ["", tail, ""]
    return _alerts.new_message(sender, recipients, hostname, alert.now, subject, "\n".join(lines), alert.kind,
                               partner)
