"""A threaded TCP server on 127.0.0.1 that runs one script per connection: servers that stall or drip-feed.

Each script gets a ``Drip`` (the connection plus a stop event) and talks SMTP as slowly as it likes;
``stop()`` ends every script at once, so no thread outlives its test.
"""

import contextlib
import socket
import ssl

from .smtp_server import ThreadedServer


class Drip:
    """One connection, with helpers for a server that takes its time."""

    def __init__(self, conn, stop, context):
        self.sock, self.stop, self.context = conn, stop, context
        self._buffer = b""

    def send(self, data):
        self.sock.sendall(data.encode() if isinstance(data, str) else data)

    def read_line(self):
        while b"\n" not in self._buffer:
            data = self.sock.recv(4096)
            if not data:
                raise EOFError
            self._buffer += data
        line, _unused, self._buffer = self._buffer.partition(b"\n")
        return line.rstrip(b"\r").decode()

    def lines_every(self, seconds, line):
        """``line`` (a continuation line, say) every ``seconds``, until stopped."""
        while not self.stop.wait(seconds):
            self.send(line + "\r\n")

    def bytes_every(self, seconds, data):
        """``data`` one byte at a time, one every ``seconds``, until stopped or sent."""
        for byte in data:
            if self.stop.wait(seconds):
                return
            self.send(bytes([byte]))
        self.stop.wait()

    def up_to_starttls(self):
        """A prompt greeting, EHLO offering STARTTLS, and 220 to STARTTLS."""
        self.send("220 mx.b.test ESMTP drip\r\n")
        self.read_line()
        self.send("250-mx.b.test\r\n250 STARTTLS\r\n")
        self.read_line()
        self.send("220 2.0.0 Ready to start TLS\r\n")

    def start_tls(self):
        """The server side of a prompt handshake; the connection is then read and written under TLS."""
        self.sock = self.context.wrap_socket(self.sock, server_side=True)

    def server_hello(self):
        """The bytes a server answers the client's hello with (ServerHello ... Finished), ready to drip.

        The handshake runs on memory BIOs, so the bytes can be sent at whatever pace a test wants.
        """
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = self.context.wrap_bio(incoming, outgoing, server_side=True)
        while True:
            incoming.write(self.sock.recv(16384))
            with contextlib.suppress(ssl.SSLWantReadError):
                tls.do_handshake()
            data = outgoing.read()
            if data:
                return data


class DripServer(ThreadedServer):
    def __init__(self, script, chain_file=None, key_file=None):
        super().__init__(chain_file, key_file)
        self.script = script

    def _session(self, conn):
        conn.settimeout(10)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        drip = Drip(conn, self._stop, self._context)
        with contextlib.suppress(OSError, EOFError, ValueError), conn:
            self.script(drip)
            self._stop.wait()
        with contextlib.suppress(OSError):
            drip.sock.close()
