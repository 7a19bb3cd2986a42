"""smtp_probe's backend against fake SMTP servers on 127.0.0.1, and its certificate checks as tables."""

import base64
import hashlib
import socket
import ssl
import time

import pytest

from ansible_collections.partnermail.links.plugins.module_utils._pki import certs
from ansible_collections.partnermail.links.plugins.module_utils._smtp import client as smtp
from ansible_collections.partnermail.links.plugins.module_utils._smtp import probe, tls_check
from ansible_collections.partnermail.links.plugins.module_utils._smtp.errors import ProbeError

from .pki_helpers import DAY, build, make_ca, make_leaf, new_key
from .smtp_server import FakeSmtpServer, RefusedPort, ServerConfig, SilentPort, write_tls_files

NOW = certs.utcnow()


# --- certificates, made fresh for this run -------------------------------------------------------


class Pki:
    """The certificates every test here uses."""

    def __init__(self):
        self.ca_key, self.ca, _spec = make_ca("Partner CA", now=NOW)
        self.leaf_key, self.leaf, _spec = make_leaf(self.ca_key, self.ca, name="mx.b.test", sans=("DNS:b.test",),
                                                    now=NOW)
        _key, self.other_ca, _spec = make_ca("Partner CA", now=NOW)  # same name, other key
        # root (pathlen 1) -> intermediate (pathlen 0) -> leaf
        self.root_key, self.inter_key, self.leaf2_key = new_key(), new_key(), new_key()
        self.root = build("Root", self.root_key, self.root_key, ca=True, path_length=1, sans=())
        self.inter = build("Inter", self.inter_key, self.root_key, self.root.subject, ca=True, path_length=0, sans=())
        self.leaf2 = build("mx.b.test", self.leaf2_key, self.inter_key, self.inter.subject)

    def pem(self, *chain):
        return "".join(certs.pem(cert) for cert in chain)


@pytest.fixture(scope="module")
def pki():
    return Pki()


@pytest.fixture(scope="module")
def tls_files(pki, tmp_path_factory):
    directory = tmp_path_factory.mktemp("tls")
    return {
        "leaf": write_tls_files(directory, pki.leaf_key, [pki.leaf], "leaf"),
        "leaf+ca": write_tls_files(directory, pki.leaf_key, [pki.leaf, pki.ca], "leaf-ca"),
        "leaf2+inter": write_tls_files(directory, pki.leaf2_key, [pki.leaf2, pki.inter], "leaf2-inter"),
    }


def server(tls_files, chain="leaf", **config):
    chain_file, key_file = tls_files[chain]
    return FakeSmtpServer(ServerConfig(chain_file=chain_file, key_file=key_file, **config))


def run(port, **params):
    args = {"host": "127.0.0.1", "port": port, "timeout": 2.0, "helo_name": "mx.a.test"}
    args.update(params)
    return probe.run(args)


# --- how far the dialogue gets -------------------------------------------------------------------

STATUS_CASES = [
    ("tls", {}, "ok", "quit"),
    ("no starttls", {"starttls": False}, "no_starttls", "starttls"),
    ("starttls refused", {"starttls_reply": "454 4.7.0 TLS not available due to local problem"}, "no_starttls",
     "starttls"),
    ("greeting rejects", {"banner": "554 5.3.2 mx.b.test closed for you"}, "rejected", "banner"),
    ("no tls after 220", {"not_tls": True}, "tls_failed", "handshake"),
    ("reply smuggled before tls", {"inject": True}, "protocol_error", "handshake"),
]


@pytest.mark.parametrize(("case", "config", "status", "stage"), STATUS_CASES, ids=[c[0] for c in STATUS_CASES])
def test_status_and_stage(tls_files, case, config, status, stage):
    with server(tls_files, **config) as srv:
        result = run(srv.port)
    assert (result["status"], result["stage"]) == (status, stage), result["message"]
    assert result["message"]
    assert result["peer"] == "127.0.0.1"
    assert bool(result["tls"]) is (status == "ok")
    # The dialogue ends with QUIT in the session that finished it: here the second, as the server's certificate is
    # not trusted by the system store (the first, verifying handshake failed).
    assert [line for _up, line in srv.transcripts[-1]][-1] == "QUIT" or status in ("tls_failed", "protocol_error")
    if status == "ok":
        assert len(srv.transcripts) == 2
    assert not [line for line in srv.lines() if line.split()[0] in ("MAIL", "RCPT", "DATA")]


def test_refused_port():
    port = RefusedPort()
    try:
        result = run(port.port)
    finally:
        port.close()
    assert (result["status"], result["stage"]) == ("refused", "connect")
    assert "refused" in result["message"] and result["peer"] is None


def test_silent_port_times_out_within_the_timeout():
    port = SilentPort()
    started = time.monotonic()
    try:
        result = run(port.port, timeout=0.4)
    finally:
        port.close()
    assert time.monotonic() - started < 1.5
    assert (result["status"], result["stage"]) == ("timeout", "banner")
    assert "timed out waiting for the greeting" in result["message"] and "after 0.4 s" in result["message"]


def test_ok_result_reports_banner_extensions_tls_and_chain(pki, tls_files):
    with server(tls_files, auth_before_tls=()) as srv:
        result = run(srv.port, ca_content=pki.pem(pki.ca), match=["mx.b.test"])
    assert result["banner"] == "220 mx.b.test ESMTP fake"
    assert "STARTTLS" in result["ehlo_before_tls"] and "STARTTLS" not in result["ehlo_after_tls"]
    assert "AUTH PLAIN LOGIN" in result["ehlo_after_tls"]
    assert result["auth_before_tls"] == [] and result["auth_mechanisms"] == ["PLAIN", "LOGIN"]
    assert result["tls"]["protocol"] == "TLSv1.3" and result["tls"]["bits"] >= 128
    assert result["chain_source"] == "peer"
    (leaf,) = result["chain"]
    facts = certs.facts(pki.leaf)
    assert leaf["sha256"] == facts["fingerprint_sha256"] and leaf["spki_sha256"] == facts["spki_sha256"]
    assert leaf["subject_alt_names"] == ["DNS:b.test", "DNS:mx.b.test"] and leaf["ca"] is False
    assert leaf["not_after"] == facts["not_after"] and leaf["issuer"] == "O=Test Org,CN=Partner CA"
    assert (result["trusted"], result["name_matched"], result["verified"]) == (True, True, True)
    assert result["message"].startswith("TLSv1.3 ") and "certificate verified (trusted, name_matched)" in result[
        "message"]
    assert srv.lines(tls=False, session=0) == ["EHLO mx.a.test", "STARTTLS"]
    assert srv.lines(tls=True, session=0) == ["EHLO mx.a.test", "QUIT"]
    assert len(srv.transcripts) == 1  # the handshake verified the chain: one session did it all


def test_sni_is_the_server_name(tls_files):
    seen = []
    with server(tls_files) as srv:
        srv._context.sni_callback = lambda _sock, name, _ctx: seen.append(name)
        run(srv.port, server_name="mx.b.test")
        run(srv.port)
    # an IP address host sends no SNI unless server_name says so; the verifying session sends the same
    assert seen == ["mx.b.test", "mx.b.test", None, None]


def test_whole_chain_is_read_from_the_peer(pki, tls_files):
    with server(tls_files, chain="leaf2+inter") as srv:
        result = run(srv.port, ca_content=pki.pem(pki.root))
    assert [c["subject"] for c in result["chain"]] == ["CN=mx.b.test", "CN=Inter"]
    assert result["trusted"] is True and result["trust_detail"] == "CN=mx.b.test <- CN=Inter <- CN=Root"


# --- what the certificate checks decide, against one live server ------------------------------------


def _spki_sha256(cert):
    return hashlib.sha256(tls_check.spki(cert)).hexdigest()


VERIFY_CASES = [
    # case, chain served, params (from pki), trusted, name, fingerprint, tlsa, verified
    ("ca and name", "leaf", lambda p: {"ca_content": p.pem(p.ca), "match": ["mx.b.test"]},
     True, True, None, None, True),
    ("ca and subdomain pattern", "leaf", lambda p: {"ca_content": p.pem(p.ca), "match": [".b.test"]},
     True, True, None, None, True),
    ("ca, wrong name", "leaf", lambda p: {"ca_content": p.pem(p.ca), "match": ["mx.c.test"]},
     True, False, None, None, False),
    ("other ca of the same name", "leaf", lambda p: {"ca_content": p.pem(p.other_ca), "match": ["mx.b.test"]},
     False, True, None, None, False),
    ("system store", "leaf", lambda p: {}, False, None, None, None, False),
    ("certificate pin", "leaf", lambda p: {"fingerprints": [certs.facts(p.leaf)["fingerprint_sha256"]]},
     False, None, True, None, True),
    ("public key pin, plain hex", "leaf", lambda p: {"fingerprints": ["00" * 32, _spki_sha256(p.leaf)]},
     False, None, True, None, True),
    ("pin of another key", "leaf", lambda p: {"fingerprints": [_spki_sha256(p.ca)]},
     False, None, False, None, False),
    ("pin and ca", "leaf", lambda p: {"fingerprints": [_spki_sha256(p.leaf)], "ca_content": p.pem(p.other_ca)},
     False, None, True, None, False),
    ("dane-ee 3 1 1", "leaf", lambda p: {"tlsa": [certs.facts(p.leaf)["tlsa"]]}, False, None, None, True, True),
    ("dane-ee 3 0 2", "leaf", lambda p: {"tlsa": ["3 0 2 " + hashlib.sha512(tls_check.der(p.leaf)).hexdigest()]},
     False, None, None, True, True),
    ("dane-ee 3 0 0", "leaf", lambda p: {"tlsa": ["3 0 0 " + tls_check.der(p.leaf).hex()]},
     False, None, None, True, True),
    ("dane-ee of another key", "leaf", lambda p: {"tlsa": ["3 1 1 " + _spki_sha256(p.ca)]},
     False, None, None, False, False),
    ("dane-ta 2 0 1 with the ca sent", "leaf+ca",
     lambda p: {"tlsa": ["2 0 1 " + hashlib.sha256(tls_check.der(p.ca)).hexdigest()], "server_name": "mx.b.test"},
     False, None, None, True, True),
    ("dane-ta 2 1 1, names from match", "leaf+ca",
     lambda p: {"tlsa": ["2 1 1 " + _spki_sha256(p.ca)], "match": ["b.test"]}, False, True, None, True, True),
    ("dane-ta needs a matching name", "leaf+ca",
     lambda p: {"tlsa": ["2 1 1 " + _spki_sha256(p.ca)], "server_name": "mx.c.test"},
     False, None, None, False, False),
    ("dane-ta needs the ta in the chain", "leaf",
     lambda p: {"tlsa": ["2 1 1 " + _spki_sha256(p.ca)], "server_name": "mx.b.test"},
     False, None, None, False, False),
    ("pkix usages are unusable", "leaf", lambda p: {"tlsa": ["1 1 1 " + _spki_sha256(p.leaf)]},
     False, None, None, False, False),
    ("intermediate sent by the server", "leaf2+inter", lambda p: {"ca_content": p.pem(p.root)},
     True, None, None, None, True),
]


@pytest.mark.parametrize(("case", "chain", "make_params", "trusted", "name", "fingerprint", "tlsa", "verified"),
                         VERIFY_CASES, ids=[c[0] for c in VERIFY_CASES])
def test_certificate_checks(pki, tls_files, case, chain, make_params, trusted, name, fingerprint, tlsa, verified):
    with server(tls_files, chain=chain) as srv:
        result = run(srv.port, **make_params(pki))
    assert result["status"] == "ok", result["message"]
    got = (result["trusted"], result["name_matched"], result["fingerprint_matched"], result["tlsa_matched"],
           result["verified"])
    assert got == (trusted, name, fingerprint, tlsa, verified), (result["trust_detail"], result["tlsa_detail"])
    if verified is False:
        assert "NOT verified" in result["message"]


def test_pins_and_tlsa_report_which_one_matched(pki, tls_files):
    pin, record = certs.facts(pki.leaf)["spki_sha256"], certs.facts(pki.leaf)["tlsa"]
    with server(tls_files) as srv:
        result = run(srv.port, fingerprints=["11" * 32, pin], tlsa=["3 1 1 " + "22" * 32, record.upper()])
    assert result["matched_fingerprint"] == pin.replace(":", "").lower()
    assert result["matched_tlsa"] == record
    assert result["trust_source"] == "system"


def test_ca_file_is_read(pki, tls_files, tmp_path):
    ca_file = tmp_path / "partner-ca.pem"
    ca_file.write_text(pki.pem(pki.other_ca, pki.ca))
    with server(tls_files) as srv:
        result = run(srv.port, ca_file=str(ca_file))
    assert (result["trust_source"], result["trusted"]) == ("ca_file", True)


# --- AUTH: what is offered, what is tried, and never in clear ---------------------------------------

AUTH_CASES = [
    # case, server config, credentials, mechanism, success, reply starts with
    ("plain accepted", {}, ("a-example", "s3cret pass"), "PLAIN", True, "235"),
    ("plain rejected", {}, ("a-example", "wrong"), "PLAIN", False, "535"),
    ("login accepted", {"auth_after_tls": ("LOGIN",)}, ("a-example", "s3cret pass"), "LOGIN", True, "235"),
    ("login rejected", {"auth_after_tls": ("LOGIN",)}, ("nobody", "s3cret pass"), "LOGIN", False, "535"),
    ("no usable mechanism", {"auth_after_tls": ("CRAM-MD5",)}, ("a-example", "s3cret pass"), None, None, "neither"),
]


@pytest.mark.parametrize(("case", "config", "credentials", "mechanism", "success", "reply"), AUTH_CASES,
                         ids=[c[0] for c in AUTH_CASES])
def test_auth(tls_files, case, config, credentials, mechanism, success, reply):
    username, password = credentials
    with server(tls_files, **config) as srv:
        result = run(srv.port, username=username, password=password, require=["auth"])
    assert result["status"] == "ok"
    assert result["auth"]["mechanism"] == mechanism and result["auth"]["success"] is success
    assert result["auth"]["attempted"] is (mechanism is not None)
    assert result["auth"]["reply"].startswith(reply)
    assert bool(result["missing"]) is (success is not True)
    assert all(tls for *_fields, tls in srv.auth_results)
    assert srv.lines(tls=True)[-1] == "QUIT"


def _secret_forms(password):
    plain = base64.b64encode(f"\0a-example\0{password}".encode()).decode()
    return [password, plain, base64.b64encode(password.encode()).decode()]


@pytest.mark.parametrize("config", [
    {"starttls": False, "auth_before_tls": ("PLAIN", "LOGIN")},
    {"starttls_reply": "454 4.7.0 TLS not available", "auth_before_tls": ("PLAIN",)},
    {"not_tls": True, "auth_before_tls": ("PLAIN",)},
    {"auth_before_tls": ("PLAIN", "LOGIN")},
], ids=["no starttls", "starttls refused", "no tls after 220", "tls up"])
def test_credentials_never_cross_in_clear(tls_files, config):
    with server(tls_files, **config) as srv:
        result = run(srv.port, username="a-example", password="s3cret pass")
    clear = "\n".join(srv.lines(tls=False))
    assert "AUTH" not in clear
    assert not [form for form in _secret_forms("s3cret pass") if form in clear]
    assert result["auth_before_tls"] and "AUTH is offered before STARTTLS" in result["findings"][0]
    if result["status"] == "ok":
        assert result["auth"]["success"] is True and srv.auth_results == [("PLAIN", "a-example", True, True)]
    else:
        assert result["auth"] == {"attempted": False, "mechanism": None, "success": None, "reply": None}


def test_client_refuses_to_authenticate_in_clear():
    left, right = socket.socketpair()
    with left, right:
        with pytest.raises(smtp.SmtpProtocolError, match="before TLS"):
            smtp.SmtpClient(left, 2.0).authenticate(["PLAIN"], "user", "password")
        right.setblocking(False)
        with pytest.raises(BlockingIOError):
            right.recv(100)  # nothing was sent


# --- require ---------------------------------------------------------------------------------------

ALL = ["starttls", "tls", "tlsv1.2", "tlsv1.3", "trusted", "name", "verified", "auth", "no_auth_before_tls"]
REQUIRE_CASES = [
    ("everything met", {}, lambda p: {"ca_content": p.pem(p.ca), "match": ["mx.b.test"]}, ALL, []),
    ("auth in clear", {"auth_before_tls": ("PLAIN",)}, lambda p: {}, ["tls", "no_auth_before_tls"],
     ["no_auth_before_tls: AUTH is offered in clear: PLAIN"]),
    ("untrusted", {}, lambda p: {"ca_content": p.pem(p.other_ca), "match": ["mx.b.test"]}, ["verified", "name"],
     ["verified: not trusted by ca_content: OpenSSL: unable to get local issuer certificate (X509 verify error 20)"]),
    ("wrong name", {}, lambda p: {"ca_content": p.pem(p.ca), "match": ["mx.c.test"]}, ["trusted", "name"],
     ["name: the certificate carries none of mx.c.test (it names DNS:b.test, DNS:mx.b.test)"]),
    ("no auth offered", {"auth_after_tls": ()}, lambda p: {}, ["auth"], ["auth: AUTH is not offered after STARTTLS"]),
    ("no starttls", {"starttls": False}, lambda p: {"fingerprints": ["00" * 32]},
     ["starttls", "tls", "fingerprint", "no_auth_before_tls"],
     ["starttls: STARTTLS is not offered", "tls: no TLS session (the server does not offer STARTTLS)",
      "fingerprint: no TLS session (the server does not offer STARTTLS)"]),
]


@pytest.mark.parametrize(("case", "config", "make_params", "require", "missing"), REQUIRE_CASES,
                         ids=[c[0] for c in REQUIRE_CASES])
def test_require(pki, tls_files, case, config, make_params, require, missing):
    with server(tls_files, **config) as srv:
        result = run(srv.port, require=require, **make_params(pki))
    assert result["missing"] == missing


def test_require_on_a_refused_port():
    port = RefusedPort()
    try:
        result = run(port.port, require=["tls", "no_auth_before_tls"])
    finally:
        port.close()
    assert [m.split(":")[0] for m in result["missing"]] == ["tls", "no_auth_before_tls"]
    assert "refused the connection" in result["missing"][0]


# --- bad input: ProbeError naming the option, before any connection ---------------------------------


def _broken_ca(tmp_path):
    (tmp_path / "bad.pem").write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    return {"ca_file": str(tmp_path / "bad.pem")}


BAD = [
    ("host", lambda d: {"host": "bad host"}),
    ("host", lambda d: {"host": "bad_name.test"}),
    ("port", lambda d: {"port": 0}),
    ("port", lambda d: {"port": 65536}),
    ("timeout", lambda d: {"timeout": 0}),
    ("timeout", lambda d: {"timeout": 1000}),
    ("helo_name", lambda d: {"helo_name": "not a name"}),
    ("helo_name", lambda d: {"helo_name": "[not-an-ip]"}),
    ("server_name", lambda d: {"server_name": "under_score.test"}),
    ("ca_file", lambda d: {"ca_file": str(d / "missing.pem")}),
    ("ca_file", lambda d: {"ca_file": str(d)}),
    ("ca_file", _broken_ca),
    ("ca_content", lambda d: {"ca_content": "not a certificate"}),
    ("ca_content", lambda d: {"ca_file": "/etc/hosts", "ca_content": "x"}),
    ("match", lambda d: {"match": ["nexthop"]}),
    ("match", lambda d: {"match": ["dot-nexthop"]}),
    ("match", lambda d: {"match": ["bad_name.b.test"]}),
    ("match", lambda d: {"match": ["*.b.test"]}),
    ("fingerprints", lambda d: {"fingerprints": ["AB:CD"]}),
    ("fingerprints", lambda d: {"fingerprints": ["zz" * 32]}),
    ("tlsa", lambda d: {"tlsa": ["3 1 1"]}),
    ("tlsa", lambda d: {"tlsa": ["4 1 1 " + "ab" * 32]}),
    ("tlsa", lambda d: {"tlsa": ["3 2 1 " + "ab" * 32]}),
    ("tlsa", lambda d: {"tlsa": ["3 1 3 " + "ab" * 32]}),
    ("tlsa", lambda d: {"tlsa": ["3 1 1 abcd"]}),
    ("tlsa", lambda d: {"tlsa": ["3 1 2 " + "ab" * 32]}),
    ("tlsa", lambda d: {"tlsa": ["3 0 0 xyz1"]}),
    ("password", lambda d: {"username": "a-example"}),
    ("username", lambda d: {"password": "secret"}),
    ("require", lambda d: {"require": ["encrypted"]}),
    ("require", lambda d: {"require": ["name"]}),
    ("require", lambda d: {"require": ["tlsa"]}),
]


@pytest.mark.parametrize(("option", "make_params"), BAD, ids=[f"{o}-{i}" for i, (o, _make_params) in enumerate(BAD)])
def test_bad_input_names_the_option(tmp_path, option, make_params):
    port = SilentPort()  # a probe that got as far as connecting would hang here until its timeout
    try:
        started = time.monotonic()
        args = {"host": "127.0.0.1", "port": port.port, "timeout": 5.0}
        args.update(make_params(tmp_path))
        with pytest.raises(ProbeError) as err:
            probe.run(args)
        assert time.monotonic() - started < 1
    finally:
        port.close()
    assert err.value.option == option, str(err.value)


def test_postfix_nexthop_brackets_are_accepted():
    spec = probe.ProbeSpec(host="[MX.B.Test.]", helo_name="[192.0.2.1]").validate()
    assert (spec.host, spec.server_name, spec.helo_name) == ("mx.b.test", "mx.b.test", "[192.0.2.1]")
    assert probe.ProbeSpec(host="[2001:db8::1]", server_name="").validate().server_name is None


# --- pure checks as tables -------------------------------------------------------------------------

NAME_CASES = [
    ("mx.b.test", "mx.b.test", True),
    ("mx.b.test", "mx2.b.test", False),
    ("a.b.test", "*.b.test", True),
    ("b.test", "*.b.test", False),
    ("x.a.b.test", "*.b.test", False),
    ("mx.b.test", "m*.b.test", False),
    ("b.test", "*.test", False),
    (".b.test", "mx.b.test", True),
    (".b.test", "x.mx.b.test", True),
    (".b.test", "b.test", False),
    (".b.test", "xb.test", False),
    (".b.test", "*.b.test", True),
    (".b.test", "*.x.b.test", True),
    (".x.b.test", "*.b.test", False),
]


@pytest.mark.parametrize(("pattern", "cert_name", "expected"), NAME_CASES)
def test_name_matching_rules(pattern, cert_name, expected):
    assert tls_check.name_matches(pattern, cert_name) is expected


def test_common_name_counts_only_without_dns_names():
    key = new_key()
    legacy = build("legacy.b.test", key, key, sans=())
    assert tls_check.match_names(legacy, ["legacy.b.test"]) == "legacy.b.test"
    modern = build("legacy.b.test", key, key, sans=("mx.b.test",))
    assert tls_check.match_names(modern, ["legacy.b.test", "mx.b.test"]) == "mx.b.test"
    assert tls_check.match_names(modern, ["legacy.b.test"]) is None


def test_ip_address_patterns_match_ip_sans():
    ca_key, ca_cert, _spec = make_ca(now=NOW)
    _key, cert, _spec = make_leaf(ca_key, ca_cert, sans=("IP:192.0.2.25",), now=NOW)
    assert tls_check.match_names(cert, [tls_check.check_pattern("192.0.2.25")]) == "192.0.2.25"
    assert tls_check.match_names(cert, ["192.0.2.26"]) is None


FINGERPRINTS = [
    ("AB:" * 31 + "AB", "ab" * 32),
    ("ab" * 32, "ab" * 32),
    (" " + "AB" * 32 + " ", "ab" * 32),
]


@pytest.mark.parametrize(("given", "normalised"), FINGERPRINTS)
def test_fingerprint_forms(given, normalised):
    assert tls_check.check_fingerprint(given) == normalised


TLSA_TEXTS = [
    ("3 1 1 " + "AB" * 32, (3, 1, 1, "ab" * 32)),
    ("2 0 2 " + "ab" * 32 + " " + "cd" * 32, (2, 0, 2, "ab" * 32 + "cd" * 32)),
    ("3 0 0 3082abcd", (3, 0, 0, "3082abcd")),
    ("0 1 1 " + "00" * 32, (0, 1, 1, "00" * 32)),
]


@pytest.mark.parametrize(("text", "fields"), TLSA_TEXTS)
def test_tlsa_forms(text, fields):
    record = tls_check.parse_tlsa(text)
    assert (record.usage, record.selector, record.matching_type, record.data.hex()) == fields
    assert record.text() == " ".join(str(f) for f in fields)


# --- the client's reader -----------------------------------------------------------------------------


def _client_with(data):
    left, right = socket.socketpair()
    right.sendall(data)
    right.close()
    return smtp.SmtpClient(left, 2.0)


READER_CASES = [
    (b"250-mx.b.test\r\n250-SIZE 1000\r\n250 STARTTLS\r\n", 250, ["mx.b.test", "SIZE 1000", "STARTTLS"]),
    (b"220\r\n", 220, [""]),
    (b"220 ok\n", 220, ["ok"]),
]


@pytest.mark.parametrize(("data", "code", "lines"), READER_CASES)
def test_reply_parsing(data, code, lines):
    reply = _client_with(data).reply()
    assert (reply.code, reply.lines) == (code, lines)


@pytest.mark.parametrize(("data", "error"), [
    (b"hello\r\n", smtp.SmtpProtocolError),
    (b"250-a\r\n251 b\r\n", smtp.SmtpProtocolError),
    (b"250x\r\n", smtp.SmtpProtocolError),
    (b"2" * 5000, smtp.SmtpProtocolError),
    (b"250-a\r\n", smtp.SmtpClosed),
])
def test_reply_errors(data, error):
    with pytest.raises(error):
        _client_with(data).reply()


def test_data_behind_the_starttls_reply_is_refused():
    client = _client_with(b"220 go ahead\r\n250 smuggled\r\n")
    assert client.reply().code == 220
    with pytest.raises(smtp.SmtpProtocolError, match="command injection"):
        client.start_tls(probe.client_context(), None)


def test_auth_mechanisms_from_both_forms():
    extensions = ["PIPELINING", "AUTH PLAIN LOGIN", "AUTH=LOGIN CRAM-MD5", "STARTTLS"]
    assert smtp.auth_mechanisms(extensions) == ["PLAIN", "LOGIN", "CRAM-MD5"]


def test_findings_include_an_expiring_certificate(pki, tls_files, tmp_path):
    key = new_key()
    soon = build("mx.b.test", key, pki.ca_key, pki.ca.subject, start=NOW - 80 * DAY, days=90)
    chain_file, key_file = write_tls_files(tmp_path, key, [soon])
    with FakeSmtpServer(ServerConfig(chain_file=chain_file, key_file=key_file)) as srv:
        result = run(srv.port, ca_content=certs.pem(pki.ca))
    assert result["trusted"] is True
    assert [f for f in result["findings"] if f.startswith("the server certificate expires on")]


class _LeafOnly:
    """An SSL socket of a Python without get_unverified_chain, public or private."""

    def __init__(self, leaf):
        self.leaf = leaf

    def getpeercert(self, binary_form=False):
        assert binary_form
        return self.leaf


def test_chain_falls_back_to_the_leaf(pki):
    leaf_der = tls_check.der(pki.leaf2)
    ders, source = probe.peer_chain(_LeafOnly(leaf_der))
    assert (ders, source) == ([leaf_der], "leaf_only")
    assert probe.peer_chain(_LeafOnly(None)) == ([], "none")


def test_the_trust_verdict_is_the_verifiers_whatever_chain_was_recorded(pki):
    spec = probe.ProbeSpec(host="mx.b.test", ca_content=certs.pem(pki.root)).validate()
    result = probe.new_result(spec, "ca_content")
    result["chain_source"] = "leaf_only"
    probe.check_certificate(result, spec, [tls_check.der(pki.leaf2)], lambda: (True, "CN=mx.b.test <- ..."))
    assert (result["trusted"], result["trust_detail"]) == (True, "CN=mx.b.test <- ...")
    assert [c["subject"] for c in result["chain"]] == ["CN=mx.b.test"]


def test_a_different_certificate_on_the_verifying_connection_is_not_trusted(pki, tls_files):
    with server(tls_files, chain="leaf+ca") as srv:
        trusted, detail = probe.verify_peer(probe.ProbeSpec(host="127.0.0.1", port=srv.port).validate(),
                                            "127.0.0.1", pki.pem(pki.ca), tls_check.der(pki.leaf2))
    assert (trusted, detail) == (False, "the server presented another certificate on the verifying connection")


def test_a_failed_verifying_connection_is_not_trusted(pki):
    port = RefusedPort()
    try:
        trusted, detail = probe.verify_peer(probe.ProbeSpec(host="127.0.0.1", port=port.port).validate(),
                                            "127.0.0.1", pki.pem(pki.ca), tls_check.der(pki.leaf))
    finally:
        port.close()
    assert trusted is False and detail.startswith("not verified, the verifying connection failed: ")
    assert "refused the connection" in detail


def test_the_verifier_flags_are_ours_on_every_python():
    """Python 3.13's create_default_context adds VERIFY_X509_STRICT; we never use it, and set the flags."""
    context = tls_check.verifying_context(None)
    assert context.verify_flags == ssl.VERIFY_X509_TRUSTED_FIRST | ssl.VERIFY_X509_PARTIAL_CHAIN
    assert not context.verify_flags & ssl.VERIFY_X509_STRICT
    assert (context.verify_mode, context.check_hostname) == (ssl.CERT_REQUIRED, False)


@pytest.mark.skipif(smtp.QUICKACK is None, reason="TCP_QUICKACK is Linux's")
def test_every_read_acknowledges_at_once():
    # Without it, a TLS 1.3 server's reply to EHLO waited for our delayed ACK of its session tickets (36 ms a probe
    # against Postfix; bench/provision_scale.py shows the link report's time).
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname())
        peer, _address = listener.accept()
        with client, peer:
            client.setsockopt(socket.IPPROTO_TCP, smtp.QUICKACK, 0)
            peer.sendall(b"220 ready\r\n")
            assert smtp.SmtpClient(client, 2.0).reply().code == 220
            assert client.getsockopt(socket.IPPROTO_TCP, smtp.QUICKACK) == 1


# ---------------------------------------------------------------- our client certificate


@pytest.fixture(scope="module")
def our_certificate(tmp_path_factory):
    """Our CA file and our chain and key, as a partner that identifies us by certificate knows them."""
    directory = tmp_path_factory.mktemp("ours")
    ca_key, ca, _spec = make_ca("Our CA", now=NOW)
    key, leaf, _spec = make_leaf(ca_key, ca, name="mx.a.test", sans=("DNS:a.test",), now=NOW)
    chain_file, key_file = write_tls_files(directory, key, [leaf], "ours")
    ca_file = directory / "our-ca.pem"
    ca_file.write_text(certs.pem(ca))
    return {"ca_file": str(ca_file), "chain": chain_file, "key": key_file, "leaf": tls_check.der(leaf)}


@pytest.mark.parametrize("present", [True, False], ids=["presented", "none"])
def test_the_probe_presents_our_certificate_to_a_partner_that_requires_one(
        pki, tls_files, our_certificate, present):
    """As the partner transport does (smtp_tls_chain_files): without it, such a partner ends the handshake."""
    ours = {"client_chain": our_certificate["chain"], "client_key": our_certificate["key"]} if present else {}
    with server(tls_files, client_ca=our_certificate["ca_file"], auth_after_tls=()) as srv:
        result = run(srv.port, ca_content=pki.pem(pki.ca), match=["b.test"], server_name="mx.b.test",
                     require=["verified"], **ours)
    if present:
        assert result["status"] == "ok" and result["verified"] is True and result["missing"] == [], result
        assert srv.client_certs and set(srv.client_certs) == {our_certificate["leaf"]}
    else:
        # TLS 1.3: the server's refusal arrives after the client's handshake ended, at its first read.
        assert result["status"] == "tls_failed" and result["stage"] in ("handshake", "ehlo_tls"), result
        assert not any(srv.client_certs)


@pytest.mark.parametrize("given, option", [({"client_chain": "/x.pem"}, "client_key"),
                                           ({"client_key": "/x.key"}, "client_chain")])
def test_our_chain_and_key_go_together(given, option):
    with pytest.raises(ProbeError) as error:
        probe.ProbeSpec(host="mx.b.test", **given).validate()
    assert error.value.option == option


def test_an_unusable_client_certificate_is_named(pki, tls_files, tmp_path):
    with server(tls_files) as srv, pytest.raises(ProbeError) as error:
        run(srv.port, client_chain=str(tmp_path / "missing.pem"), client_key=str(tmp_path / "missing.key"))
    assert error.value.option == "client_chain" and "missing.pem" in str(error.value)
