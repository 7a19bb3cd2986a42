"""_health.metrics and _health.certs: the exposition text, its atomic file, certificates' notAfter."""

import os
import stat
import subprocess
from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.partnermail.links.plugins.module_utils._health import certs, metrics

from .pki_helpers import NOW, make_ca, make_leaf, write_pem


def test_render_help_type_sorted_and_escaped():
    gauge = metrics.Family("partnermail_partner_queued_messages", metrics.GAUGE, "Queued.\nSecond line \\ here")
    gauge.add(2, partner="z").add(1, partner='a"b\\c\nd')
    counter = metrics.Family("partnermail_x_total", metrics.COUNTER, "Counted.").add(7)
    empty = metrics.Family("partnermail_empty", metrics.GAUGE, "Nothing.")
    assert metrics.render([gauge, counter, empty]) == (
        "# HELP partnermail_partner_queued_messages Queued.\\nSecond line \\\\ here\n"
        "# TYPE partnermail_partner_queued_messages gauge\n"
        'partnermail_partner_queued_messages{partner="a\\"b\\\\c\\nd"} 1\n'
        'partnermail_partner_queued_messages{partner="z"} 2\n'
        "# HELP partnermail_x_total Counted.\n"
        "# TYPE partnermail_x_total counter\n"
        "partnermail_x_total 7\n"
    )


@pytest.mark.parametrize(("value", "text"), [
    (True, "1"), (False, "0"), (3, "3"), (2.0, "2"), (1796172743.25, "1796172743.25"), (0.1, "0.1"),
    (float("nan"), "NaN"), (float("inf"), "+Inf"), (float("-inf"), "-Inf"),
])
def test_values(value, text):
    assert metrics.format_value(value) == text


def test_labels_in_a_fixed_order():
    family = metrics.Family("m", metrics.GAUGE, "h").add(1, reason="other", partner="b")
    assert metrics.render([family]).splitlines()[-1] == 'm{partner="b",reason="other"} 1'


def test_write_textfile_is_atomic_and_world_readable(tmp_path):
    path = tmp_path / "partnermail.prom"
    path.write_text("old\n")
    os.chmod(path, 0o600)
    metrics.write_textfile(str(path), "new\n")
    assert path.read_text() == "new\n"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    assert os.listdir(tmp_path) == ["partnermail.prom"]  # no temporary file left behind
    with pytest.raises(FileNotFoundError):
        metrics.write_textfile(str(tmp_path / "missing" / "x.prom"), "x\n")


def _openssl_enddate(path):
    out = subprocess.run(["openssl", "x509", "-enddate", "-noout", "-in", path], capture_output=True, text=True,
                         check=True).stdout.strip().split("=", 1)[1]
    return datetime.strptime(out, "%b %d %H:%M:%S %Y %Z").replace(tzinfo=timezone.utc).timestamp()


@pytest.mark.parametrize("valid_days", [1, 365, 9000])  # 9000 days: after 2049, a GeneralizedTime
def test_not_after_agrees_with_openssl(tmp_path, valid_days):
    ca_key, ca_cert, _unused = make_ca(valid_days=10000)
    _unused, cert, _unused = make_leaf(ca_key, ca_cert, valid_days=valid_days)
    path = write_pem(tmp_path / "leaf.pem", cert)
    expected = (NOW + timedelta(days=valid_days)).timestamp()
    assert certs.file_expiry(path) == _openssl_enddate(path)
    assert abs(certs.file_expiry(path) - expected) < 86400 * 2


def test_a_bundle_reports_its_earliest_certificate(tmp_path):
    ca_key, ca_cert, _unused = make_ca(valid_days=3650)
    _unused, short, _unused = make_leaf(ca_key, ca_cert, valid_days=10)
    path = tmp_path / "bundle.pem"
    path.write_text(open(write_pem(tmp_path / "ca.pem", ca_cert)).read() + "garbage between\n" +
                    open(write_pem(tmp_path / "short.pem", short)).read())
    assert certs.pem_not_after(path.read_bytes())[0] == _openssl_enddate(str(tmp_path / "ca.pem"))
    assert certs.file_expiry(str(path)) == _openssl_enddate(str(tmp_path / "short.pem"))


@pytest.mark.parametrize("data", [
    b"",
    b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
    b"-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----\n",  # SEQUENCE { INTEGER 1 }
    b"-----BEGIN CERTIFICATE-----\nMIIBAA==\n-----END CERTIFICATE-----\n",  # a length past the end
])
def test_not_a_certificate(data):
    with pytest.raises(certs.CertificateError):
        certs.pem_not_after(data)
