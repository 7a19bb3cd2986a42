"""_health.alerts: one mail when an incident starts, none while it lasts, one when it ends."""

import email
import email.policy

import pytest

from ansible_collections.partnermail.links.plugins.module_utils._health import alerts

THRESHOLD = 3600


def status(queued, age, reason="certificate_untrusted"):
    return {"queued": queued, "oldest_age_seconds": age, "reason": reason if queued else None,
            "queue_reason": None, "queue_reason_text": None, "last_deferral_reason": reason,
            "last_deferral_text": "Server certificate not verified", "last_deferral": 1796170000.0,
            "last_delivery": None}


# Each row: the (queued, oldest age) of partner b run after run, and the alert kinds each run returns.
@pytest.mark.parametrize(("runs", "expected"), [
    ([(0, 0), (3, 100), (3, 3599)], [[], [], []]),  # below the threshold: nothing
    ([(3, 3600), (5, 4000), (9, 9000)], [["stuck"], [], []]),  # one mail per incident
    ([(3, 3600), (0, 0)], [["stuck"], ["recovered"]]),  # drained
    ([(3, 7200), (2, 60)], [["stuck"], ["recovered"]]),  # what is left is young again
    ([(3, 7200), (0, 0), (1, 3700)], [["stuck"], ["recovered"], ["stuck"]]),  # a new incident
    ([(0, 0), (0, 0)], [[], []]),
])
def test_state_machine(runs, expected):
    state = {}
    for now, ((queued, age), kinds) in enumerate(zip(runs, expected, strict=True), start=1):
        state, fired = alerts.step(state, {"b": status(queued, age), "c": status(0, 0)}, THRESHOLD, now * 60)
        assert [alert.kind for alert in fired] == kinds
        assert all(alert.partner == "b" for alert in fired)


def test_recovered_knows_when_the_incident_began():
    state, _unused = alerts.step({}, {"b": status(3, 4000)}, THRESHOLD, 1000)
    assert state == {"incidents": {"b": {"since": 1000, "reason": "certificate_untrusted"}}}
    state, fired = alerts.step(state, {"b": status(0, 0)}, THRESHOLD, 8200)
    assert state == {"incidents": {}} and (fired[0].since, fired[0].now) == (1000, 8200)


def test_a_partner_that_left_the_configuration_is_forgotten_without_mail():
    state, _unused = alerts.step({}, {"b": status(3, 4000)}, THRESHOLD, 1000)
    state, fired = alerts.step(state, {"c": status(0, 0)}, THRESHOLD, 1060)
    assert (state, fired) == ({"incidents": {}}, [])


def test_stuck_mail():
    _unused, fired = alerts.step({}, {"b": status(12, 7500)}, THRESHOLD, 1796172743)
    message = alerts.build_message(fired[0], "partnermail-health@mx-a.a.test", ["postmaster@a.test", "ops@a.test"],
                                   "mx-a.a.test")
    assert message["From"] == "partnermail-health@mx-a.a.test"
    assert message["To"] == "postmaster@a.test, ops@a.test"
    assert message["Subject"] == ("[partnermail] mx-a.a.test: mail to partner b stuck for 2h 5m "
                                  "(12 messages, certificate_untrusted)")
    assert message["Date"] == "Wed, 02 Dec 2026 00:52:23 +0000"
    assert message["Message-ID"].endswith("@mx-a.a.test>")
    assert message["Auto-Submitted"] == "auto-generated"
    body = message.get_content()
    words = " ".join(body.split())
    for part in ("Partner: b", "Messages queued: 12", "Oldest message: 2h 5m", "Reason: certificate_untrusted",
                 "Postfix said: Server certificate not verified", "Last delivery: never"):
        assert part in words, part
    assert len({line.index(":") + len(line.split(":", 1)[1]) - len(line.split(":", 1)[1].lstrip())
                for line in body.splitlines()[2:9]}) == 1  # the values start in one column


def test_recovered_mail_and_bytes_for_sendmail():
    state, _unused = alerts.step({}, {"b": status(2, 4000)}, THRESHOLD, 1796172743)
    _unused, fired = alerts.step(state, {"b": status(0, 0)}, THRESHOLD, 1796172743 + 5400)
    message = alerts.build_message(fired[0], "h@mx-a.a.test", ["postmaster@a.test"], "mx-a.a.test")
    assert message["Subject"] == "[partnermail] mx-a.a.test: mail to partner b flows again (stuck for 1h 30m)"
    words = " ".join(message.get_content().split())
    assert "Messages queued: 0" in words and "Oldest message: none queued" in words
    data = alerts.message_bytes(message)
    assert b"\r\n" not in data and data.startswith(b"From: h@mx-a.a.test\n")
    again = email.message_from_bytes(data, policy=email.policy.default)
    assert again["Subject"] == message["Subject"] and again["X-Partnermail-Alert"] == "recovered"


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "0s"), (59, "59s"), (61, "1m 1s"), (3600, "1h 0m"), (7500, "2h 5m"), (90000, "1d 1h"), (-5, "0s"),
])
def test_duration(seconds, text):
    assert alerts.duration(seconds) == text


T0 = 1_800_000_000


def test_a_mass_outage_makes_one_digest_mail_per_kind():
    statuses = {f"p{index}": {"queued": index + 1, "oldest_age_seconds": 4000, "reason": "dns_failure"}
                for index in range(alerts.DIGEST_OVER + 1)}
    state, fired = alerts.step({}, statuses, 3600, T0)
    messages = alerts.build_messages(fired, "f@a.test", ["postmaster@a.test"], "mx.a.test")
    assert len(messages) == 1
    assert messages[0]["Subject"] == f"[partnermail] mx.a.test: mail to {alerts.DIGEST_OVER + 1} partners stuck"
    assert "  p0: 1 queued, oldest 1h 6m, dns_failure" in messages[0].get_content()
    few = dict(list(statuses.items())[:alerts.DIGEST_OVER])
    _unused, fired = alerts.step({}, few, 3600, T0)
    assert len(alerts.build_messages(fired, "f@a.test", ["p@a.test"], "mx.a.test")) == alerts.DIGEST_OVER
    drained = {name: {"queued": 0, "oldest_age_seconds": 0} for name in statuses}
    _unused, fired = alerts.step(state, drained, 3600, T0 + 600)
    messages = alerts.build_messages(fired, "f@a.test", ["p@a.test"], "mx.a.test")
    assert [m["X-Partnermail-Alert"] for m in messages] == ["recovered-digest"]
    assert "  p3: stuck for 10m 0s" in messages[0].get_content()
