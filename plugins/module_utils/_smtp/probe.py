# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Probe an SMTP nexthop as a sending MTA would: greeting, EHLO, STARTTLS, certificate checks, AUTH.

The probe never sends mail and never sends credentials before TLS is up. How far the dialogue got is
``status`` (with ``stage`` and ``message``); what the certificate and AUTH checks found is reported in
fields of their own; ``require`` turns what the caller needs into ``missing`` entries.

One connection for a server whose certificate verifies: the probe's handshake is made with OpenSSL's
verifier and only the trust anchors loaded (tls_check.verifying_context), so a completed handshake is
the trust verdict, and the dialogue goes on in that session (what was presented, EHLO, AUTH). When
that handshake fails, the probe does what it did before (issue 13 halved the report's connections
for healthy links): a session whose handshake verifies nothing (CERT_NONE) records what was presented
and finishes the dialogue, and the verdict is the failed verification's reason from OpenSSL (or, for
a handshake that failed for another reason, a separate verifying connection's). A failed
verification is reported with OpenSSL's reason and the recorded certificates, not as a handshake
failure. A verifying connection of its own (verify_peer: DANE-TA, or the case above) sends no AUTH,
no second EHLO, only QUIT when the handshake succeeded.

Chain retrieval: Python 3.13 has ``SSLSocket.get_unverified_chain()`` (and ``get_verified_chain()``);
Python 3.10 to 3.12 have the same calls on the private ``SSLSocket._sslobj`` and we use them when
present; otherwise only the leaf (``getpeercert(binary_form=True)``) is recorded. That limits what
the probe reports (and DANE-TA, which needs the CA the server sent), not the trust verdict.
"""

import datetime
import ipaddress
import socket
import ssl
from dataclasses import dataclass, replace

from ansible_collections.partnermail.links.plugins.module_utils._pki import certs
from ansible_collections.partnermail.links.plugins.module_utils._smtp import client as smtp
from ansible_collections.partnermail.links.plugins.module_utils._smtp import tls_check
from ansible_collections.partnermail.links.plugins.module_utils._smtp.errors import ProbeError

try:
    from cryptography import x509
except ImportError:  # pragma: no cover - the module reports the missing library
    pass

STATUSES = ("ok", "refused", "timeout", "unresolvable", "unreachable", "rejected", "closed", "protocol_error",
            "no_starttls", "tls_failed")
STAGES = ("connect", "banner", "ehlo", "starttls", "handshake", "ehlo_tls", "auth", "quit")
REQUIREMENTS = ("starttls", "tls", "tlsv1.2", "tlsv1.3", "trusted", "name", "fingerprint", "tlsa", "verified",
                "auth", "no_auth_before_tls")
TLS_VERSIONS = {"SSLv3": 3.0, "TLSv1": 1.0, "TLSv1.1": 1.1, "TLSv1.2": 1.2, "TLSv1.3": 1.3}
DEFAULT_TIMEOUT = 10.0
MAX_TIMEOUT = 300.0
EXPIRY_WARNING = datetime.timedelta(days=30)
_ENCODING_DER = getattr(getattr(ssl, "_ssl", None), "ENCODING_DER", 2)  # for _ssl.Certificate before 3.13


def local_helo_name():
    """The kernel's host name when it is a usable EHLO name; never a DNS lookup (unlike socket.getfqdn)."""
    name = socket.gethostname().lower()
    return name if tls_check.valid_host_name(name, min_labels=1) else "localhost"


def _ip(value):
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


@dataclass(frozen=True)
class ProbeSpec:
    """What to probe and what to check; ``validate()`` returns a normalised copy or raises ProbeError."""

    host: str
    port: int = 25
    timeout: float = DEFAULT_TIMEOUT
    helo_name: str = None
    server_name: str = None
    ca_file: str = None
    ca_content: str = None
    match: tuple = ()
    fingerprints: tuple = ()
    tlsa: tuple = ()
    username: str = None
    password: str = None
    require: tuple = ()
    # Our certificate chain and key (paths), presented when the server asks, as the partner transport presents
    # smtp_tls_chain_files: a partner that requires a client certificate (Exim's tls_verify_hosts, an Exchange Online
    # connector) ends the handshake of a probe without one.
    client_chain: str = None
    client_key: str = None

    def validate(self):
        host = self.host.strip() if isinstance(self.host, str) else ""
        if host.startswith("[") and host.endswith("]"):  # Postfix's [nexthop] form
            host = host[1:-1]
        address = _ip(host)
        host = str(address) if address else host.lower().rstrip(".")
        if not address and not tls_check.valid_host_name(host, min_labels=1):
            raise ProbeError("host", f"{self.host!r} is not a host name or IP address")
        if isinstance(self.port, bool) or not isinstance(self.port, int) or not 0 < self.port < 65536:
            raise ProbeError("port", f"must be an integer between 1 and 65535, got {self.port!r}")
        number = isinstance(self.timeout, (int, float)) and not isinstance(self.timeout, bool)
        if not number or not 0 < self.timeout <= MAX_TIMEOUT:
            raise ProbeError("timeout", f"must be more than 0 and at most {MAX_TIMEOUT:g} seconds, "
                                        f"got {self.timeout!r}")
        if self.ca_file and self.ca_content:
            raise ProbeError("ca_content", "give ca_file or ca_content, not both")
        if bool(self.username) != bool(self.password):
            raise ProbeError("password" if self.username else "username", "username and password go together")
        if bool(self.client_chain) != bool(self.client_key):
            raise ProbeError("client_key" if self.client_chain else "client_chain",
                             "client_chain and client_key go together")
        return replace(
            self, host=host, timeout=float(self.timeout), helo_name=self._helo_name(),
            server_name=self._server_name(host, address),
            match=tuple(tls_check.check_pattern(p) for p in self.match),
            fingerprints=tuple(tls_check.check_fingerprint(f) for f in self.fingerprints),
            tlsa=tuple(tls_check.parse_tlsa(t).text() for t in self.tlsa),
            require=self._require(),
        )

    def _helo_name(self):
        if self.helo_name is None:
            return local_helo_name()
        name = self.helo_name.strip().lower()
        literal = name.startswith("[") and name.endswith("]") and _ip(name[1:-1].removeprefix("ipv6:"))
        if not literal and not tls_check.valid_host_name(name.rstrip("."), min_labels=1):
            raise ProbeError("helo_name", f"{self.helo_name!r} is not a host name or address literal ([192.0.2.1])")
        return name

    def _server_name(self, host, address):
        if self.server_name is None:
            return None if address else host
        if self.server_name == "":
            return None
        name = self.server_name.strip().lower().rstrip(".")
        if not tls_check.valid_host_name(name, min_labels=1):
            raise ProbeError("server_name", f"{self.server_name!r} is not a host name")
        return name

    def _require(self):
        needs = {"name": ("match", self.match), "fingerprint": ("fingerprints", self.fingerprints),
                 "tlsa": ("tlsa", self.tlsa)}
        for requirement in self.require:
            if requirement not in REQUIREMENTS:
                raise ProbeError("require", f"unknown requirement {requirement!r}; use {', '.join(REQUIREMENTS)}")
            if requirement in needs and not needs[requirement][1]:
                raise ProbeError("require", f"{requirement!r} needs {needs[requirement][0]}")
        return tuple(dict.fromkeys(self.require))


def client_context(spec=None):
    """TLS 1.2 or later, any certificate accepted: tls_check verifies after the handshake."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return with_client_certificate(context, spec)


def with_client_certificate(context, spec):
    """``context`` presenting ``spec``'s client certificate, when it names one; ProbeError when it is unusable."""
    if spec is not None and spec.client_chain:
        try:
            context.load_cert_chain(spec.client_chain, spec.client_key)
        except (OSError, ssl.SSLError) as exc:
            raise ProbeError("client_chain", f"cannot use {spec.client_chain} with {spec.client_key}: {exc}") from exc
    return context


def peer_chain(tls_sock, which="unverified"):
    """(DER certificates the server sent, leaf first; how they were obtained: peer, leaf_only or none).

    ``which="verified"``: the path OpenSSL built and verified instead, leaf to trust anchor.
    """
    getter = getattr(tls_sock, f"get_{which}_chain", None)  # Python >= 3.13
    if getter is None:  # Python 3.10 - 3.12: the same call, not yet public
        getter = getattr(getattr(tls_sock, "_sslobj", None), f"get_{which}_chain", None)
    if getter is not None:
        try:
            items = getter() or []
        except (AttributeError, ValueError, ssl.SSLError):
            items = []
        ders = [item if isinstance(item, bytes) else item.public_bytes(_ENCODING_DER) for item in items]
        if ders:
            return ders, "peer"
    leaf = tls_sock.getpeercert(binary_form=True)
    return ([leaf], "leaf_only") if leaf else ([], "none")


def new_result(spec, trust_source):
    return {
        "status": None, "stage": "connect", "message": "",
        "host": spec.host, "port": spec.port, "peer": None, "helo_name": spec.helo_name,
        "banner": None, "ehlo_before_tls": [], "starttls": False, "auth_before_tls": [],
        "tls": {}, "ehlo_after_tls": [], "auth_mechanisms": [],
        "chain": [], "chain_source": "none", "trust_source": trust_source,
        "trusted": None, "trust_detail": None,
        "name_matched": None, "matched_name": None,
        "fingerprint_matched": None, "matched_fingerprint": None,
        "tlsa_matched": None, "matched_tlsa": None, "tlsa_detail": None,
        "verified": None,
        "auth": {"attempted": False, "mechanism": None, "success": None, "reply": None},
        "findings": [], "missing": [],
    }


class _Stop(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


class _Conversation:
    """One SMTP session; fills ``result`` as it goes and keeps the chain the server presented.

    With a verifying ``context`` the handshake verifies the chain; ``verify_only`` (the default with a context) ends
    the session after the handshake (a verifying session to ``address``).
    """

    def __init__(self, spec, result, address=None, context=None, verify_only=None):
        self.spec, self.result = spec, result
        self.address, self.context = address or spec.host, context
        self.verify_only = context is not None if verify_only is None else verify_only
        self.chain, self.verified_chain = [], []
        self.client = None
        self.error = None

    def _stage(self, stage):
        self.result["stage"] = stage

    def _stop_and_quit(self, status, message):
        self.client.quit()
        raise _Stop(status, message)

    def run(self):
        raw = None
        try:
            raw = smtp.connect(self.address, self.spec.port, self.spec.timeout)
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # one command at a time: no Nagle delay
            self.result["peer"] = raw.getpeername()[0]
            self.client = smtp.SmtpClient(raw, self.spec.timeout)
            self._dialogue()
            self.result.update(status="ok", stage="quit")
        except _Stop as stop:
            self.result.update(status=stop.status, message=str(stop))
        except (OSError, smtp.SmtpClosed, smtp.SmtpProtocolError) as exc:  # timeouts and TLS errors are OSErrors
            self.error = exc
            status, message = self._failure(exc)
            self.result.update(status=status, message=message)
        finally:
            for sock in (self.client.sock if self.client else None, raw):
                if sock is not None:
                    sock.close()
        return self.chain

    def _failure(self, exc):
        spec, stage = self.spec, self.result["stage"]
        where = f"{spec.host} port {spec.port}"
        if isinstance(exc, ConnectionRefusedError):
            return "refused", f"{where} refused the connection"
        if isinstance(exc, socket.gaierror):
            return "unresolvable", f"cannot resolve {spec.host}: {exc.strerror or exc}"
        if isinstance(exc, TimeoutError):  # smtp.StepTimeout: a step's deadline passed
            what = getattr(exc, "what", f"the {stage} step")
            return "timeout", f"timed out waiting for {what} from {where} after {spec.timeout:g} s"
        if isinstance(exc, ssl.SSLError):
            return "tls_failed", f"TLS with {where} failed during {stage}: {exc.reason or exc}"
        if isinstance(exc, smtp.SmtpClosed):
            return "closed", f"{where} closed the connection during {stage}"
        if isinstance(exc, smtp.SmtpProtocolError):
            return "protocol_error", f"{where} during {stage}: {exc}"
        if stage == "connect":
            return "unreachable", f"cannot connect to {where}: {exc.strerror or exc}"
        return "closed", f"the connection to {where} broke during {stage}: {exc.strerror or exc}"

    def _dialogue(self):
        spec, result, client = self.spec, self.result, self.client
        self._stage("banner")
        banner = client.reply("the greeting")
        result["banner"] = str(banner)
        if banner.code != 220:
            self._stop_and_quit("rejected", f"the server greeted with {banner}")
        self._stage("ehlo")
        ehlo = client.command(f"EHLO {spec.helo_name}")
        if ehlo.code != 250:
            self._stop_and_quit("rejected", f"EHLO {spec.helo_name} was refused: {ehlo}")
        result["ehlo_before_tls"] = smtp.extensions(ehlo)
        result["auth_before_tls"] = smtp.auth_mechanisms(result["ehlo_before_tls"])
        result["starttls"] = "STARTTLS" in {smtp.keyword(e) for e in result["ehlo_before_tls"]}
        self._stage("starttls")
        if not result["starttls"]:
            self._stop_and_quit("no_starttls", "the server does not offer STARTTLS")
        reply = client.command("STARTTLS")
        if reply.code != 220:
            self._stop_and_quit("no_starttls", f"STARTTLS was refused: {reply}")
        self._stage("handshake")
        client.start_tls(self.context or client_context(spec), spec.server_name)
        cipher, _sep, bits = client.sock.cipher()
        result["tls"] = {"protocol": client.sock.version(), "cipher": cipher, "bits": bits}
        self.chain, result["chain_source"] = peer_chain(client.sock)
        if self.context is not None:
            self.verified_chain, _source = peer_chain(client.sock, "verified")
        if self.verify_only:  # a verifying session: the handshake was the point
            self._stage("quit")
            client.quit()
            return
        self._stage("ehlo_tls")
        ehlo = client.command(f"EHLO {spec.helo_name}")
        if ehlo.code != 250:
            self._stop_and_quit("rejected", f"EHLO {spec.helo_name} after STARTTLS was refused: {ehlo}")
        result["ehlo_after_tls"] = smtp.extensions(ehlo)
        result["auth_mechanisms"] = smtp.auth_mechanisms(result["ehlo_after_tls"])
        if spec.username:
            self._stage("auth")
            mechanism, accepted, reply = client.authenticate(result["auth_mechanisms"], spec.username, spec.password)
            result["auth"] = {"attempted": mechanism is not None, "mechanism": mechanism, "success": accepted,
                              "reply": reply}
        self._stage("quit")
        client.quit()


def verify_peer(spec, address, anchors_pem, leaf_der):
    """(trusted, detail): OpenSSL's verdict on the chain the server at ``address`` presents.

    A verifying session (connection, greeting, EHLO, STARTTLS, handshake, QUIT) with ``anchors_pem``
    as the only trust anchors (None: the system store). The verdict counts only for the certificate
    the probe recorded, ``leaf_der``: a server that presents another one this time is not trusted.
    """
    scratch = new_result(spec, None)
    context = with_client_certificate(tls_check.verifying_context(anchors_pem), spec)
    session = _Conversation(spec, scratch, address, context)
    session.run()
    if isinstance(session.error, ssl.SSLCertVerificationError):
        return False, tls_check.verify_failure(session.error)
    if scratch["status"] != "ok":
        return False, f"not verified, the verifying connection failed: {scratch['message']}"
    if not session.chain or session.chain[0] != leaf_der:
        return False, "the server presented another certificate on the verifying connection"
    return _verdict(session.verified_chain)


# Postfix's smtp_tls_scert_verifydepth (we leave its default): Postfix sets OpenSSL's verify depth to one more, which
# allows that many intermediate CA certificates between the server's certificate and the trust anchor. Python's ssl
# cannot set a depth, so the probe counts the path OpenSSL verified: a longer one would not verify in Postfix, and
# its mail would stay queued.
POSTFIX_VERIFY_DEPTH = 9
MAX_INTERMEDIATES = POSTFIX_VERIFY_DEPTH + 1


def _verdict(verified_chain):
    """(trusted, detail) for a handshake OpenSSL verified: untrusted when Postfix would stop at its depth limit.

    With only the leaf known (an old Python without the verified chain), the length cannot be checked.
    """
    intermediates = len(verified_chain) - 2
    if intermediates > MAX_INTERMEDIATES:
        return False, (f"the chain to the trust anchor has {intermediates} intermediate CA certificates; Postfix "
                       f"verifies at most {MAX_INTERMEDIATES} (smtp_tls_scert_verifydepth {POSTFIX_VERIFY_DEPTH}), so "
                       "it would not verify this server and its mail would stay queued")
    return True, _verified_path(verified_chain)


def _verified_path(verified_chain):
    """The trust verdict's detail: the path OpenSSL verified, leaf first."""
    try:
        path = [x509.load_der_x509_certificate(der).subject.rfc4514_string() for der in verified_chain]
    except ValueError:
        path = []
    return " <- ".join(path) or "verified by OpenSSL"


def check_certificate(result, spec, ders, verify):
    """Fill the verification fields from the DER chain the server sent.

    ``verify()`` is OpenSSL's verdict (trusted, detail) with the trust anchors; ``verify(certificate)``
    with that certificate as the only anchor (DANE-TA).
    """
    try:
        chain = [x509.load_der_x509_certificate(der) for der in ders]
    except ValueError as exc:
        result.update(trusted=False, verified=False, trust_detail=f"the server's certificate cannot be parsed ({exc})")
        return
    leaf = chain[0]
    result["chain"] = [tls_check.cert_facts(cert) for cert in chain]
    result["trusted"], result["trust_detail"] = verify()
    if spec.match:
        result["matched_name"] = tls_check.match_names(leaf, spec.match)
        result["name_matched"] = result["matched_name"] is not None
    if spec.fingerprints:
        result["matched_fingerprint"] = tls_check.match_fingerprint(leaf, spec.fingerprints)
        result["fingerprint_matched"] = result["matched_fingerprint"] is not None
    if spec.tlsa:
        reference = spec.server_name or (None if _ip(spec.host) else spec.host)
        names = spec.match or ((reference,) if reference else ())
        records = [tls_check.parse_tlsa(text) for text in spec.tlsa]
        result["matched_tlsa"], result["tlsa_detail"] = tls_check.match_tlsa(records, chain, names, verify)
        result["tlsa_matched"] = result["matched_tlsa"] is not None
    result["verified"] = all(result[key] is True for key in verification_checks(spec))


def verification_checks(spec):
    """The result fields that must all be true for ``verified``: every check the options ask for.

    The chain must be trusted when a CA is given, or when neither pins nor TLSA records are: pins and
    DANE stand on their own (as in Postfix's fingerprint and dane levels) unless a CA is given too.
    """
    checks = []
    if spec.ca_file or spec.ca_content or not (spec.fingerprints or spec.tlsa):
        checks.append("trusted")
    checks += [key for key, given in (("name_matched", spec.match), ("fingerprint_matched", spec.fingerprints),
                                      ("tlsa_matched", spec.tlsa)) if given]
    return checks


def findings(result, now):
    """Security-relevant observations, whatever was required."""
    out = []
    if result["auth_before_tls"]:
        out.append(f"AUTH is offered before STARTTLS ({' '.join(result['auth_before_tls'])}): "
                   "a client could send its password in clear")
    if result["status"] == "no_starttls":
        out.append(f"{result['message']}: mail to this server would cross in clear")
    version = TLS_VERSIONS.get(result["tls"].get("protocol"), 0)
    if result["tls"] and version < 1.2:
        out.append(f"the server negotiated {result['tls']['protocol']}, older than TLSv1.2")
    if result["chain"]:
        not_after = datetime.datetime.strptime(result["chain"][0]["not_after"], "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=datetime.timezone.utc)
        if not_after < now:
            out.append(f"the server certificate expired on {result['chain'][0]['not_after']}")
        elif not_after - now < EXPIRY_WARNING:
            out.append(f"the server certificate expires on {result['chain'][0]['not_after']}")
    return out


def _no_tls(result):
    return f"no TLS session ({result['message']})"


def _shortfall(requirement, result, spec):
    """Why ``requirement`` is not met, or None when it is."""
    tls_up = bool(result["tls"])
    ehlo_known = result["stage"] not in ("connect", "banner", "ehlo")
    if requirement == "starttls":
        return None if result["starttls"] else (result["message"] if not ehlo_known else "STARTTLS is not offered")
    if requirement in ("tls", "tlsv1.2", "tlsv1.3"):
        if not tls_up:
            return _no_tls(result)
        least = {"tls": 0, "tlsv1.2": 1.2, "tlsv1.3": 1.3}[requirement]
        if TLS_VERSIONS.get(result["tls"]["protocol"], 0) < least:
            return f"negotiated {result['tls']['protocol']}"
        return None
    if requirement == "no_auth_before_tls":
        if not ehlo_known:
            return f"not known, EHLO did not complete ({result['message']})"
        return f"AUTH is offered in clear: {' '.join(result['auth_before_tls'])}" if result["auth_before_tls"] else None
    if requirement == "auth":
        return _auth_shortfall(result, spec)
    if not result["chain"]:
        return _no_tls(result) if not tls_up else "the server presented no certificate"
    if requirement == "verified":
        failed = [key for key in verification_checks(spec) if result[key] is not True]
        return "; ".join(_check_shortfall(key, result, spec) for key in failed) or None
    key = {"trusted": "trusted", "name": "name_matched", "fingerprint": "fingerprint_matched",
           "tlsa": "tlsa_matched"}[requirement]
    return None if result[key] is True else _check_shortfall(key, result, spec)


def _check_shortfall(key, result, spec):
    if key == "trusted":
        return f"not trusted by {result['trust_source']}: {result['trust_detail']}"
    if key == "name_matched":
        names = ", ".join(result["chain"][0]["subject_alt_names"]) or result["chain"][0]["subject"]
        return f"the certificate carries none of {', '.join(spec.match)} (it names {names})"
    if key == "fingerprint_matched":
        return (f"neither the certificate ({result['chain'][0]['sha256']}) nor its public key "
                f"({result['chain'][0]['spki_sha256']}) is pinned")
    return f"TLSA: {result['tlsa_detail']}"


def _auth_shortfall(result, spec):
    if not result["tls"]:
        return _no_tls(result)
    if result["stage"] in ("handshake", "ehlo_tls") and result["status"] != "ok":
        return result["message"]
    if not result["auth_mechanisms"]:
        return "AUTH is not offered after STARTTLS"
    if spec.username and result["auth"]["success"] is not True:
        return f"AUTH {result['auth']['mechanism'] or ''} failed: {result['auth']['reply']}".replace("  ", " ")
    return None


def summary(result, spec):
    """One line saying what happened, for the module's message when the dialogue completed."""
    parts = [f"{result['tls']['protocol']} {result['tls']['cipher']}"]
    if result["verified"] is not None:
        checks = verification_checks(spec)
        failed = [key for key in checks if result[key] is not True]
        parts.append("certificate verified (" + ", ".join(checks) + ")" if not failed
                     else "certificate NOT verified: " + "; ".join(_check_shortfall(k, result, spec) for k in failed))
    if result["auth"]["attempted"]:
        parts.append(f"AUTH {result['auth']['mechanism']} " + ("accepted" if result["auth"]["success"] else "rejected"))
    elif spec.username:
        parts.append(f"AUTH not tried: {result['auth']['reply']}")
    return "; ".join(parts)


def probe(spec, anchors, trust_source, now=None):
    """Run the probe for a validated spec against loaded trust anchors (None: the system store).

    Returns the result dict. ``now`` dates the findings; OpenSSL verifies at the
    current time.
    """
    now = now or certs.utcnow()
    anchors_pem = None if anchors is None else "".join(certs.pem(anchor) for anchor in anchors)
    result = new_result(spec, trust_source)
    context = with_client_certificate(tls_check.verifying_context(anchors_pem), spec)
    session = _Conversation(spec, result, context=context, verify_only=False)
    ders = session.run()
    verdict = _verdict(session.verified_chain) if ders else None
    if not ders and result["stage"] == "handshake" and isinstance(session.error, ssl.SSLError):
        # The verifying handshake failed: record what the server presents, and finish the dialogue, without it.
        if isinstance(session.error, ssl.SSLCertVerificationError):
            verdict = (False, tls_check.verify_failure(session.error))
        result = new_result(spec, trust_source)
        ders = _Conversation(spec, result).run()
    if ders:
        def verify(anchor=None):
            if anchor is None and verdict is not None:
                return verdict
            return verify_peer(spec, result["peer"], anchors_pem if anchor is None else certs.pem(anchor), ders[0])

        check_certificate(result, spec, ders, verify)
    if result["status"] == "ok":
        result["message"] = summary(result, spec)
    result["findings"] = findings(result, now)
    result["missing"] = [f"{req}: {why}" for req in spec.require if (why := _shortfall(req, result, spec))]
    return result


def run(params, now=None):
    """Validate module parameters, load the trust anchors (before any connection), probe."""
    spec = ProbeSpec(
        host=params["host"], port=params["port"], timeout=params["timeout"], helo_name=params.get("helo_name"),
        server_name=params.get("server_name"), ca_file=params.get("ca_file"), ca_content=params.get("ca_content"),
        match=tuple(params.get("match") or ()), fingerprints=tuple(params.get("fingerprints") or ()),
        tlsa=tuple(params.get("tlsa") or ()), username=params.get("username"), password=params.get("password"),
        require=tuple(params.get("require") or ()), client_chain=params.get("client_chain"),
        client_key=params.get("client_key"),
    ).validate()
    anchors, trust_source = tls_check.load_anchors(spec.ca_file, spec.ca_content)
    return probe(spec, anchors, trust_source, now)
