"""Sending mail in the test world and waiting for it, on the platforms themselves."""

from __future__ import annotations

import json
import shlex
import time
import uuid

MAILDIR = "/var/mail/vhosts"


def token() -> str:
    return f"pm-{uuid.uuid4().hex[:16]}"


def send(host, sender: str, rcpt: str, tag: str) -> None:
    """Submit a message on ``host`` with the local sendmail; ``tag`` goes into the subject and a header."""
    message = f"From: <{sender}>\nTo: <{rcpt}>\nSubject: {tag}\nX-Partnermail-Test: {tag}\n\nbody of {tag}\n"
    cmd = f"printf %s {shlex.quote(message)} | /usr/sbin/sendmail -f {shlex.quote(sender)} {shlex.quote(rcpt)}"
    host.check_output(cmd)


def find(host, address: str, tag: str) -> str | None:
    """The delivered message carrying ``tag`` in ``address``'s Maildir, or None."""
    local, domain = address.split("@")
    out = host.run(f"grep -rl -- {shlex.quote('X-Partnermail-Test: ' + tag)} {MAILDIR}/{domain}/{local}/new")
    if out.rc != 0 or not out.stdout.strip():
        return None
    return host.file(out.stdout.split()[0]).content_string


def wait_delivered(host, address: str, tag: str, timeout: float = 60, flush=None) -> str:
    """Wait until the message is in the Maildir; ``flush`` (a host) gets its queue flushed meanwhile."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = find(host, address, tag)
        if found is not None:
            return found
        if flush is not None:
            flush.run("postqueue -f")
        time.sleep(1)
    raise AssertionError(f"{tag} did not reach {address} within {timeout}s")


def queued(host, tag: str) -> bool:
    """True when a message whose subject carries ``tag`` is in ``host``'s queue."""
    ids = [json.loads(line)["queue_id"] for line in host.check_output("postqueue -j").splitlines() if line.strip()]
    return any(tag in host.run(f"postcat -hq {queue_id}").stdout for queue_id in ids)


def log_mark(host, path: str = "/var/log/mail.log") -> int:
    """Current size of the log, to read only what follows."""
    return int(host.check_output(f"stat -c %s {path}"))


def log_since(host, mark: int, path: str = "/var/log/mail.log") -> str:
    return host.check_output(f"tail -c +{mark + 1} {path}")


def wait_log(host, mark: int, needle: str, timeout: float = 60, path: str = "/var/log/mail.log",
             flush=None) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log_since(host, mark, path)
        if needle in text:
            return text
        if flush is not None:
            flush.run("postqueue -f")
        time.sleep(1)
    raise AssertionError(f"{needle!r} did not appear in {host}'s {path} within {timeout}s:\n"
                         f"{log_since(host, mark, path)[-3000:]}")


IMAP_CLIENT = r"""
import imaplib, ssl, sys
server, user, password, subject = sys.argv[1:]
context = ssl.create_default_context()
context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
imap = imaplib.IMAP4(server, 143)
print("GREETING", imap.welcome.decode())
imap.starttls(context)
try:
    imap.login(user, password)
except imaplib.IMAP4.error as exc:
    print("LOGIN FAILED", exc)
    sys.exit(0)
imap.select("INBOX", readonly=True)
print("FOUND", len(imap.search(None, "SUBJECT", subject)[1][0].split()))
imap.logout()
"""


def imap_inbox(client, server: str, user: str, password: str, subject: str) -> dict:
    """Log in over IMAP (STARTTLS) from ``client``: {greeting, login (bool), found (messages with subject)}."""
    args = " ".join(shlex.quote(arg) for arg in (server, user, password, subject))
    out = client.check_output(f"python3 -c {shlex.quote(IMAP_CLIENT)} {args}")
    lines = dict(line.split(" ", 1) for line in out.splitlines() if " " in line)
    return {"greeting": lines.get("GREETING", ""), "login": "LOGIN" not in lines,
            "found": int(lines.get("FOUND", "0"))}
