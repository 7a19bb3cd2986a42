"""mx_info's backend against a fake validating resolver on 127.0.0.1: every status, DNSSEC and DANE flags."""

import time

import dns.flags
import pytest

from ansible_collections.partnermail.links.plugins.module_utils._dns import mx
from ansible_collections.partnermail.links.plugins.module_utils._dns.errors import DnsError

from .dns_server import FakeDnsServer

EE = "3 1 1 " + "ab" * 32
TA = "2 0 1 " + "cd" * 32
PKIX = "1 1 1 " + "ef" * 32

ZONE = [
    # b.test: signed; two hosts share preference 10, one more at 20, one MX in an unsigned zone at 30
    "b.test MX 10 mx1.b.test.", "b.test MX 10 mx0.b.test.", "b.test MX 20 mx2.b.test.", "b.test MX 30 mx.c.test.",
    "mx0.b.test A 192.0.2.10",
    "mx1.b.test A 192.0.2.11", "mx1.b.test AAAA 2001:db8::11", f"_25._tcp.mx1.b.test TLSA {EE}",
    f"_25._tcp.mx1.b.test TLSA {TA}",
    "mx2.b.test AAAA 2001:db8::12", f"_25._tcp.mx2.b.test TLSA {PKIX}",
    "alias.b.test CNAME b.test.",
    # c.test: unsigned, with TLSA records that therefore do not count
    "c.test MX 10 mx.c.test.", "mx.c.test A 192.0.2.30", f"_25._tcp.mx.c.test TLSA {EE}",
    "implicit.b.test A 192.0.2.40", "implicit.b.test AAAA 2001:db8::40", f"_25._tcp.implicit.b.test TLSA {EE}",
    "bare.b.test TXT nothing-but-text",
    "nomail.b.test MX 0 .",
    "mixed.b.test MX 0 .", "mixed.b.test MX 10 mx0.b.test.",
    "d.b.test MX 10 mx.broken.test.",
    "e.b.test MX 10 mx.slow.test.",
]


@pytest.fixture(scope="module")
def dns_server():
    server = FakeDnsServer(ZONE, secure=["b.test"], servfail=["broken.test"], silent=["slow.test"]).start()
    yield server
    server.stop()


def lookup(server, domain, timeout=1.0):
    return mx.mx_info(domain, mx.ResolverSpec(("127.0.0.1",), server.port, timeout))


def hosts(report):
    return [(h["preference"], h["host"]) for h in report["mx"]]


STATUS_CASES = [
    ("b.test", "ok", True, [(10, "mx0.b.test"), (10, "mx1.b.test"), (20, "mx2.b.test"), (30, "mx.c.test")]),
    ("B.Test.", "ok", True, [(10, "mx0.b.test"), (10, "mx1.b.test"), (20, "mx2.b.test"), (30, "mx.c.test")]),
    ("alias.b.test", "ok", True, [(10, "mx0.b.test"), (10, "mx1.b.test"), (20, "mx2.b.test"), (30, "mx.c.test")]),
    ("c.test", "ok", False, [(10, "mx.c.test")]),
    ("implicit.b.test", "no_mx_implicit", True, [(0, "implicit.b.test")]),
    ("bare.b.test", "no_mx_implicit", True, [(0, "bare.b.test")]),
    ("nomail.b.test", "null_mx", True, []),
    ("mixed.b.test", "ok", True, [(10, "mx0.b.test")]),
    ("nowhere.b.test", "nxdomain", True, []),
    ("nowhere.c.test", "nxdomain", False, []),
    ("x.broken.test", "servfail", False, []),
    ("d.b.test", "ok", True, [(10, "mx.broken.test")]),
]


@pytest.mark.parametrize(("domain", "status", "dnssec", "expected_hosts"), STATUS_CASES,
                         ids=[c[0] for c in STATUS_CASES])
def test_status_dnssec_and_preference_order(dns_server, domain, status, dnssec, expected_hosts):
    report = lookup(dns_server, domain)
    assert report["status"] == status, report["message"]
    assert report["dnssec"] is dnssec
    assert hosts(report) == expected_hosts
    assert report["message"]
    assert report["domain"] == domain.lower().rstrip(".")


HOST_CASES = [
    # host, addresses, tlsa status, tlsa records, dnssec, dane
    ("mx0.b.test", ["192.0.2.10"], "nxdomain", [], True, False),
    ("mx1.b.test", ["192.0.2.11", "2001:db8::11"], "ok", sorted([EE, TA]), True, True),
    ("mx2.b.test", ["2001:db8::12"], "ok", [PKIX], True, False),  # PKIX usages are unusable for SMTP
    ("mx.c.test", ["192.0.2.30"], "ok", [EE], False, False),  # secure MX, insecure host: no DANE
]


@pytest.mark.parametrize(("host", "addresses", "tlsa_status", "tlsa", "dnssec", "dane"), HOST_CASES,
                         ids=[c[0] for c in HOST_CASES])
def test_host_addresses_tlsa_and_dane(dns_server, host, addresses, tlsa_status, tlsa, dnssec, dane):
    entry = next(h for h in lookup(dns_server, "b.test")["mx"] if h["host"] == host)
    assert entry["addresses"] == addresses
    assert entry["tlsa"]["status"] == tlsa_status
    assert entry["tlsa"]["records"] == tlsa
    assert (entry["dnssec"], entry["dane"], entry["implicit"]) == (dnssec, dane, False)


def test_dane_needs_a_validated_mx_answer(dns_server):
    (entry,) = lookup(dns_server, "c.test")["mx"]
    assert entry["tlsa"]["records"] == [EE] and entry["tlsa"]["dnssec"] is False
    assert entry["dane"] is False


def test_implicit_mx_is_the_domain_itself_with_its_addresses(dns_server):
    report = lookup(dns_server, "implicit.b.test")
    (entry,) = report["mx"]
    assert entry["implicit"] is True
    assert entry["addresses"] == ["192.0.2.40", "2001:db8::40"]
    assert entry["dane"] is True
    assert "implicit MX" in report["message"]
    assert "cannot be delivered" in lookup(dns_server, "bare.b.test")["message"]


def test_mixed_null_mx_is_ignored_with_a_note(dns_server):
    assert "null MX record mixed" in lookup(dns_server, "mixed.b.test")["message"]


def test_failing_host_lookups_are_reported_per_question(dns_server):
    (entry,) = lookup(dns_server, "d.b.test")["mx"]
    assert [entry[q]["status"] for q in ("a", "aaaa", "tlsa")] == ["servfail", "servfail", "servfail"]
    assert entry["addresses"] == [] and entry["dane"] is False
    assert "SERVFAIL" in entry["a"]["message"]


def test_silent_resolver_gives_timeout_status_in_time(dns_server):
    started = time.monotonic()
    report = lookup(dns_server, "x.slow.test", timeout=0.3)
    assert time.monotonic() - started < 2
    assert report["status"] == "timeout" and report["mx"] == []
    assert "0.3 s" in report["message"]
    (entry,) = lookup(dns_server, "e.b.test", timeout=0.3)["mx"]
    assert entry["a"]["status"] == "timeout" and entry["tlsa"]["status"] == "timeout"


def test_questions_ask_for_dnssec(dns_server):
    before = len(dns_server.queries)
    lookup(dns_server, "c.test")
    asked = dns_server.queries[before:]
    assert len(asked) == 4  # MX, then A, AAAA and TLSA of the one host
    for query in asked:
        assert query.ednsflags & dns.flags.DO
        assert query.flags & dns.flags.AD
        assert query.flags & dns.flags.RD


def test_internationalised_domain_is_asked_in_a_label_form(dns_server):
    report = lookup(dns_server, "bücher.b.test")
    assert report["domain"] == "xn--bcher-kva.b.test"
    assert report["status"] == "nxdomain"


def test_stub_lookup_needs_no_resolver():
    answers = {("only.test", "MX"): mx.Answer("timeout", (), False, "slow")}
    report = mx.mx_report("only.test", lambda name, rdtype: answers[(name, rdtype)])
    assert (report["status"], report["message"], report["mx"]) == ("timeout", "slow", [])


BAD = [
    ({"domain": ""}, "domain"),
    ({"domain": "bad_name.test"}, "domain"),
    ({"domain": "-lead.test"}, "domain"),
    ({"domain": "a..test"}, "domain"),
    ({"domain": "*.b.test"}, "domain"),
    ({"domain": "x" * 64 + ".test"}, "domain"),
    ({"domain": ("a" * 60 + ".") * 5 + "test"}, "domain"),
    ({"nameservers": ("resolver.example",)}, "nameservers"),
    ({"nameservers": ("127.0.0.1", "300.1.1.1")}, "nameservers"),
    ({"port": 0}, "port"),
    ({"port": 70000}, "port"),
    ({"timeout": 0}, "timeout"),
    ({"timeout": -1.0}, "timeout"),
    ({"timeout": 301}, "timeout"),
]


@pytest.mark.parametrize(("override", "option"), BAD, ids=[f"{o}-{i}" for i, (_override, o) in enumerate(BAD)])
def test_bad_input_names_the_option(override, option):
    args = {"domain": "b.test", "nameservers": ("127.0.0.1",), "port": 53, "timeout": 1.0}
    args.update(override)
    with pytest.raises(DnsError) as err:
        mx.mx_info(args["domain"], mx.ResolverSpec(args["nameservers"], args["port"], args["timeout"]))
    assert err.value.option == option
    assert str(err.value).startswith(f"{option}: ")
