"""First-run safety, over the real output of the probe on Debian 12 and 13 (tests/unit/fixtures/takeover).

The fixtures were made by the takeover probe (then a shell script, now the takeover_probe module) in a container of
each release after `apt-get install postfix` ("fresh": the package's own main.cf and master.cf) and after a hand
configuration ("custom": message_size_limit, smtpd_milters and mynetworks set with postconf -e, a submission service
appended to master.cf), with our files rendered from tests/unit/test_postfix_conf.INVENTORY and message_size_limit as
an extra.
"""

from pathlib import Path

import pytest
import yaml

from ansible_collections.partnermail.links.plugins.module_utils import _takeover

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures" / "takeover"
RELEASES = ("12", "13")


def package(release):
    return yaml.safe_load((ROOT / f"roles/postfix/vars/Debian_{release}.yml").read_text())["__postfix_package_main_cf"]


def summary(release, kind, text=None):
    text = text if text is not None else (FIXTURES / f"debian{release}-{kind}.txt").read_text()
    return _takeover.summary(text, package(release), "mx1")


@pytest.mark.parametrize("release", RELEASES)
def test_the_packages_own_files_are_taken_over_without_asking(release):
    found = summary(release, "fresh")
    assert found["needs_consent"] == []
    assert found["files"]["main.cf"]["admin"] == found["files"]["master.cf"]["admin"] == []
    # Still somebody else's file: a copy is kept before it is replaced.
    assert found["foreign"] == ["main.cf", "master.cf"]


@pytest.mark.parametrize("release", RELEASES)
def test_a_hand_configured_server_needs_consent_and_the_refusal_names_what_would_be_lost(release):
    found = summary(release, "custom")
    assert found["needs_consent"] == ["main.cf", "master.cf"]
    assert found["files"]["main.cf"]["admin"] == ["message_size_limit", "mynetworks", "smtpd_milters"]
    # message_size_limit is expressed as an extra, so it is no loss; the other two are. So are the installer's
    # per-host values our file changes (they alone never ask for consent): the server's name, and the domains
    # that were delivered to local users.
    assert found["files"]["main.cf"]["lost"] == [
        "mydestination = $myhostname, mx1.example.test, localhost.example.test, , localhost (ours: $myhostname, "
        "localhost): local delivery ends for localhost.example.test, mx1.example.test",
        "myhostname = mx1.example.test (ours: mx.a.test)",
        "mynetworks = 127.0.0.0/8 10.0.0.0/8 (ours: 127.0.0.0/8 [::1]/128)",
        "smtpd_milters = inet:127.0.0.1:11332 (dropped)",
    ]
    (lost,) = found["files"]["master.cf"]["lost"]
    assert lost.startswith("submission/inet (dropped): submission inet n - y - - smtpd -o syslog_name=")
    message = "\n".join(found["refusal"])
    assert message.startswith("mx1: ") and "nothing was changed" in message and "postfix_take_over" in message
    assert "/etc/postfix/main.cf: would lose:\n  mydestination = " in message
    assert "/etc/postfix/master.cf: would lose:\n  submission/inet (dropped)" in message


def test_no_file_is_a_fresh_install():
    text = "== state main.cf absent\n== state master.cf absent\n"
    found = _takeover.summary(text, package("13"), "mx1")
    assert found["needs_consent"] == found["foreign"] == []


def test_our_own_files_are_never_questioned():
    text = (FIXTURES / "debian13-custom.txt").read_text().replace("state main.cf foreign", "state main.cf ours")
    text = text.replace("state master.cf foreign", "state master.cf ours")
    found = _takeover.summary(text, package("13"), "mx1")
    assert found["needs_consent"] == found["foreign"] == []


def test_everything_expressed_still_needs_consent_but_names_no_loss():
    text = "\n".join([
        "== state main.cf foreign", "== state master.cf ours",
        "== current -n", "message_size_limit = 1000", "myhostname = mx.a.test", "mydestination = localhost",
        "== ours -n", "message_size_limit = 1000", "myhostname = mx.a.test", "mydestination = $myhostname, localhost",
    ])
    found = _takeover.summary(text, package("12"), "mx1")
    assert found["needs_consent"] == ["main.cf"]
    assert found["files"]["main.cf"]["lost"] == []
    assert "/etc/postfix/main.cf: every setting of it is expressed in the inventory" in found["refusal"]


@pytest.mark.parametrize(("theirs", "ours", "lost"), [
    # The same names however spelt: no loss.
    ("$myhostname, localhost", "${myhostname} localhost", None),
    ("mx.a.test, localhost", "$myhostname, localhost", None),
    # A domain of the admin's local users is named.
    ("$myhostname, a.test, localhost", "$myhostname, localhost", "local delivery ends for a.test"),
    ("$myhostname, hash:/etc/postfix/local_domains", "$myhostname", "local delivery ends for hash:/etc/postfix/local_"),
])
def test_mydestination_is_named_only_when_local_delivery_of_a_name_ends(theirs, ours, lost):
    text = "\n".join([
        "== state main.cf foreign", "== state master.cf ours",
        "== current -n", "message_size_limit = 1000", "myhostname = mx.a.test", f"mydestination = {theirs}",
        "== ours -n", "myhostname = mx.a.test", f"mydestination = {ours}",
    ])
    found = _takeover.summary(text, package("13"), "mx1")
    named = [item for item in found["files"]["main.cf"]["lost"] if item.startswith("mydestination")]
    if lost is None:
        assert named == []
    else:
        (item,) = named
        assert item.startswith(f"mydestination = {theirs} (ours: {ours}): ") and lost in item, item
