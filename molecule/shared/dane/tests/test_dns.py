"""The test world's DNS: BIND signs the zones, Unbound validates them, the platforms trust its AD bit."""

from __future__ import annotations

import re

import pytest
from dane import NS, canonical, spki_sha256

CLIENTS = ["dane-mx-a", "dane-mx-b", "dane-outsider"]


def dig(host, *args: str) -> str:
    return host.check_output("dig +time=2 +tries=1 " + " ".join(args))


def flags(answer: str) -> list[str]:
    return answer.split(";; flags:", maxsplit=1)[1].split(";", maxsplit=1)[0].split()


@pytest.mark.parametrize("client", CLIENTS)
def test_clients_resolve_through_unbound_only_and_trust_its_ad_bit(hosts, ipv4, client):
    resolv = hosts(client).file("/etc/resolv.conf").content_string
    nameservers = [line.split()[1] for line in resolv.splitlines() if line.startswith("nameserver")]
    assert nameservers == [ipv4(NS)]
    assert re.search(r"(?m)^options\s.*\btrust-ad\b", resolv), resolv


def assert_validated(answer: str, rtype: str) -> None:
    assert "status: NOERROR" in answer, answer
    assert "ad" in flags(answer), answer
    assert re.search(rf"\tRRSIG\t{rtype} ", answer), answer


@pytest.mark.parametrize(("rtype", "name"), [("MX", "b.test"), ("A", "mx.b.test"), ("TLSA", "_25._tcp.mx.b.test")])
def test_answers_about_b_are_dnssec_validated(hosts, rtype, name):
    assert_validated(dig(hosts("dane-mx-a"), "+dnssec", rtype, name), rtype)


def test_the_reverse_zone_is_signed_and_validated_too(hosts, ipv4):
    answer = dig(hosts("dane-mx-b"), "+dnssec", "-x", ipv4("dane-mx-a"))
    assert_validated(answer, "PTR")
    assert re.search(r"\tPTR\tmx\.a\.test\.$", answer, re.MULTILINE), answer


def test_a_name_that_does_not_exist_is_a_validated_denial(hosts):
    answer = dig(hosts("dane-mx-a"), "+dnssec", "TLSA", "_25._tcp.mx.c.test")
    assert "status: NXDOMAIN" in answer, answer
    assert "ad" in flags(answer), answer


def test_the_published_tlsa_record_is_the_key_of_mx_b(hosts):
    records = dig(hosts("dane-mx-a"), "+short", "TLSA", "_25._tcp.mx.b.test").splitlines()
    assert canonical(records) == canonical([f"3 1 1 {spki_sha256(hosts('dane-mx-b'))}"])


def test_mx_info_sees_b_protected_by_dane_and_c_not(hosts):
    mx_a = hosts("dane-mx-a")
    b = mx_a.ansible("partnermail.links.mx_info", "domain=b.test", check=False)
    assert (b["status"], b["dnssec"]) == ("ok", True), b
    assert [(mx["host"], mx["dnssec"], mx["dane"]) for mx in b["mx"]] == [("mx.b.test", True, True)], b
    assert b["mx"][0]["tlsa"]["records"] == [f"3 1 1 {spki_sha256(hosts('dane-mx-b'))}"], b
    c = mx_a.ansible("partnermail.links.mx_info", "domain=c.test", check=False)
    assert (c["status"], c["dnssec"]) == ("ok", True), c
    assert [(mx["host"], mx["dnssec"], mx["dane"]) for mx in c["mx"]] == [("mx.c.test", True, False)], c


def test_the_resolver_knows_nothing_outside_the_test_world(hosts):
    answer = dig(hosts("dane-mx-a"), "MX", "example.com")
    assert "status: NXDOMAIN" in answer, answer
    assert "aa" in flags(answer), "answered by Unbound itself, not asked upstream"


def test_unbound_has_no_root_and_trusts_only_the_test_zones(hosts, ipv4):
    ns = hosts(NS)
    conf = "/etc/unbound/unbound.conf"
    assert re.search(r'(?m)^\s*local-zone: "\." static$', ns.file(conf).content_string)
    assert not ns.check_output(f"unbound-checkconf -o auto-trust-anchor-file {conf}")
    anchors = ns.file(ns.check_output(f"unbound-checkconf -o trust-anchor-file {conf}")).content_string
    zones = sorted({line.split()[0] for line in anchors.splitlines() if line and not line.startswith(";")})
    reverse = ".".join(reversed(ipv4(NS).split(".")[:3])) + ".in-addr.arpa."
    assert zones == sorted([reverse, "test."]), anchors


def test_bind_answers_on_loopback_only_and_never_recurses(hosts, ipv4):
    ns = hosts(NS)
    authoritative = dig(ns, "@127.0.0.1", "+dnssec", "SOA", "test.")
    assert "aa" in flags(authoritative), authoritative
    assert "ad" not in flags(authoritative), authoritative
    assert "status: REFUSED" in dig(ns, "@127.0.0.1", "MX", "example.com")
    # What the platforms ask at the container's address is Unbound, validating.
    validated = dig(ns, f"@{ipv4(NS)}", "+dnssec", "SOA", "test.")
    assert "ad" in flags(validated), validated
    assert "aa" not in flags(validated), validated
