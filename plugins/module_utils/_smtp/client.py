# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The client side of an SMTP dialogue, just enough for a probe: replies, commands, STARTTLS, AUTH.

Our own small client instead of smtplib, so that nothing here looks the local host name up in DNS,
the TLS handshake gets exactly the context and server name we choose, data a server sends ahead of
the TLS handshake is caught (STARTTLS command injection), and credentials can only ever be sent
over TLS.

Every step has a deadline, not just each ``recv()``: the connection, each reply (the greeting, the
reply to each command), the TLS handshake and the whole AUTH exchange must each be over within
``timeout`` seconds, so a server that drip-feeds its replies (a line, or a byte, every few seconds)
cannot hold the client for longer than that. Before every socket call the socket's timeout is set
to what is left of the step's deadline; a step out of time raises StepTimeout.
"""

import base64
import socket
import ssl
import time
from dataclasses import dataclass, field

MAX_LINE = 4096  # bytes; RFC 5321 allows 512 per reply line
MAX_LINES = 100
QUICKACK = getattr(socket, "TCP_QUICKACK", None)  # Linux only


class SmtpClosed(Exception):
    """The server closed the connection."""


class SmtpProtocolError(Exception):
    """The server said something that is not SMTP, or did something a probe must not go along with."""


class StepTimeout(TimeoutError):
    """A step (``what`` we were waiting for) did not complete within ``seconds``."""

    def __init__(self, what, seconds):
        super().__init__(f"timed out waiting for {what} after {seconds:g} s")
        self.what, self.seconds = what, seconds


class Deadline:
    """The end of one step, on the monotonic clock; ``arm(sock)`` gives a socket what is left of it."""

    def __init__(self, what, seconds):
        self.what, self.seconds = what, seconds
        self.end = time.monotonic() + seconds

    def left(self):
        """Seconds left; StepTimeout when there are none."""
        left = self.end - time.monotonic()
        if left <= 0:
            raise StepTimeout(self.what, self.seconds)
        return left

    def arm(self, sock):
        sock.settimeout(self.left())
        return sock

    def expired(self):
        return StepTimeout(self.what, self.seconds)


def connect(host, port, seconds):
    """A TCP connection to the first address of ``host`` that answers, all addresses within one deadline.

    Unlike socket.create_connection, which gives every address the whole timeout, the addresses share
    ``seconds``. The name is resolved by the system resolver first, which has its own timeouts.
    """
    deadline = Deadline("the connection", seconds)
    error = None
    for family, kind, proto, _unused, address in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        sock = socket.socket(family, kind, proto)
        try:
            deadline.arm(sock).connect(address)
        except TimeoutError:
            sock.close()
            raise deadline.expired() from None
        except OSError as exc:
            sock.close()
            error = exc
            continue
        return sock
    raise error or OSError(f"no address for {host}")


def _quick_ack(sock):
    """Acknowledge what arrives at once (Linux TCP_QUICKACK; the kernel clears it again, so before every read).

    After a TLS 1.3 handshake the server sends its session tickets and then, to our EHLO, its reply. With our ACK of
    the tickets delayed (up to 40 ms) and Nagle on the server's side, the reply waits for that ACK: measured against
    Postfix, EHLO after STARTTLS took 36 ms instead of 0.2 ms, most of a healthy link's probe.
    """
    if QUICKACK is not None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, QUICKACK, 1)
        except (OSError, ValueError):
            pass


@dataclass(frozen=True)
class Reply:
    code: int
    lines: list = field(default_factory=list)

    def __str__(self):
        return "\n".join(f"{self.code} {line}".rstrip() for line in self.lines) or str(self.code)


def extensions(reply):
    """The EHLO keywords with their parameters, as the server sent them (the greeting line dropped)."""
    return [line.strip() for line in reply.lines[1:] if line.strip()]


def keyword(extension):
    return extension.replace("=", " ").split()[0].upper()


def auth_mechanisms(ehlo_extensions):
    """Mechanisms of the AUTH extension; the old ``AUTH=`` form counts too."""
    mechanisms = []
    for extension in ehlo_extensions:
        if keyword(extension) == "AUTH":
            for mechanism in extension.replace("=", " ").split()[1:]:
                if mechanism.upper() not in mechanisms:
                    mechanisms.append(mechanism.upper())
    return mechanisms


def _b64(text):
    return base64.b64encode(text.encode()).decode("ascii")


class SmtpClient:
    """One connection: the socket, and whatever the server sent that we have not read yet."""

    def __init__(self, sock, timeout):
        self.sock = sock
        self.timeout = timeout
        self._buffer = b""
        self._deadline = Deadline("the server", timeout)

    def _step(self, what):
        """Start a step: from now on, every socket call shares one deadline ``timeout`` seconds away."""
        self._deadline = Deadline(what, self.timeout)

    def _recv(self):
        _quick_ack(self.sock)
        try:
            return self._deadline.arm(self.sock).recv(4096)
        except TimeoutError:
            raise self._deadline.expired() from None

    def _send(self, data):
        try:
            self._deadline.arm(self.sock).sendall(data)
        except TimeoutError:
            raise self._deadline.expired() from None

    @property
    def encrypted(self):
        return isinstance(self.sock, ssl.SSLSocket)

    def _line(self):
        while b"\n" not in self._buffer:
            if len(self._buffer) > MAX_LINE:
                raise SmtpProtocolError(f"a reply line longer than {MAX_LINE} bytes")
            data = self._recv()
            if not data:
                raise SmtpClosed("the server closed the connection")
            self._buffer += data
        line, _sep, self._buffer = self._buffer.partition(b"\n")
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def reply(self, what="the greeting"):
        """One (possibly multi-line) reply, all its lines within one deadline."""
        self._step(what)
        return self._reply()

    def _reply(self):
        code, lines = None, []
        while True:
            line = self._line()
            if len(line) < 3 or not line[:3].isdigit() or (len(line) > 3 and line[3] not in " -"):
                raise SmtpProtocolError(f"not an SMTP reply: {line[:80]!r}")
            if code is not None and int(line[:3]) != code:
                raise SmtpProtocolError(f"reply code changed within a reply: {line[:80]!r}")
            code = int(line[:3])
            lines.append(line[4:])
            if len(line) == 3 or line[3] == " ":
                return Reply(code, lines)
            if len(lines) >= MAX_LINES:
                raise SmtpProtocolError(f"a reply of more than {MAX_LINES} lines")

    def command(self, line):
        """Send ``line`` and read the reply, both within one deadline."""
        self._step(f"the reply to {line.split(' ', 1)[0].upper()}")
        return self._exchange(line)

    def _exchange(self, line):
        self._send(line.encode("utf-8") + b"\r\n")
        return self._reply()

    def start_tls(self, context, server_hostname):
        """Handshake after the server's 220 to STARTTLS; refuse when it already sent more (RFC 3207 section 5).

        The whole handshake has one deadline: OpenSSL's reads and writes inside ``do_handshake()``
        share the socket timeout it started with (CPython keeps a deadline across them).
        """
        if self._buffer:
            raise SmtpProtocolError("the server sent data after its reply to STARTTLS (command injection)")
        self._step("the TLS handshake")
        tls_sock = context.wrap_socket(self.sock, server_hostname=server_hostname, do_handshake_on_connect=False)
        self.sock = tls_sock
        try:
            self._deadline.arm(tls_sock).do_handshake()
        except TimeoutError:
            raise self._deadline.expired() from None

    def authenticate(self, mechanisms, username, password):
        """(mechanism, accepted, last reply) with PLAIN, else LOGIN; (None, None, why) when neither is offered.

        Refuses to run on a connection that is not encrypted: credentials never cross in clear. The
        whole exchange (every command and reply of it) has one deadline.
        """
        if not self.encrypted:
            raise SmtpProtocolError("refusing to send credentials before TLS is up")
        self._step("the AUTH exchange")
        if "PLAIN" in mechanisms:
            reply = self._exchange("AUTH PLAIN " + _b64(f"\0{username}\0{password}"))
            if reply.code == 334:  # the server wants more than one response: cancel (RFC 4954)
                reply = self._exchange("*")
            return "PLAIN", reply.code == 235, str(reply)
        if "LOGIN" in mechanisms:
            reply = self._exchange("AUTH LOGIN")
            for secret in (username, password):
                if reply.code != 334:
                    return "LOGIN", False, str(reply)
                reply = self._exchange(_b64(secret))
            return "LOGIN", reply.code == 235, str(reply)
        offered = " ".join(mechanisms) or "none"
        return None, None, f"neither PLAIN nor LOGIN is offered (offered: {offered})"

    def quit(self):
        """Say goodbye; a server that hangs up first is fine."""
        try:
            self.command("QUIT")
        except (OSError, SmtpClosed, SmtpProtocolError):
            pass
