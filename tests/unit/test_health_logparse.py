"""_health.logparse: real partner transport lines -> last delivery, last deferral and its class, counters."""

import time
from datetime import datetime, timezone

import pytest

from ansible_collections.partnermail.links.plugins.module_utils._health import logparse
from ansible_collections.partnermail.links.plugins.module_utils._health.partners import PartnerIndex

from .health_lines import (
    DEFERRED_37_FOR_EXPIRED,
    DELIVERIES,
    EXPIRED_37,
    IGNORED_LINES,
    REMOVED_37,
    STATUS_LINES,
    TLS_LINES,
    VERIFIED_PAIRS,
)

UTC = timezone.utc
NOW = datetime(2026, 12, 2, 1, 0, tzinfo=UTC).timestamp()
DOMAINS = {"b.test": "b", ".b.test": "b", "c.test": "c"}


def tracker(domains=None, state=None, transport="partner"):
    return logparse.LogTracker(PartnerIndex(DOMAINS if domains is None else domains), transport, state, now=NOW,
                               tz=UTC)


def feed(lines, **kwargs):
    track = tracker(**kwargs)
    track.feed(line.encode() for line in lines)
    return track


def stamp(text):
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


@pytest.mark.parametrize(("release", "line", "reason"), STATUS_LINES,
                         ids=[f"{row[0]}-{row[2]}-{index}" for index, row in enumerate(STATUS_LINES)])
def test_each_real_status_line(release, line, reason):
    log = feed([line]).partners["b"]
    when = stamp("2026-12-02T" + line[7:15])
    if reason is None:
        assert (log.last_delivery, log.last_deferral, log.attempts["sent"]) == (when, None, 1)
    else:
        assert (log.last_deferral, log.last_reason, log.attempts["deferred"]) == (when, reason, 1)
        assert log.last_text == line.split("status=deferred (", 1)[1][:-1]
        assert log.last_delivery is None


@pytest.mark.parametrize(("release", "verification", "status", "reason"), VERIFIED_PAIRS,
                         ids=[f"{row[0]}-{row[3]}-{index}" for index, row in enumerate(VERIFIED_PAIRS)])
def test_verification_line_then_status_line(release, verification, status, reason):
    assert feed([verification, status]).partners["b"].last_reason == reason


def test_without_its_verification_line_not_verified_is_untrusted():
    assert feed([VERIFIED_PAIRS[0][2]]).partners["b"].last_reason == "certificate_untrusted"


def test_a_verification_line_for_another_peer_does_not_count():
    other_peer = VERIFIED_PAIRS[0][1].replace(":2503:", ":2599:")
    assert feed([other_peer, VERIFIED_PAIRS[0][2]]).partners["b"].last_reason == "certificate_untrusted"


@pytest.mark.parametrize("line", IGNORED_LINES)
def test_lines_that_are_not_partner_delivery_attempts(line):
    track = feed([line])
    assert track.partners["b"].to_dict() == logparse.PartnerLog().to_dict()
    assert track.lines == 1


@pytest.mark.parametrize(("domains", "address", "partner"), [
    ({"b.test": "b"}, "bob@b.test", "b"),
    ({"b.test": "b"}, "bob@x.b.test", None),  # no leading-dot entry: the domain only
    ({".b.test": "b"}, "bob@x.b.test", "b"),
    ({".b.test": "b"}, "bob@deep.x.b.test", "b"),
    ({".b.test": "b"}, "bob@b.test", None),  # a leading dot: subdomains only
    ({".b.test": "b", "x.b.test": "x"}, "bob@x.b.test", "x"),  # exact beats parent
    ({".b.test": "b", ".x.b.test": "x"}, "bob@y.x.b.test", "x"),  # nearer parent beats farther
    ({"b.test": "b"}, "BOB@B.TEST", "b"),
    ({"b.test": "b"}, "bob@c.test", None),  # unknown partner
])
def test_which_partner_a_recipient_belongs_to(domains, address, partner):
    line = STATUS_LINES[0][1].replace("bob@ok.b.test", address)
    track = feed([line], domains=domains)
    found = {name for name, log in track.partners.items() if log.attempts["sent"]}
    assert found == ({partner} if partner else set())


def test_an_unknown_partner_is_not_counted_anywhere():
    track = feed([STATUS_LINES[2][1].replace("bob@untrusted.b.test", "eve@unknown.test")])
    assert all(log.attempts["deferred"] == 0 for log in track.partners.values())
    assert track.queue_ids == {}


def test_another_transport_name():
    line = STATUS_LINES[0][1].replace("postfix/partner/smtp", "postfix/links/smtp")
    assert feed([line], transport="links").partners["b"].attempts["sent"] == 1
    assert feed([line]).partners["b"].attempts["sent"] == 0


def test_expired_partner_mail_is_counted_through_its_queue_id():
    track = feed([DEFERRED_37_FOR_EXPIRED, EXPIRED_37, REMOVED_37])
    assert track.partners["b"].expired == 1
    assert track.queue_ids == {}


def test_removed_forgets_the_queue_id():
    track = feed([DEFERRED_37_FOR_EXPIRED, REMOVED_37, EXPIRED_37])
    assert track.partners["b"].expired == 0


def test_state_carries_the_counters_and_the_peers_to_the_next_run():
    first = feed([VERIFIED_PAIRS[0][1], STATUS_LINES[0][1], DEFERRED_37_FOR_EXPIRED])
    second = feed([VERIFIED_PAIRS[0][2], EXPIRED_37], state=first.state())
    log = second.partners["b"]
    assert log.attempts == {"sent": 1, "deferred": 2, "bounced": 0}
    assert log.last_reason == "name_mismatch"  # the verification line was read by the first run
    assert log.expired == 1
    assert log.last_delivery == first.partners["b"].last_delivery


def test_a_partner_that_left_the_configuration_leaves_the_state():
    first = feed([DEFERRED_37_FOR_EXPIRED])
    second = tracker(domains={"c.test": "c"}, state=first.state())
    assert set(second.state()["partners"]) == {"c"} and second.queue_ids == {}


def test_memory_is_bounded(monkeypatch):
    monkeypatch.setattr(logparse, "MAX_QUEUE_IDS", 3)
    monkeypatch.setattr(logparse, "MAX_PEERS", 2)
    line = DEFERRED_37_FOR_EXPIRED
    lines = [line.replace("3DCCA184488", f"ABC{index}") for index in range(10)]
    verifications = [VERIFIED_PAIRS[0][1].replace(":2503:", f":{2600 + index}:") for index in range(5)]
    track = feed(lines + verifications)
    assert list(track.queue_ids) == ["ABC7", "ABC8", "ABC9"]
    assert list(track.peers) == ["127.0.0.1[127.0.0.1]:2603", "127.0.0.1[127.0.0.1]:2604"]


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-12-01T10:00:00.123456+00:00", "2026-12-01T10:00:00.123456"),
    ("2026-12-01T11:00:00.5+01:00", "2026-12-01T10:00:00.5"),
    ("2026-12-01T10:00:00Z", "2026-12-01T10:00:00"),
    ("2026-12-01T10:00:00", "2026-12-01T10:00:00"),  # no offset: tz (here UTC)
    ("Dec 01 10:00:00", "2026-12-01T10:00:00"),  # postlogd
    ("Dec  1 10:00:00", "2026-12-01T10:00:00"),  # classic syslog
    ("Dec  1 10:00:00.250000", "2026-12-01T10:00:00.25"),
    ("Dec 31 23:59:59", "2025-12-31T23:59:59"),  # after now: last year
    ("Dec  3 00:30:00", "2026-12-03T00:30:00"),  # less than a day ahead (clock skew): this year
])
def test_timestamps(text, expected):
    assert logparse.parse_timestamp(text, NOW, UTC) == pytest.approx(stamp(expected))


def test_classic_timestamps_in_local_time(monkeypatch):
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    try:
        assert logparse.parse_timestamp("Dec 01 10:00:00", NOW) == stamp("2026-12-01T09:00:00")
        assert logparse.parse_timestamp("Jul 01 10:00:00", NOW) == stamp("2026-07-01T08:00:00")
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


@pytest.mark.parametrize("text", ["Foo 01 10:00:00", "2026-13-01T10:00:00Z", "yesterday"])
def test_bad_timestamps(text):
    with pytest.raises(logparse.TimestampError):
        logparse.parse_timestamp(text, NOW, UTC)


def test_rfc3339_lines_from_rsyslog():
    line = "2026-12-01T10:00:00.123456+00:00 " + STATUS_LINES[2][1][16:]
    log = feed([line]).partners["b"]
    assert log.last_deferral == pytest.approx(stamp("2026-12-01T10:00:00.123456"))
    assert log.last_reason == "certificate_untrusted"


def test_bounced_counts_as_a_failure():
    line = STATUS_LINES[0][1].replace("dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 167631844A5)",
                                      "dsn=5.1.1, status=bounced (host 127.0.0.1[127.0.0.1] said: 550 5.1.1 "
                                      "<bob@ok.b.test>: Recipient address rejected (in reply to RCPT TO command))")
    log = feed([line]).partners["b"]
    assert (log.attempts["bounced"], log.last_reason) == (1, "other")


def test_a_conn_use_field_and_orig_to_are_understood():
    line = STATUS_LINES[0][1].replace("relay=127.0.0.1[127.0.0.1]:2501, ", "orig_to=<alias@a.test>, "
                                      "relay=127.0.0.1[127.0.0.1]:2501, conn_use=2, ")
    assert feed([line]).partners["b"].attempts["sent"] == 1


# Deliveries not made at the partner's TLS level: the smtp process's TLS line, then its status line.
VERIFIED_TLS = TLS_LINES["3.10"]  # pid 924, to 127.0.0.1[127.0.0.1]:2501, then STATUS_LINES[1] (sent, same pid)
SENT = STATUS_LINES[1][1]


def judged(lines, required="verified", **kwargs):
    track = logparse.LogTracker(PartnerIndex(DOMAINS), "partner", kwargs.pop("state", None), now=NOW, tz=UTC,
                                required={"b": required}, **kwargs)
    track.feed(line.encode() for line in lines)
    return track


@pytest.mark.parametrize("release", sorted(TLS_LINES))
def test_a_delivery_after_its_verified_tls_line_is_secure(release):
    sent = next(line for rel, line, reason in STATUS_LINES if rel == release and reason is None)
    log = judged([TLS_LINES[release], sent]).partners["b"]
    assert (log.attempts["sent"], log.insecure, log.insecure_events) == (1, 0, [])


@pytest.mark.parametrize("release", sorted(DELIVERIES))
def test_real_deliveries_against_each_level(release):
    """Both messages over verified TLS (the second on the cached connection) are secure; an untrusted one is
    insecure unless the level is encrypt; a deferral is no delivery at all."""
    lines = DELIVERIES[release]
    log = judged(lines["verified"]).partners["b"]
    assert (log.attempts["sent"], log.insecure) == (2, 0)
    log = judged(lines["untrusted"]).partners["b"]
    assert (log.attempts["sent"], log.insecure, log.insecure_events[0]["tls"]) == (1, 1, "Untrusted TLS")
    assert judged(lines["untrusted"], required="encrypted").partners["b"].insecure == 0
    log = judged(lines["no_mechanism"]).partners["b"]
    assert (log.attempts["deferred"], log.insecure, log.last_reason) == (1, 0, "auth_failed")
    # Without the cached connection's "reused" line, the second message would have gone without TLS.
    without_reused = [line for line in lines["verified"] if " TLS connection reused " not in line]
    log = judged(without_reused).partners["b"]
    assert (log.insecure, log.insecure_events[0]["tls"]) == (1, "no TLS")


def test_a_delivery_without_a_tls_line_is_insecure_and_named():
    log = judged([SENT]).partners["b"]
    assert (log.insecure, log.insecure_run) == (1, 1)
    assert log.insecure_events == [{
        "time": stamp("2026-12-02T00:53:28"), "queue_id": "89A3C1883EE", "to": "bob@ok.b.test",
        "relay": "127.0.0.1[127.0.0.1]:2501", "tls": "no TLS", "required": "verified"}]


@pytest.mark.parametrize(("grade", "required", "insecure"), [
    ("Verified", "verified", 0), ("Trusted", "verified", 1), ("Untrusted", "verified", 1),
    ("Anonymous", "verified", 1),
    ("Verified", "encrypted", 0), ("Trusted", "encrypted", 0), ("Untrusted", "encrypted", 0),
    ("Anonymous", "encrypted", 0),
])
def test_the_tls_grade_against_the_partners_level(grade, required, insecure):
    line = VERIFIED_TLS.replace("Verified TLS", f"{grade} TLS")
    log = judged([line, SENT], required=required).partners["b"]
    assert log.insecure == insecure
    if insecure:
        assert log.insecure_events[0]["tls"] == f"{grade} TLS"


def test_at_level_encrypt_no_tls_at_all_is_insecure():
    assert judged([SENT], required="encrypted").partners["b"].insecure == 1


def test_a_tls_line_of_another_process_or_peer_does_not_count():
    other_pid = VERIFIED_TLS.replace("smtp[924]", "smtp[925]")
    other_peer = VERIFIED_TLS.replace(":2501:", ":2599:")
    internet = VERIFIED_TLS.replace("postfix/partner/smtp", "postfix/smtp")
    for line in (other_pid, other_peer, internet):
        assert judged([line, SENT]).partners["b"].insecure == 1, line


def test_each_delivery_request_needs_its_own_tls_line():
    """A session serves one queue id; the next request over TLS logs 'reused' (or a new handshake) first."""
    second = SENT.replace("89A3C1883EE", "89A3C1883FF")
    reused = VERIFIED_TLS.replace("established", "reused")
    assert judged([VERIFIED_TLS, SENT, second]).partners["b"].insecure == 1
    assert judged([VERIFIED_TLS, SENT, reused, second]).partners["b"].insecure == 0


def test_several_recipients_of_one_request_share_its_session():
    other_recipient = SENT.replace("bob@ok.b.test", "carol@ok.b.test")
    log = judged([VERIFIED_TLS, SENT, other_recipient]).partners["b"]
    assert (log.attempts["sent"], log.insecure) == (2, 0)


def test_a_deferral_binds_the_session_too():
    deferred = SENT.replace("status=sent (250 2.0.0 Ok: queued as AC40B1883F4)", "status=deferred (lost connection)")
    later = SENT.replace("89A3C1883EE", "89A3C1883FF")
    log = judged([VERIFIED_TLS, deferred, later]).partners["b"]
    assert (log.attempts["deferred"], log.insecure) == (1, 1)


def test_a_session_and_the_count_carry_over_to_the_next_run():
    first = judged([VERIFIED_TLS])
    second = judged([SENT], state=first.state())
    assert second.partners["b"].insecure == 0
    third = judged([SENT.replace("89A3C1883EE", "89A3C1883FF")], state=second.state())
    log = third.partners["b"]
    assert (log.insecure, log.insecure_run) == (1, 1)
    fourth = judged([], state=third.state())
    assert (fourth.partners["b"].insecure, fourth.partners["b"].insecure_run,
            fourth.partners["b"].insecure_events) == (1, 0, [])


def test_partners_without_a_requirement_are_not_judged():
    """A partner in test mode goes out as Internet mail: the check has no requirement for it."""
    assert feed([SENT]).partners["b"].insecure == 0
    track = logparse.LogTracker(PartnerIndex(DOMAINS), "partner", None, now=NOW, tz=UTC, internet=True,
                                required={"c": "verified"})
    internet = SENT.replace("bob@ok.b.test", "bob@c.test").replace("postfix/partner/smtp", "postfix/smtp")
    track.feed([SENT.encode(), internet.encode()])
    assert track.partners["b"].insecure == 0 and track.partners["c"].insecure == 0


def test_the_alert_keeps_the_first_events_and_counts_them_all(monkeypatch):
    monkeypatch.setattr(logparse, "MAX_INSECURE_EVENTS", 2)
    lines = [SENT.replace("89A3C1883EE", f"89A3C1883{index:02d}") for index in range(5)]
    log = judged(lines).partners["b"]
    assert (log.insecure, log.insecure_run, len(log.insecure_events)) == (5, 5, 2)


def test_sessions_are_bounded(monkeypatch):
    monkeypatch.setattr(logparse, "MAX_SESSIONS", 2)
    lines = [VERIFIED_TLS.replace("smtp[924]", f"smtp[{pid}]") for pid in range(10)]
    assert list(judged(lines).sessions) == ["8", "9"]
