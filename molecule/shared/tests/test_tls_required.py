"""No message header and no origin lowers a partner link's TLS, and the partner password never crosses in clear.

Postfix 3.10 (Debian 13) honours RFC 8689's "TLS-Required: no" header by default: its smtp client then skips the TLS
policy and drops to level "may". The partner transport must ignore it (tls_required_enable=no), and, whatever lowers
its TLS level, must never send its password without TLS. Both MX and fallback connector of b lead to impostors on ns:
one without STARTTLS that offers AUTH in clear (port 25), one with STARTTLS and a certificate of its own (port 2525).
The impostors record every line they receive.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import shlex
import time

from mail import log_mark, log_since, queued, token, wait_delivered
from test_health import PROM, alerts, long_test, metric, wait_alerts, wait_metrics
from test_link import dns_changed, received_from

IMPOSTOR = r'''
import json, socket, ssl, sys, threading
port, starttls = int(sys.argv[1]), sys.argv[2] == "starttls"
# AUTH in clear offers every mechanism libsasl2-modules has; after STARTTLS the plain ones an impostor wants.
MECHS = "PLAIN LOGIN" if starttls else "PLAIN LOGIN CRAM-MD5 DIGEST-MD5 SCRAM-SHA-1 NTLM"
LOG = f"/tmp/impostor-{port}.jsonl"
lock = threading.Lock()
def record(event, text=""):
    with lock, open(LOG, "a") as out:
        out.write(json.dumps({"event": event, "text": text}) + "\n")
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain("/tmp/impostor.pem", "/tmp/impostor.key")
def serve(conn):
    record("connect")
    stream, tls, in_data = conn.makefile("rwb"), False, False
    def say(text):
        stream.write(text.encode() + b"\r\n"); stream.flush()
    try:
        say("220 mx.b.test ESMTP")
        while True:
            line = stream.readline()
            if not line:
                break
            text = line.decode("latin-1").rstrip("\r\n")
            if in_data:
                if text == ".":
                    in_data = False; record("message"); say("250 2.0.0 Ok: queued as IMPOSTOR")
                continue
            record("command", text)
            verb = text.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                say("250-mx.b.test\r\n" + ("250-STARTTLS\r\n" if starttls and not tls else "")
                    + f"250-AUTH {MECHS}\r\n250 8BITMIME")
            elif verb == "STARTTLS" and starttls and not tls:
                say("220 2.0.0 Ready to start TLS")
                conn = context.wrap_socket(conn, server_side=True)
                stream, tls = conn.makefile("rwb"), True
                record("tls")
            elif verb == "AUTH":
                if len(text.split()) < 3:  # no initial response: ask for one, take anything
                    say("334 PDEyMzQ1QG14LmIudGVzdD4=")
                    record("auth-response", stream.readline().decode("latin-1").rstrip("\r\n"))
                say("235 2.7.0 Authentication successful")
            elif verb == "DATA":
                in_data = True; say("354 End data with <CR><LF>.<CR><LF>")
            elif verb == "QUIT":
                say("221 2.0.0 Bye"); break
            else:
                say("250 2.0.0 Ok")
    except (OSError, ssl.SSLError) as exc:
        record("error", repr(exc))
    finally:
        conn.close()
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("0.0.0.0", port))
server.listen(16)
while True:
    conn, _unused = server.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
'''

# Lines an impostor must never see from us: a login, or a message.
_FORBIDDEN = re.compile(r"^(AUTH|MAIL|RCPT|DATA|BDAT)\b", re.I)


class Impostor:
    """A recording SMTP server on ns (the test DNS host, which runs no MTA)."""

    def __init__(self, ns, port: int, starttls: bool):
        self.ns, self.port, self.starttls = ns, port, starttls

    def start(self):
        self.ns.check_output(f"rm -f /tmp/impostor-{self.port}.jsonl; nohup python3 /tmp/impostor.py {self.port} "
                             f"{'starttls' if self.starttls else 'plain'} >/tmp/impostor-{self.port}.out 2>&1 & "
                             f"echo $! > /tmp/impostor-{self.port}.pid")
        deadline = time.monotonic() + 10
        while self.ns.run(f"ss -ltn 'sport = :{self.port}' | grep -q LISTEN").rc != 0:
            assert time.monotonic() < deadline, self.ns.run(f"cat /tmp/impostor-{self.port}.out").stdout
            time.sleep(0.2)

    def stop(self):
        self.ns.run(f"kill $(cat /tmp/impostor-{self.port}.pid)")

    def records(self) -> list[dict]:
        text = self.ns.run(f"cat /tmp/impostor-{self.port}.jsonl").stdout
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def forbidden(self) -> list[dict]:
        """Every login, login response or message the impostor received."""
        return [record for record in self.records() if record["event"] in ("message", "auth-response")
                or (record["event"] == "command" and _FORBIDDEN.match(record["text"]))]


@contextlib.contextmanager
def impostors(hosts, ipv4):
    """b's routes taken by impostors on ns: its MX (down.b.test, port 25) without STARTTLS and with AUTH in clear,
    its fallback connector (backup.b.test:2525) with STARTTLS and a certificate of its own. Yields both."""
    ns = hosts("ns")
    encoded = base64.b64encode(IMPOSTOR.encode()).decode()
    ns.check_output(f"echo {encoded} | base64 -d > /tmp/impostor.py")
    ns.check_output("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=mx.b.test "
                    "-addext subjectAltName=DNS:mx.b.test,DNS:b.test,DNS:backup.b.test "
                    "-keyout /tmp/impostor.key -out /tmp/impostor.pem 2>/dev/null")
    plain, tls = Impostor(ns, 25, starttls=False), Impostor(ns, 2525, starttls=True)
    plain.start()
    tls.start()
    try:
        with dns_changed(hosts, ipv4, mx={"b.test": "down.b.test"}, addresses={"backup.b.test": "ns"}):
            yield plain, tls
    finally:
        plain.stop()
        tls.stop()


@contextlib.contextmanager
def file_kept(host, *paths):
    """Put the files back as they were afterwards, and reload Postfix on them."""
    for path in paths:
        host.check_output(f"cp -p {path} {path}.pmtest-saved")
    try:
        yield
    finally:
        for path in paths:
            host.check_output(f"mv {path}.pmtest-saved {path}")
        host.check_output("postfix reload")


SMTP_CLIENT = r"""
import smtplib, sys
port, sender, rcpt = int(sys.argv[1]), sys.argv[2], sys.argv[3]
with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
    client.sendmail(sender, [rcpt], sys.stdin.buffer.read())
"""


def message(sender: str, rcpt: str, tag: str, header: str | None) -> str:
    extra = f"{header}\n" if header else ""
    return (f"From: <{sender or 'MAILER-DAEMON@b.test'}>\nTo: <{rcpt}>\nSubject: {tag}\n{extra}"
            f"X-Partnermail-Test: {tag}\n\nbody of {tag}\n")


def submit(host, sender: str, rcpt: str, tag: str, header: str | None, port: int | None = None) -> None:
    """Send with the local sendmail (port None) or over SMTP to 127.0.0.1:port, a client in mynetworks."""
    text = shlex.quote(message(sender, rcpt, tag, header))
    if port is None:
        host.check_output(f"printf %s {text} | /usr/sbin/sendmail -f {shlex.quote(sender)} {shlex.quote(rcpt)}")
    else:
        args = " ".join(shlex.quote(arg) for arg in (str(port), sender, rcpt))
        host.check_output(f"printf %s {text} | python3 -c {shlex.quote(SMTP_CLIENT)} {args}")


def queue_ids(host, tags: dict[str, str], timeout: float = 60) -> dict[str, str | None]:
    """{label: queue id} of the messages carrying the tags in ``host``'s queue, once all are there (None: not there
    when the time ran out)."""
    found: dict[str, str | None] = dict.fromkeys(tags)
    deadline = time.monotonic() + timeout
    while True:
        for line in host.check_output("postqueue -j").splitlines():
            qid = json.loads(line)["queue_id"] if line.strip() else None
            headers = host.run(f"postcat -hq {qid}").stdout if qid else ""
            found.update({label: qid for label, tag in tags.items() if f"X-Partnermail-Test: {tag}" in headers})
        if all(found.values()) or time.monotonic() > deadline:
            return found
        time.sleep(1)


def wait_tried(host, mark: int, qids: dict[str, str], timeout: float = 150) -> str:
    """Flush until each queue id has had a real delivery attempt (not only qmgr's "temporarily suspended")."""
    deadline = time.monotonic() + timeout
    while True:
        log = log_since(host, mark)
        missing = [label for label, qid in qids.items() if not re.search(
            rf"{qid}: to=<alice@b\.test>,.* status=deferred \((?!delivery temporarily suspended)", log)]
        if not missing:
            return log
        assert time.monotonic() < deadline, f"never tried: {missing}\n{log[-4000:]}"
        # After a failed attempt qmgr suspends the destination, and a flush only defers the rest with "delivery
        # temporarily suspended"; under load some messages never got a real attempt within the deadline. A reload
        # restarts qmgr without that state, so the next flush tries each message for real.
        host.run("postfix reload && postqueue -f")
        time.sleep(3)


# The header as senders write it: what RFC 8689 says, and the spellings a parser must not miss.
HEADERS = {
    "none": None,
    "rfc": "TLS-Required: no",
    "lower": "tls-required: NO",
    "tight": "TLS-Required:no",
    "folded": "TLS-Required:\n   no",
    "spaced": "TLS-REQUIRED:   No   ",
}
UNVERIFIED = r"postfix/partner/smtp\[\d+\]: (?:Anonymous|Untrusted|Trusted) TLS connection (?:established|reused) to"
FORWARD = "fwd@a.test"  # an alias on mx-a that expands to alice@b.test (while the test runs)
REINJECTION_PORT = 10026  # a content filter's reinjection listener on mx-a (while the test runs)


def test_no_header_and_no_origin_lowers_a_partner_links_tls(hosts, ipv4):
    mx_a, mx_b = hosts("mx-a"), hosts("mx-b")
    tags = {}
    with file_kept(mx_a, "/etc/postfix/main.cf", "/etc/postfix/master.cf"):
        # An alias to the partner, and a reinjection listener as a content filter has (header checks and milters off).
        mx_a.check_output(f"postconf -e 'virtual_alias_maps = inline:{{ {{ {FORWARD} = alice@b.test }} }}'")
        mx_a.check_output(f"postconf -M '127.0.0.1:{REINJECTION_PORT}/inet=127.0.0.1:{REINJECTION_PORT} inet n - n - - "
                          "smtpd' && postconf -P '127.0.0.1:{port}/inet/receive_override_options=no_unknown_recipient"
                          "_checks,no_header_body_checks,no_milters' '127.0.0.1:{port}/inet/syslog_name=postfix/"
                          "reinject'".format(port=REINJECTION_PORT))
        with impostors(hosts, ipv4) as (plain, tls):
            mx_a.check_output("postfix reload")  # the new listener, and no cached connection to the real mx-b
            mark = log_mark(mx_a)
            for label, header in HEADERS.items():  # local submission, every spelling
                tags[f"sendmail-{label}"] = tag = token()
                submit(mx_a, "alice@a.test", "alice@b.test", tag, header)
            tags["port-25"] = token()
            submit(mx_a, "alice@a.test", "alice@b.test", tags["port-25"], HEADERS["rfc"], port=25)
            tags["reinjection"] = token()
            submit(mx_a, "alice@a.test", "alice@b.test", tags["reinjection"], HEADERS["rfc"], port=REINJECTION_PORT)
            tags["alias"] = token()
            submit(mx_a, "alice@a.test", FORWARD, tags["alias"], HEADERS["rfc"])
            # From the partner itself, over the link (mx-b ignores the header too), to the alias: the null sender,
            # which both logins may use.
            tags["partner"] = token()
            submit(mx_b, "", FORWARD, tags["partner"], HEADERS["rfc"], port=25)

            qids = queue_ids(mx_a, tags)
            gone = [label for label, qid in qids.items() if qid is None]
            assert not gone, (f"left mx-a's queue: {gone}; the impostors got {plain.forbidden() + tls.forbidden()}; "
                              f"{log_since(mx_a, mark)[-3000:]}")
            log = wait_tried(mx_a, mark, qids)
            waiting = {json.loads(line)["queue_id"] for line in mx_a.check_output("postqueue -j").splitlines() if line}
            assert set(qids.values()) <= waiting, (qids, waiting)  # every one stays queued
            for label, qid in qids.items():
                headers = mx_a.check_output(f"postcat -hq {qid}").lower()
                assert ("tls-required:" in headers) is (label != "sendmail-none"), (label, headers)
            assert "was not offered by host" in log, log[-3000:]  # the impostor without STARTTLS
            assert "Server certificate not verified" in log, log[-3000:]  # the one with a certificate of its own
            # (the TLS summary comes before the verdict: "Untrusted TLS connection established" to the impostor with
            # a certificate of its own is logged, and then the delivery is refused)
            assert not re.search(r"postfix/partner/smtp\[\d+\]: \w+: to=<alice@b\.test>.*status=sent", log), log
            # Both impostors were asked, and got neither a login nor a message.
            assert any(record["text"].upper().startswith("EHLO") for record in plain.records()), plain.records()
            assert any(record["event"] == "tls" for record in tls.records()), tls.records()
            assert plain.forbidden() == [] and tls.forbidden() == [], (plain.forbidden(), tls.forbidden())
    # The real partner again: everything arrives, over verified TLS with the link's login.
    mark = log_mark(mx_a)
    for label, tag in tags.items():
        delivered = wait_delivered(mx_b, "alice@b.test", tag, flush=mx_a, timeout=90)
        hop = received_from(delivered, "mx.a.test")
        assert re.search(r"\(using TLSv1\.[23] with cipher \S+", hop), (label, hop)
        assert "(Authenticated sender: a-test)" in hop, (label, hop)
    log = log_since(mx_a, mark)
    assert re.search(r"postfix/partner/smtp\[\d+\]: Verified TLS connection (established|reused) to mx\.b\.test",
                     log), log[-3000:]
    assert not re.search(UNVERIFIED, log), log[-3000:]


@contextlib.contextmanager
def partner_policy_lost(mx_a):
    """The partner transport as if its TLS policy had been lost: no policy map, level may (a simulated regression)."""
    with file_kept(mx_a, "/etc/postfix/master.cf"):
        mx_a.check_output("postconf -P 'partner/unix/smtp_tls_policy_maps=' 'partner/unix/smtp_tls_security_level=may'"
                          " && postfix reload")
        yield


def test_a_lowered_tls_level_never_sends_the_password_in_clear(hosts, ipv4):
    """Whatever lowers the partner transport's TLS level (here its policy lost), no password crosses without TLS."""
    mx_a = hosts("mx-a")
    tag = token()
    with impostors(hosts, ipv4) as (plain, tls), partner_policy_lost(mx_a):
        # The MX answers without STARTTLS and offers AUTH in clear (every mechanism of libsasl2-modules): at level
        # may Postfix talks to it, but the partner transport has no mechanism to use without TLS. The fallback's
        # impostor is not listening (connection refused): this test is about the cleartext one.
        tls.stop()
        mark = log_mark(mx_a)
        submit(mx_a, "alice@a.test", "alice@b.test", tag, None)
        qid = queue_ids(mx_a, {"lowered": tag})["lowered"]
        assert qid is not None, (plain.forbidden(), log_since(mx_a, mark)[-3000:])
        log = wait_tried(mx_a, mark, {"lowered": qid})
        # (the status line says why the last connector failed: the fallback, refused)
        assert re.search(r"SASL authentication failed; cannot authenticate to server down\.b\.test\[[\d.]+\]: "
                         r"no mechanism available", log), log[-3000:]
        assert any(record["text"].upper().startswith("EHLO") for record in plain.records()), plain.records()
        assert plain.forbidden() == [], plain.forbidden()
        assert queued(mx_a, tag)
    # The policy and the real partner back: the mail goes, over verified TLS with the link's login.
    hop = received_from(wait_delivered(hosts("mx-b"), "alice@b.test", tag, flush=mx_a, timeout=90), "mx.a.test")
    assert re.search(r"\(using TLSv1\.[23] with cipher \S+", hop) and "(Authenticated sender: a-test)" in hop, hop


@long_test
def test_a_partner_delivery_without_verified_tls_is_alerted_at_once(hosts, ipv4):
    mx_a = hosts("mx-a")
    prom = mx_a.check_output(f"cat {PROM}")
    # Every partner delivery of the tests so far was made over verified TLS: nothing counted.
    assert metric(prom, "partnermail_partner_insecure_deliveries_total", partner="b") == 0, prom
    before = len(alerts(mx_a, "b", "insecure_delivery"))
    tag = token()
    with impostors(hosts, ipv4) as (plain, tls), partner_policy_lost(mx_a):
        # With its policy lost, the fallback connector's impostor (TLS with a certificate of its own) gets the mail:
        # nothing but the policy could stop that. The health check must say so at once, naming the partner.
        plain.stop()
        mark = log_mark(mx_a)
        submit(mx_a, "alice@a.test", "alice@b.test", tag, None)
        qid = queue_ids(mx_a, {"lowered": tag}, timeout=5)["lowered"]  # it may be gone already
        deadline = time.monotonic() + 90
        while not any(record["event"] == "message" for record in tls.records()):
            assert time.monotonic() < deadline, log_since(mx_a, mark)[-3000:]
            mx_a.run("postqueue -f")
            time.sleep(2)
        log = log_since(mx_a, mark)
    assert re.search(r"postfix/partner/smtp\[\d+\]: Untrusted TLS connection established to backup\.b\.test", log), log
    qid = qid or re.search(r"(\w+): to=<alice@b\.test>, relay=backup\.b\.test\S+, .*status=sent", log)[1]
    mail = wait_alerts(mx_a, "b", "insecure_delivery", before + 1)[-1]
    assert re.search(r"Subject: \[partnermail\] mx\.a\.test: mail to partner b delivered without TLS with a "
                     r"verified certificate \(1 delivery, Untrusted TLS\)", mail), mail
    assert re.search(rf"{qid}  to=<alice@b\.test>\n +relay=backup\.b\.test\[[\d.]+\]:2525, Untrusted TLS\n", mail), mail
    text = wait_metrics(mx_a, lambda t: metric(t, "partnermail_partner_insecure_deliveries_total", partner="b") == 1,
                        what="the insecure delivery")
    assert metric(text, "partnermail_partner_delivery_attempts_total", partner="b", status="sent") >= 1
    assert not queued(mx_a, tag)
