"""_health.queue: real ``postqueue -j`` output -> per partner: queued, oldest age, reason class."""

import json
import sys
from pathlib import Path

import pytest

from ansible_collections.partnermail.links.plugins.module_utils._health import queue
from ansible_collections.partnermail.links.plugins.module_utils._health.partners import PartnerIndex

from .health_lines import POSTQUEUE_FILES

DATA = Path(__file__).parent / "data" / "health"
SCENARIOS = ("auth", "camismatch", "cauntrusted", "fingerprint", "handshake", "lostehlo", "lostgreeting",
             "mismatch", "nostarttls", "nx", "refused", "timeout", "untrusted", "verifyuntrusted")
# What the queue alone can tell: "not verified" is certificate_untrusted without the log's verification line.
EXPECTED = {"auth": "auth_failed", "handshake": "tls_handshake_failed", "nostarttls": "no_starttls",
            "nx": "dns_failure", "lostehlo": "connection_failed", "lostgreeting": "connection_failed",
            "refused": "connection_failed", "timeout": "connection_failed"}


def message(queue_id, arrival, *recipients, queue_name="deferred"):
    return json.dumps({"queue_name": queue_name, "queue_id": queue_id, "arrival_time": arrival, "message_size": 300,
                       "forced_expire": False, "sender": "alice@a.test",
                       "recipients": [{"address": address, "delay_reason": reason} if reason else
                                      {"address": address} for address, reason in recipients]})


@pytest.mark.parametrize("release", sorted(POSTQUEUE_FILES))
def test_real_postqueue_output(release):
    text = (DATA / POSTQUEUE_FILES[release]).read_text()
    index = PartnerIndex({f"{name}.b.test": name for name in SCENARIOS})
    statuses, bad = queue.parse_postqueue(text, index)
    assert bad == 0
    for name in SCENARIOS:
        assert statuses[name].reason == EXPECTED.get(name, "certificate_untrusted"), name
    # Two messages went to both carol@untrusted.b.test and dave@refused.b.test: they count for both.
    assert (statuses["untrusted"].messages, statuses["refused"].messages, statuses["nx"].messages) == (4, 4, 2)
    assert statuses["untrusted"].reasons == {"certificate_untrusted": 4}


def test_one_partner_for_all_the_lab_domains_by_subdomain_entry():
    text = (DATA / POSTQUEUE_FILES["3.7"]).read_text()
    statuses, _unused = queue.parse_postqueue(text, PartnerIndex({".b.test": "b"}))
    assert statuses["b"].messages == len(text.splitlines())
    oldest = min(json.loads(line)["arrival_time"] for line in text.splitlines())
    assert statuses["b"].oldest_arrival == oldest
    assert statuses["b"].oldest_age(oldest + 90) == 90


def test_counting_rules():
    text = "\n".join([
        message("A1", 1000, ("x@b.test", "Server certificate not verified")),
        message("A2", 2000, ("y@b.test", "connect to mx.b.test[10.0.0.3]:25: Connection refused"),
                ("z@b.test", "connect to mx.b.test[10.0.0.3]:25: Connection refused")),  # one message
        message("A3", 500, ("x@b.test", "Server certificate not verified"), queue_name="hold"),  # left out
        message("A4", 3000, ("x@b.test", None), queue_name="active"),  # not tried yet: no reason
        message("A5", 100, ("someone@elsewhere.test", "Host not found")),  # no partner
        message("A6", 1500, ("u@c.test", "Cannot start TLS: handshake failure"), ("v@b.test", None)),
        "",
        "not json",
        "[1, 2]",
    ])
    statuses, bad = queue.parse_postqueue(text, PartnerIndex({"b.test": "b", "c.test": "c", "d.test": "d"}))
    b, c, d = statuses["b"], statuses["c"], statuses["d"]
    assert bad == 2
    assert (b.messages, b.oldest_arrival, b.reason) == (4, 1000, "connection_failed")  # newest with a reason
    assert b.reasons == {"certificate_untrusted": 1, "connection_failed": 1}
    assert (c.messages, c.reason) == (1, "tls_handshake_failed")
    assert (d.messages, d.oldest_age(5000), d.reason) == (0, 0.0, None)


def test_run_postqueue():
    assert queue.run_postqueue([sys.executable, "-c", "print('{}')"]) == "{}\n"
    with pytest.raises(queue.QueueError, match="exited 3"):
        queue.run_postqueue([sys.executable, "-c", "import sys; sys.exit(3)"])
    with pytest.raises(queue.QueueError, match="No such file"):
        queue.run_postqueue(["/nonexistent/postqueue", "-j"])
