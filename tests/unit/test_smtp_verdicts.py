"""Trust verdicts from OpenSSL's verifier, against real TLS servers on 127.0.0.1, beside the verdicts of
the path checker we had before (tls_check.verify_chain, our own code, now removed).

Each row is a chain a server presents and the partner CA the probe is given; ``old`` is what our own
checker said (asserted live against it up to commit 41c9331, which still had it), ``new`` what the
probe says now (OpenSSL, through a verifying handshake), ``code`` the X509 verify error OpenSSL gives.
Where they differ, ours was wrong - see the row's comment. The same table passes on Debian 12's
Python 3.11 with python3-cryptography 38 and OpenSSL 3.0.
"""

import pytest
from cryptography.x509.oid import ExtendedKeyUsageOID

from ansible_collections.partnermail.links.plugins.module_utils._pki import certs
from ansible_collections.partnermail.links.plugins.module_utils._smtp import probe

from .pki_helpers import DAY, build, new_key
from .smtp_server import FakeSmtpServer, ServerConfig, write_tls_files

NOW = certs.utcnow()


class Chains:
    """Root (pathlen 1) -> intermediate (pathlen 0) -> leaf, and the variants the table needs."""

    def __init__(self):
        self.root_key, self.inter_key, self.leaf_key, self.other_key = new_key(), new_key(), new_key(), new_key()
        self.root = build("Root", self.root_key, self.root_key, ca=True, path_length=1, sans=())
        self.other_root = build("Root", self.other_key, self.other_key, ca=True, sans=())  # same name, other key
        self.inter = self.intermediate()
        self.leaf = self.issue()

    def intermediate(self, **kwargs):
        return build("Inter", self.inter_key, self.root_key, self.root.subject, ca=True, path_length=0, sans=(),
                     **kwargs)

    def issue(self, **kwargs):
        return build("mx.b.test", self.leaf_key, self.inter_key, self.inter.subject, **kwargs)


@pytest.fixture(scope="module")
def chains():
    return Chains()


def _constrained(c):
    """A root that may only issue for .partner.test, over an intermediate, over a leaf for mx.b.test."""
    root = build("Root", c.root_key, c.root_key, ca=True, sans=(), permitted=["partner.test"])
    inter = build("Inter", c.inter_key, c.root_key, root.subject, ca=True, path_length=0, sans=())
    return [c.leaf, inter], [root]


def _self_signed(c):
    leaf = build("mx.b.test", c.leaf_key, c.leaf_key)
    return [leaf], [c.root]


def _self_signed_pinned_as_ca(c):
    leaf = build("mx.b.test", c.leaf_key, c.leaf_key)
    return [leaf], [leaf]


def _too_deep(c):
    """A second intermediate below the one with pathLenConstraint 0."""
    inter2 = build("Inter2", c.other_key, c.inter_key, c.inter.subject, ca=True, sans=())
    return [build("mx.b.test", c.leaf_key, c.other_key, inter2.subject), inter2, c.inter], [c.root]


VERDICTS = [
    # case, (served chain, anchors), old, new, OpenSSL X509 verify error
    ("good chain", lambda c: ([c.leaf, c.inter], [c.root]), True, True, None),
    ("wrong CA (same name, other key)", lambda c: ([c.leaf, c.inter], [c.other_root]), False, False, 7),
    ("expired leaf", lambda c: ([c.issue(start=NOW - 100 * DAY), c.inter], [c.root]), False, False, 10),
    ("expired intermediate", lambda c: ([c.leaf, c.intermediate(start=NOW - 100 * DAY)], [c.root]), False, False, 10),
    ("wrong EKU (clientAuth only)", lambda c: ([c.issue(eku=(ExtendedKeyUsageOID.CLIENT_AUTH,)), c.inter],
                                               [c.root]), False, False, 26),
    ("missing intermediate", lambda c: ([c.leaf], [c.root]), False, False, 20),
    # Ours never read nameConstraints: it trusted a leaf its CA may not issue.
    ("name-constraint violation", _constrained, True, False, 47),
    ("self-signed leaf", _self_signed, False, False, 18),
    ("self-signed leaf given as the CA", _self_signed_pinned_as_ca, True, True, None),
    ("intermediate given as the CA", lambda c: ([c.leaf, c.inter], [c.inter]), True, True, None),
    ("not yet valid leaf", lambda c: ([c.issue(start=NOW + DAY), c.inter], [c.root]), False, False, 9),
    ("path length exceeded", _too_deep, False, False, 25),
    ("issuer is not a CA", lambda c: ([build("mx2.b.test", c.other_key, c.leaf_key, c.leaf.subject), c.leaf, c.inter],
                                      [c.root]), False, False, 79),
]


@pytest.mark.parametrize(("case", "make", "old", "new", "code"), VERDICTS, ids=[v[0] for v in VERDICTS])
def test_verdicts(chains, tmp_path, case, make, old, new, code):
    served, anchors = make(chains)
    key = chains.other_key if case == "issuer is not a CA" else chains.leaf_key
    chain_file, key_file = write_tls_files(tmp_path, key, served)
    with FakeSmtpServer(ServerConfig(chain_file=chain_file, key_file=key_file)) as srv:
        result = probe.run({"host": "127.0.0.1", "port": srv.port, "timeout": 2.0, "helo_name": "mx.a.test",
                            "ca_content": "".join(certs.pem(a) for a in anchors)})
    assert result["status"] == "ok", result["message"]
    # Trusted: the probe's verifying handshake succeeded and the dialogue went on in it. Not trusted: that handshake
    # failed, and a second session recorded what the server presents.
    assert len(srv.transcripts) == (1 if new else 2)
    assert result["trusted"] is new, (result["trust_detail"], f"our old checker said {old}")
    if code is None:
        assert result["trust_detail"].startswith("CN=mx.b.test")
    else:
        assert result["trust_detail"].startswith("OpenSSL: ")
        assert result["trust_detail"].endswith(f"(X509 verify error {code})")


@pytest.mark.parametrize(("case", "make", "matched", "detail"), [
    ("dane-ta, good chain", lambda c: [c.leaf, c.inter], True, "DANE-TA matches 'CN=Inter'"),
    ("dane-ta, expired leaf", lambda c: [c.issue(start=NOW - 100 * DAY), c.inter], False,
     "a DANE-TA record matches 'CN=Inter', but the chain to it is not valid: OpenSSL: "),
], ids=["good chain", "expired leaf"])
def test_the_chain_to_a_dane_ta_is_openssls_verdict_too(chains, tmp_path, case, make, matched, detail):
    served = make(chains)
    chain_file, key_file = write_tls_files(tmp_path, chains.leaf_key, served)
    record = "2 1 1 " + certs.facts(chains.inter)["spki_sha256"].replace(":", "")
    with FakeSmtpServer(ServerConfig(chain_file=chain_file, key_file=key_file)) as srv:
        result = probe.run({"host": "127.0.0.1", "port": srv.port, "timeout": 2.0, "helo_name": "mx.a.test",
                            "server_name": "mx.b.test", "tlsa": [record]})
    assert result["tlsa_matched"] is matched and result["tlsa_detail"].startswith(detail), result["tlsa_detail"]
    assert len(srv.transcripts) == 3  # the probe's session, one verifying with the system store, one with the TA


def _chain_of(count):
    """Root -> ``count`` intermediates -> leaf: (served chain leaf first, root, leaf key)."""
    keys = [new_key() for _index in range(count + 2)]
    root = build("Deep Root", keys[0], keys[0], ca=True, sans=())
    issuer, issuer_key, inters = root, keys[0], []
    for index in range(1, count + 1):
        inter = build(f"Deep Inter {index}", keys[index], issuer_key, issuer.subject, ca=True, sans=())
        inters.append(inter)
        issuer, issuer_key = inter, keys[index]
    leaf = build("mx.b.test", keys[-1], issuer_key, issuer.subject)
    return [leaf, *reversed(inters)], root, keys[-1]


@pytest.mark.parametrize(("count", "trusted"), [(probe.MAX_INTERMEDIATES, True), (probe.MAX_INTERMEDIATES + 1, False),
                                                (30, False)])
def test_the_verdict_stops_where_postfix_stops(tmp_path, count, trusted):
    """Postfix (smtp_tls_scert_verifydepth 9) verifies at most 10 intermediates; OpenSSL's default allows 100.

    Measured with openssl verify -verify_depth 10 (what Postfix sets): 10 intermediates verify, 11 do not.
    """
    served, root, key = _chain_of(count)
    chain_file, key_file = write_tls_files(tmp_path, key, served)
    with FakeSmtpServer(ServerConfig(chain_file=chain_file, key_file=key_file)) as srv:
        result = probe.run({"host": "127.0.0.1", "port": srv.port, "timeout": 5.0, "helo_name": "mx.a.test",
                            "ca_content": certs.pem(root)})
    assert result["status"] == "ok", result["message"]
    assert result["trusted"] is trusted, result["trust_detail"]
    if not trusted:
        assert f"has {count} intermediate CA certificates; Postfix verifies at most 10" in result["trust_detail"]
