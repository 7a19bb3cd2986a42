"""The test world itself: the DNS of the *.test zones and the outsider's MTA."""

from __future__ import annotations

import uuid

import pytest

CLIENTS = ["mx-a", "mx-b", "outsider"]


def dig(host, *args: str) -> str:
    return host.check_output("dig +time=2 +tries=1 " + " ".join(args))


@pytest.mark.parametrize("client", CLIENTS)
def test_clients_resolve_through_ns_only(hosts, ipv4, client):
    resolv = hosts(client).file("/etc/resolv.conf").content_string
    nameservers = [line.split()[1] for line in resolv.splitlines() if line.startswith("nameserver")]
    assert nameservers == [ipv4("ns")]


def test_ns_answers_mx_for_b_test_from_mx_a(hosts):
    out = dig(hosts("mx-a"), "+norecurse", "MX", "b.test")
    assert "status: NOERROR" in out
    assert " aa" in out.split("flags:")[1].split(";")[0], "the answer must be authoritative"
    assert dig(hosts("mx-a"), "+short", "MX", "b.test").split() == ["10", "mx.b.test."]


@pytest.mark.parametrize(
    ("name", "platform"),
    [
        ("mx.a.test", "mx-a"),
        ("mx.b.test", "mx-b"),
        ("mx.c.test", "outsider"),
        ("backup.a.test", "mx-a"),
        ("backup.b.test", "mx-b"),
    ],
)
def test_ns_answers_a_records(hosts, ipv4, name, platform):
    assert dig(hosts("mx-a"), "+short", "A", name).split() == [ipv4(platform)]


def test_ns_maps_the_mx_address_back_to_its_name(hosts, ipv4):
    assert dig(hosts("mx-b"), "+short", "-x", ipv4("mx-a")).split() == ["mx.a.test."]


def test_unknown_test_names_do_not_exist(hosts):
    assert "status: NXDOMAIN" in dig(hosts("mx-a"), "A", "nothing.a.test")


def test_ns_never_asks_the_real_dns(hosts):
    out = dig(hosts("mx-a"), "MX", "example.com")
    assert "ANSWER: 0" in out
    log = hosts("ns").file("/var/log/dnsmasq.log").content_string
    assert "forwarded" not in log


def test_outsider_postfix_listens_on_25(hosts):
    outsider = hosts("outsider")
    assert outsider.socket("tcp://0.0.0.0:25").is_listening
    assert outsider.process.filter(comm="master")


def test_outsider_greets_mx_a_over_the_test_network(hosts):
    banner = hosts("mx-a").check_output(
        "python3 -c \"import socket; s = socket.create_connection(('mx.c.test', 25), 5); "
        'print(s.recv(512).decode().strip())"'
    )
    assert banner.startswith("220 mx.c.test ESMTP")


def test_outsider_delivers_mail_for_c_test_to_the_mailbox(hosts):
    outsider = hosts("outsider")
    tag = f"partnermail-infra-{uuid.uuid4()}"
    sent = outsider.run(
        f"swaks --silent 1 --server 127.0.0.1 --from bob@b.test --to alice@c.test --header 'X-Test: {tag}'"
    )
    assert sent.rc == 0, sent.stdout + sent.stderr
    delivered = outsider.run(
        f"for i in $(seq 50); do grep -rlq 'X-Test: {tag}' /var/mail/vhosts/c.test/alice/new && exit 0; "
        "sleep 0.2; done; exit 1"
    )
    assert delivered.rc == 0, "the message did not reach alice's Maildir"


def test_outsider_relays_nothing(hosts):
    relay = hosts("outsider").run("swaks --silent 1 --server mx.c.test --from eve@c.test --to victim@b.test")
    # swaks exits 24 when no recipient was accepted.
    assert relay.rc == 24, relay.stdout + relay.stderr
    assert "Relay access denied" in relay.stdout
