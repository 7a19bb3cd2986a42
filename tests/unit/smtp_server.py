"""A tiny threaded SMTP server on 127.0.0.1 for probe tests, plus a silent port and a refused port.

It can offer or refuse STARTTLS, answer STARTTLS and then not speak TLS, smuggle a reply in behind
its 220 to STARTTLS, offer AUTH before and/or after TLS, check one username and password, and
present a given certificate chain. Every line it reads is kept with whether TLS was up, so tests
can prove what a client did and did not send in clear. It never relays or stores anything.
"""

import base64
import binascii
import contextlib
import socket
import ssl
import threading
from dataclasses import dataclass

from ansible_collections.partnermail.links.plugins.module_utils._pki import certs, keys


@dataclass
class ServerConfig:
    banner: str = "220 mx.b.test ESMTP fake"
    starttls: bool = True
    starttls_reply: str = "220 2.0.0 Ready to start TLS"
    not_tls: bool = False  # answer 220 to STARTTLS, then send plain text instead of a TLS handshake
    inject: bool = False  # a second reply right behind the 220 to STARTTLS, in clear
    auth_before_tls: tuple = ()
    auth_after_tls: tuple = ("PLAIN", "LOGIN")
    username: str = "a-example"
    password: str = "s3cret pass"
    chain_file: str = None  # leaf then intermediates, PEM
    key_file: str = None
    client_ca: str = None  # require a client certificate issued by this CA (PEM file), as a partner platform may


def write_tls_files(directory, key, chain, name="server"):
    """Write a key and a chain (leaf first) for ServerConfig; returns (chain_file, key_file)."""
    chain_file, key_file = directory / f"{name}.pem", directory / f"{name}.key"
    chain_file.write_text("".join(certs.pem(cert) for cert in chain))
    key_file.write_bytes(keys.private_key_pem(key))
    return str(chain_file), str(key_file)


class ThreadedServer:
    """A listener on 127.0.0.1 that hands each connection to ``_session`` in a thread of its own."""

    def __init__(self, chain_file=None, key_file=None):
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(8)
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._context = None
        if chain_file:
            self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self._context.load_cert_chain(chain_file, key_file)

    def start(self):
        self._threads[0].start()
        return self

    def stop(self):
        self._stop.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() at once
        for thread in self._threads:
            thread.join(2)
        self._listener.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _accept(self):
        while not self._stop.is_set():
            try:
                conn, _address = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._session, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _session(self, conn):
        raise NotImplementedError


class FakeSmtpServer(ThreadedServer):
    def __init__(self, config):
        super().__init__(config.chain_file, config.key_file)
        self.config = config
        if config.client_ca:
            self._context.verify_mode = ssl.CERT_REQUIRED
            self._context.load_verify_locations(config.client_ca)
        self.client_certs = []  # the client certificate (DER) of each TLS session, None when there was none
        self.transcripts = []  # one list of (tls, line) per connection
        self.auth_results = []

    def lines(self, tls=None, session=None):
        """Every line read, over all connections (or the ``session``-th one); only those in clear (False) or
        under TLS (True) if asked."""
        transcripts = self.transcripts if session is None else self.transcripts[session:session + 1]
        return [line for transcript in transcripts for up, line in transcript if tls is None or up is tls]

    def _session(self, conn):
        transcript = []
        self.transcripts.append(transcript)
        conn.settimeout(5)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with contextlib.suppress(OSError, ValueError), conn:
            _Session(self, conn, transcript).run()


class _Session:
    def __init__(self, server, conn, transcript):
        self.server, self.config = server, server.config
        self.sock, self.reader = conn, conn.makefile("rb")
        self.transcript = transcript
        self.tls = False

    def send(self, *lines, code=None):
        if code is None:
            data = "".join(f"{line}\r\n" for line in lines)
        else:
            data = "".join(f"{code}{'-' if i < len(lines) - 1 else ' '}{line}\r\n" for i, line in enumerate(lines))
        self.sock.sendall(data.encode())

    def read(self):
        line = self.reader.readline(4096)
        if not line:
            raise EOFError
        text = line.decode("utf-8", "replace").rstrip("\r\n")
        self.transcript.append((self.tls, text))
        return text

    def run(self):
        self.send(self.config.banner)
        try:
            while True:
                text = self.read()
                verb = text.split(" ", 1)[0].upper()
                if verb == "QUIT":
                    self.send("221 2.0.0 Bye")
                    return
                if verb == "EHLO" and self.config.banner.startswith("220"):
                    self.ehlo()
                elif verb == "STARTTLS" and self.config.starttls and not self.tls:
                    if not self.starttls():
                        return
                elif verb == "AUTH":
                    self.auth(text)
                elif verb in ("HELO", "MAIL", "RCPT", "RSET", "NOOP"):
                    self.send("250 2.0.0 Ok")
                else:
                    self.send("502 5.5.2 Error: command not recognized")
        except EOFError:
            return

    def ehlo(self):
        lines = ["mx.b.test", "PIPELINING", "SIZE 10240000"]
        mechanisms = self.config.auth_after_tls if self.tls else self.config.auth_before_tls
        if mechanisms:
            lines.append("AUTH " + " ".join(mechanisms))
        if self.config.starttls and not self.tls:
            lines.append("STARTTLS")
        lines.append("8BITMIME")
        self.send(*lines, code=250)

    def starttls(self):
        if not self.config.starttls_reply.startswith("220"):
            self.send(self.config.starttls_reply)
            return True
        if self.config.inject:
            self.send(self.config.starttls_reply, "250 2.0.0 smuggled in clear")
        else:
            self.send(self.config.starttls_reply)
        if self.config.not_tls:  # wait for the ClientHello, so the client is already in its handshake
            self.sock.recv(4096)
            self.sock.sendall(b"this is not a TLS handshake\r\n" * 8)
            return False
        self.sock = self.server._context.wrap_socket(self.sock, server_side=True)
        self.server.client_certs.append(self.sock.getpeercert(binary_form=True))
        self.reader = self.sock.makefile("rb")
        self.tls = True
        return True

    def auth(self, text):
        parts = text.split()
        mechanisms = self.config.auth_after_tls if self.tls else self.config.auth_before_tls
        mechanism = parts[1].upper() if len(parts) > 1 else ""
        if mechanism not in mechanisms:
            self.send("504 5.5.4 Unrecognized authentication type")
            return
        try:
            if mechanism == "PLAIN":
                if len(parts) > 2:
                    response = parts[2]
                else:
                    self.send("334 ")
                    response = self.read()
                _authzid, username, password = base64.b64decode(response).decode().split("\0")
            else:
                self.send("334 VXNlcm5hbWU6")
                username = base64.b64decode(self.read()).decode()
                self.send("334 UGFzc3dvcmQ6")
                password = base64.b64decode(self.read()).decode()
        except (ValueError, binascii.Error):
            self.send("501 5.5.2 Cannot decode response")
            return
        accepted = (username, password) == (self.config.username, self.config.password)
        self.server.auth_results.append((mechanism, username, accepted, self.tls))
        if accepted:
            self.send("235 2.7.0 Authentication successful")
        else:
            self.send("535 5.7.8 Error: authentication failed")


class SilentPort:
    """A port that accepts connections (the kernel does) and never says a word."""

    def __init__(self):
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(8)
        self.port = self._sock.getsockname()[1]

    def close(self):
        self._sock.close()


class RefusedPort:
    """A port that is bound but not listening, so connections are refused and nobody else can take it."""

    def __init__(self):
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]

    def close(self):
        self._sock.close()
