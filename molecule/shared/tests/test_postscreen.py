"""postfix_postscreen: postscreen in front of port 25; the partner link (b sends to a by MX, port 25) still holds."""

from __future__ import annotations

from mail import log_mark, send, token, wait_delivered, wait_log
from runner import playbook
from test_guards import swaks


def services(host) -> dict[str, str]:
    """master.cf's services as postconf -M prints them: 'name/type' -> the command."""
    found = {}
    for line in host.check_output("postconf -M").splitlines():
        words = line.split()
        found[f"{words[0]}/{words[1]}"] = words[7]
    return found


def test_postscreen_in_front_of_port_25_keeps_the_partner_link(hosts, pytestconfig, tmp_path):
    mx_a, mx_b, outsider = hosts("mx-a"), hosts("mx-b"), hosts("outsider")
    try:
        rc, out = playbook(pytestconfig, tmp_path, "site.yml", {"postfix_postscreen": True})
        assert rc == 0, out
        running = services(mx_a)
        assert running["smtp/inet"] == "postscreen", running
        assert running["smtpd/pass"] == "smtpd" and running["dnsblog/unix"] == "dnsblog", running
        # Postscreen says hello first, then hands the client to smtpd, which still offers STARTTLS.
        mark = log_mark(mx_a)
        ehlo = swaks(outsider, "--server mx.a.test", "--quit-after EHLO", quiet=False)
        assert "250-STARTTLS" in ehlo.stdout, ehlo.stdout
        wait_log(mx_a, mark, "postfix/postscreen")
        # The partner's mail arrives through postscreen, with TLS and b's login as ever.
        mark = log_mark(mx_a)
        tag = token()
        send(mx_b, "alice@b.test", "alice@a.test", tag)
        wait_delivered(mx_a, "alice@a.test", tag, flush=mx_b)
        log = wait_log(mx_a, mark, "sasl_username=")
        assert "postfix/postscreen" in log and "PASS" in log, log
        assert "sasl_username=b-test" in log, log
        # Nobody else may still send as the partner, postscreen or not.
        posing = swaks(outsider, "--server mx.a.test", "--from boss@b.test", "--to alice@a.test")
        assert posing.rc == 24 and "not logged in as the partner" in posing.stdout, posing.stdout
    finally:
        rc, out = playbook(pytestconfig, tmp_path, "site.yml")
    assert rc == 0, out
    running = services(mx_a)
    assert running["smtp/inet"] == "smtpd" and "smtpd/pass" not in running and "dnsblog/unix" not in running
