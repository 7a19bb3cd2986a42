"""The client side of an SMTP dialogue, just enough for a probe: replies, commands, STARTTLS, AUTH.

Our own small client instead of smtplib, so that nothing here looks the local host name up in DNS,
the TLS handshake gets exactly the context and server name we choose, data a server sends ahead of
the TLS handshake is caught (STARTTLS command injection), and credentials can only ever be sent
over TLS.
"""

import base64
import ssl
from dataclasses import dataclass, field

MAX_LINE = 4096  # bytes; RFC 5321 allows 512 per reply line
MAX_LINES = 100


class SmtpClosed(Exception):
    """The server closed the connection."""


class SmtpProtocolError(Exception):
    """The server said something that is not SMTP, or did something a probe must not go along with."""


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

    def __init__(self, sock):
        self.sock = sock
        self._buffer = b""

    @property
    def encrypted(self):
        return isinstance(self.sock, ssl.SSLSocket)

    def _line(self):
        while b"\n" not in self._buffer:
            if len(self._buffer) > MAX_LINE:
                raise SmtpProtocolError(f"a reply line longer than {MAX_LINE} bytes")
            data = self.sock.recv(4096)
            if not data:
                raise SmtpClosed("the server closed the connection")
            self._buffer += data
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def reply(self):
        """One (possibly multi-line) reply."""
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
        self.sock.sendall(line.encode("utf-8") + b"\r\n")
        return self.reply()

    def start_tls(self, context, server_hostname):
        """Handshake after the server's 220 to STARTTLS; refuse when it already sent more (RFC 3207 section 5)."""
        if self._buffer:
            raise SmtpProtocolError("the server sent data after its reply to STARTTLS (command injection)")
        self.sock = context.wrap_socket(self.sock, server_hostname=server_hostname)

    def authenticate(self, mechanisms, username, password):
        """(mechanism, accepted, last reply) with PLAIN, else LOGIN; (None, None, why) when neither is offered.

        Refuses to run on a connection that is not encrypted: credentials never cross in clear.
        """
        if not self.encrypted:
            raise SmtpProtocolError("refusing to send credentials before TLS is up")
        if "PLAIN" in mechanisms:
            reply = self.command("AUTH PLAIN " + _b64(f"\0{username}\0{password}"))
            if reply.code == 334:  # the server wants more than one response: cancel (RFC 4954)
                reply = self.command("*")
            return "PLAIN", reply.code == 235, str(reply)
        if "LOGIN" in mechanisms:
            reply = self.command("AUTH LOGIN")
            for secret in (username, password):
                if reply.code != 334:
                    return "LOGIN", False, str(reply)
                reply = self.command(_b64(secret))
            return "LOGIN", reply.code == 235, str(reply)
        offered = " ".join(mechanisms) or "none"
        return None, None, f"neither PLAIN nor LOGIN is offered (offered: {offered})"

    def quit(self):
        """Say goodbye; a server that hangs up first is fine."""
        try:
            self.command("QUIT")
        except (OSError, SmtpClosed, SmtpProtocolError):
            pass
