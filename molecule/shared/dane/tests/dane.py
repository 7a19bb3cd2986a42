"""Changing the test world for a test, and putting it back: records in the signed zone, an MTA's TLS policy."""

from __future__ import annotations

import contextlib
import hashlib
import shlex
import time

NS = "dane-ns"
ZONE = "test."
TTL = 30
CHAIN = "/etc/partnermail/tls/mta-chain.pem"
TLS_POLICY = "/etc/postfix/partnermail/tls_policy"


def colons(hexdigest: str) -> str:
    """A hex digest as Postfix prints and matches fingerprints: upper-case pairs joined by colons."""
    digest = hexdigest.upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def sha256_of(text: str) -> str:
    """A SHA-256 (hex) that no key of the test world has."""
    return hashlib.sha256(text.encode()).hexdigest()


def spki_sha256(host) -> str:
    """SHA-256 (hex, lower case) of the public key in the certificate the MTA presents."""
    return host.check_output(
        f"openssl x509 -in {CHAIN} -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum"
    ).split()[0]


def published(hosts, name: str, rtype: str) -> list[str]:
    """The records BIND publishes now (asked on loopback, not through Unbound), in dig's presentation form."""
    out = hosts(NS).check_output(f"dig +short +norecurse @127.0.0.1 {name} {rtype}")
    return [line.strip() for line in out.splitlines() if line.strip()]


def canonical(records) -> list[str]:
    """Records compared without blanks and case (dig splits long hex data and prints it in upper case)."""
    return sorted("".join(record.split()).upper() for record in records)


def replace_records(hosts, name: str, rtype: str, records: list[str], timeout: float = 20) -> None:
    """Replace an RRset by dynamic update, wait until BIND serves it signed, then empty Unbound's cache."""
    ns = hosts(NS)
    script = f"update delete {name} {rtype}\n"
    script += "".join(f"update add {name} {TTL} {rtype} {record}\n" for record in records)
    script += "send\n"
    ns.check_output(f"printf %s {shlex.quote(script)} | nsupdate -l")
    # Inline signing: BIND serves the signed copy, which follows the updated unsigned zone shortly.
    deadline = time.monotonic() + timeout
    while canonical(published(hosts, name, rtype)) != canonical(records):
        if time.monotonic() > deadline:
            raise AssertionError(f"BIND does not serve the new {name} {rtype}: {published(hosts, name, rtype)}")
        time.sleep(0.2)
    ns.check_output(f"unbound-control flush_zone {ZONE} && unbound-control flush_bogus "
                    "&& unbound-control flush_negative")


@contextlib.contextmanager
def records_changed(hosts, changes: dict[tuple[str, str], list[str]], reload: tuple[str, ...] = ()):
    """Publish other records ({(name, type): [rdata, ...]}) in the signed zone, then put the old ones back.

    The MTAs named in ``reload`` reload Postfix after each change, so that no connection cached before it
    is reused.
    """
    saved = {key: published(hosts, *key) for key in changes}

    def apply(state):
        for (name, rtype), records in state.items():
            replace_records(hosts, name, rtype, records)
        for mta in reload:
            hosts(mta).check_output("postfix reload")

    apply(changes)
    try:
        yield
    finally:
        apply(saved)


@contextlib.contextmanager
def tls_policy_changed(host, old: str, new: str):
    """Replace ``old`` by ``new`` in the MTA's TLS policy map (postmap, reload), then restore the map."""
    host.check_output(f"cp -p {TLS_POLICY} {TLS_POLICY}.orig")
    try:
        host.check_output(f"sed -i 's/{old}/{new}/' {TLS_POLICY} && grep -q '{new}' {TLS_POLICY} "
                          f"&& postmap hash:{TLS_POLICY} && postfix reload")
        yield
    finally:
        host.check_output(f"mv {TLS_POLICY}.orig {TLS_POLICY} && postmap hash:{TLS_POLICY} && postfix reload")
