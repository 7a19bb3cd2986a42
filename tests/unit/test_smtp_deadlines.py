"""Every step of the probe is a deadline: servers that drip-feed or stall end the probe within its timeout.

Before, the timeout applied to each recv(): a greeting of one ``220-`` line every 3 s held a probe with
a 10 s timeout for 299 s. Here a real TCP server on 127.0.0.1 drips lines (one per 0.3 s) and bytes
(one per 0.1 s) into each step, and the probe must end within TIMEOUT + MARGIN.
"""

import socket
import time

import pytest

from ansible_collections.partnermail.links.plugins.module_utils._pki import certs
from ansible_collections.partnermail.links.plugins.module_utils._smtp import client as smtp
from ansible_collections.partnermail.links.plugins.module_utils._smtp import probe

from .drip_server import DripServer
from .pki_helpers import make_ca, make_leaf
from .smtp_server import write_tls_files

TIMEOUT = 1.0
MARGIN = 0.5
LINE_EVERY, BYTE_EVERY = 0.3, 0.1


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    ca_key, ca_cert, _unused = make_ca("Drip CA", now=certs.utcnow())
    key, leaf, _unused = make_leaf(ca_key, ca_cert, name="mx.b.test", sans=("DNS:mx.b.test",), now=certs.utcnow())
    return write_tls_files(tmp_path_factory.mktemp("drip"), key, [leaf])


def greeting_lines(drip):
    drip.lines_every(LINE_EVERY, "220-still greeting")


def greeting_bytes(drip):
    drip.bytes_every(BYTE_EVERY, b"220 mx.b.test ESMTP a very slow greeting indeed\r\n")


def ehlo_lines(drip):
    drip.send("220 mx.b.test ESMTP drip\r\n")
    drip.read_line()
    drip.lines_every(LINE_EVERY, "250-PIPELINING")


def starttls_bytes(drip):
    drip.send("220 mx.b.test ESMTP drip\r\n")
    drip.read_line()
    drip.send("250-mx.b.test\r\n250 STARTTLS\r\n")
    drip.read_line()
    drip.bytes_every(BYTE_EVERY, b"220 2.0.0 Ready to start TLS, slowly\r\n")


def handshake_stalls(drip):
    drip.up_to_starttls()
    drip.sock.recv(16384)  # the ClientHello, never answered


def handshake_bytes(drip):
    drip.up_to_starttls()
    drip.bytes_every(BYTE_EVERY, drip.server_hello())


def ehlo_after_tls_lines(drip):
    drip.up_to_starttls()
    drip.start_tls()
    drip.read_line()
    drip.lines_every(LINE_EVERY, "250-PIPELINING")


def auth_lines(drip):
    drip.up_to_starttls()
    drip.start_tls()
    drip.read_line()
    drip.send("250-mx.b.test\r\n250 AUTH PLAIN LOGIN\r\n")
    drip.read_line()
    drip.lines_every(LINE_EVERY, "535-5.7.8 still thinking")


def auth_login_prompts(drip):
    """Each AUTH LOGIN prompt comes just inside the timeout; the exchange as a whole does not."""
    drip.up_to_starttls()
    drip.start_tls()
    drip.read_line()
    drip.send("250-mx.b.test\r\n250 AUTH LOGIN\r\n")
    for prompt in ("334 VXNlcm5hbWU6", "334 UGFzc3dvcmQ6", "235 2.7.0 Authentication successful"):
        drip.read_line()
        if drip.stop.wait(TIMEOUT * 0.6):
            return
        drip.send(prompt + "\r\n")


DRIP_CASES = [
    # case, script, stage, what the message says we waited for, params
    ("greeting, a line every 0.3 s", greeting_lines, "banner", "the greeting", {}),
    ("greeting, a byte every 0.1 s", greeting_bytes, "banner", "the greeting", {}),
    ("EHLO reply, a line every 0.3 s", ehlo_lines, "ehlo", "the reply to EHLO", {}),
    ("STARTTLS reply, a byte every 0.1 s", starttls_bytes, "starttls", "the reply to STARTTLS", {}),
    ("handshake stalls", handshake_stalls, "handshake", "the TLS handshake", {}),
    ("handshake, a byte every 0.1 s", handshake_bytes, "handshake", "the TLS handshake", {}),
    ("EHLO after TLS, a line every 0.3 s", ehlo_after_tls_lines, "ehlo_tls", "the reply to EHLO", {}),
    ("AUTH reply, a line every 0.3 s", auth_lines, "auth", "the AUTH exchange",
     {"username": "a-example", "password": "s3cret pass"}),
    ("AUTH LOGIN, each prompt late", auth_login_prompts, "auth", "the AUTH exchange",
     {"username": "a-example", "password": "s3cret pass"}),
]

ENDED_AFTER = {}  # case -> seconds, printed by test_report_end_times


@pytest.mark.parametrize(("case", "script", "stage", "what", "params"), DRIP_CASES, ids=[c[0] for c in DRIP_CASES])
def test_a_drip_feeding_server_cannot_hold_the_probe(tls_files, case, script, stage, what, params):
    chain_file, key_file = tls_files
    with DripServer(script, chain_file, key_file) as srv:
        started = time.monotonic()
        result = probe.run({"host": "127.0.0.1", "port": srv.port, "timeout": TIMEOUT, "helo_name": "mx.a.test",
                            **params})
        elapsed = time.monotonic() - started
    ENDED_AFTER[case] = elapsed
    assert (result["status"], result["stage"]) == ("timeout", stage), result["message"]
    assert result["message"] == f"timed out waiting for {what} from 127.0.0.1 port {srv.port} after 1 s"
    assert TIMEOUT * 0.9 <= elapsed < TIMEOUT + MARGIN, f"{case}: ended after {elapsed:.2f} s"


def test_report_end_times(capsys):
    with capsys.disabled():
        for case, seconds in ENDED_AFTER.items():
            print(f"\n  {case}: probe ended after {seconds:.2f} s (timeout {TIMEOUT:g} s)", end="")


def test_the_connection_has_a_deadline_too():
    """A listener whose backlog is full drops our SYN; connect() waits, but no longer than the timeout."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        for _unused in range(4):  # fill the accept queue; further SYNs are dropped
            filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
            fillers.append(filler)
        time.sleep(0.1)
        started = time.monotonic()
        with pytest.raises(smtp.StepTimeout, match=r"timed out waiting for the connection after 0\.5 s"):
            smtp.connect("127.0.0.1", port, 0.5).close()
        assert time.monotonic() - started < 0.5 + MARGIN
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


def test_a_spent_deadline_refuses_the_next_socket_call():
    deadline = smtp.Deadline("the greeting", 0.05)
    time.sleep(0.06)
    left, right = socket.socketpair()
    with left, right, pytest.raises(smtp.StepTimeout, match=r"the greeting after 0\.05 s"):
        deadline.arm(left)
