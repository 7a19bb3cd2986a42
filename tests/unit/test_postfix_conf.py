"""main.cf and master.cf of a partnermail MTA, read as data."""

import copy
import re
from pathlib import Path

import pytest

from ansible_collections.partnermail.links.plugins.module_utils import _postfix_conf as conf
from ansible_collections.partnermail.links.plugins.module_utils import _render
from ansible_collections.partnermail.links.plugins.module_utils._model import validate_model

INVENTORY = {
    "partnermail_hostname": "mx.a.test",
    "partnermail_domains": ["a.test", "a2.test"],
    "partnermail_delivery": {"mode": "virtual", "mailboxes": ["alice", "postmaster"]},
    "partnermail_partners": [
        {
            "name": "b",
            "domains": ["b.test"],
            "connectors": [{"cost": 1, "via": "dns"}, {"cost": 5, "host": "backup.b.test", "port": 2525}],
            "tls": {"level": "secure", "match": ["b.test"], "ca_file": "/ca/b.pem"},
            "outbound_auth": {"username": "a-test", "password": "Out-To-B-secret-1"},
            "inbound_auth": {"username": "b-test", "password": "In-From-B-secret-1"},
        }
    ],
}
BASE = [{"name": "smtp", "type": "inet", "private": "n", "unpriv": "-", "chroot": "n", "wakeup": "-",
         "maxproc": "-", "command": "smtpd"}]


@pytest.fixture
def model():
    return validate_model(copy.deepcopy(INVENTORY))


def parse_main_cf(text):
    params = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _sep, value = line.partition(" =")
            params[name] = value.strip()
    return params


def test_main_cf_is_sorted_and_complete(model):
    text = conf.main_cf(model)
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    assert lines == sorted(lines)
    assert parse_main_cf(text) == conf.main_cf_params(model)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("smtpd_tls_auth_only", "yes"),
        ("smtpd_tls_protocols", ">=TLSv1.2"),
        ("smtpd_tls_mandatory_protocols", ">=TLSv1.2"),
        ("smtp_tls_connection_reuse", "yes"),
        ("smtpd_sasl_type", "dovecot"),
        ("smtpd_sasl_authenticated_header", "yes"),
        ("smtpd_tls_received_header", "yes"),
        ("smtpd_sender_restrictions", "reject_authenticated_sender_login_mismatch, permit_sasl_authenticated, "
         "permit_mynetworks, check_sender_access pcre:/etc/postfix/partnermail/sender_allowances.pcre, "
         "check_sender_access pcre:/etc/postfix/partnermail/protected_senders.pcre"),
        ("smtpd_tls_exclude_ciphers", "aNULL"),
        ("tls_preempt_cipherlist", "yes"),
        ("smtpd_sender_login_maps", "pcre:/etc/postfix/partnermail/sender_logins.pcre"),
        ("smtp_tls_policy_maps", "hash:/etc/postfix/partnermail/tls_policy"),
        ("transport_maps", "hash:/etc/postfix/partnermail/transport"),
        ("smtp_sasl_auth_soft_bounce", "yes"),
        ("virtual_mailbox_domains", "a.test, a2.test"),
        ("smtp_tls_security_level", "may"),
    ],
)
def test_main_cf_settings_the_link_relies_on(model, name, value):
    assert conf.main_cf_params(model)[name] == value


def test_authentication_never_grants_relaying(model):
    params = conf.main_cf_params(model)
    for name in ("smtpd_relay_restrictions", "smtpd_recipient_restrictions"):
        assert "permit_sasl_authenticated" not in params[name]
        assert params[name].endswith("reject_unauth_destination")
    assert params["mynetworks"] == "127.0.0.0/8 [::1]/128"


def test_relay_delivery_mode(model):
    inventory = copy.deepcopy(INVENTORY)
    inventory["partnermail_delivery"] = {"mode": "relay", "nexthop": "[mailstore.internal]:25"}
    params = conf.main_cf_params(validate_model(inventory))
    assert params["relay_domains"] == "a.test, a2.test"
    assert "virtual_mailbox_domains" not in params
    assert conf.vmailbox_map(validate_model(inventory)) == conf.HEADER


def test_extra_parameters_replace_ours(model):
    params = conf.main_cf_params(model, {"extra": {"smtpd_tls_loglevel": 2, "message_size_limit": 1000}})
    assert params["smtpd_tls_loglevel"] == "2"
    assert params["message_size_limit"] == "1000"


def test_unknown_setting_is_refused(model):
    with pytest.raises(ValueError, match="unknown settings: mapdir"):
        conf.main_cf_params(model, {"mapdir": "/x"})


def test_master_cf_has_partner_transport_and_listener_without_tls_startup_overrides(model):
    text = conf.master_cf(model, copy.deepcopy(BASE), {"partner_ports": [2525]})
    assert "\npartner    unix  -       -       n       -       -       smtp\n" in text
    assert "\n2525       inet  n       -       n       -       -       smtpd\n" in text
    # Per-transport TLS start-up settings would break tlsproxy connection reuse.
    for setting in ("smtp_tls_CAfile", "smtp_tls_cert_file", "smtp_tls_key_file", "smtp_tls_chain_files",
                    "smtp_tls_loglevel", "smtp_tls_session_cache_database"):
        assert setting not in text
    assert "-o smtp_tls_security_level=encrypt" in text


@pytest.mark.parametrize(("release", "honours_header"), [("12", False), ("13", True)])
def test_master_cf_of_each_release_keeps_partner_tls_and_password_from_a_message_header(model, release, honours_header):
    """Debian 13's Postfix honours "TLS-Required: no" unless the transport says no; Debian 12's knows no such setting
    (postconf would warn about an unused parameter). The release's vars file says which Postfix it has."""
    import yaml  # noqa: PLC0415

    root = Path(__file__).resolve().parents[2]
    version = yaml.safe_load((root / f"roles/postfix/vars/Debian_{release}.yml").read_text())["__postfix_version"]
    text = conf.master_cf(model, copy.deepcopy(BASE), {"postfix_version": version})
    partner = re.search(r"^partner +unix .*\n(?:  -o .*\n)*", text, re.M)[0]
    assert ("-o tls_required_enable=no" in partner) is honours_header, partner
    assert text.count("tls_required_enable") == int(honours_header)  # on the partner transport only
    assert "-o smtp_sasl_security_options=noanonymous,noplaintext,nodictionary" in partner
    assert "-o smtp_sasl_tls_security_options=noanonymous" in partner


def test_main_cf_leaves_the_internet_connector_its_rfc_8689_behaviour(model):
    # The Internet connector keeps Postfix's default (TLS-RPT and other reports about broken TLS still get out).
    assert "tls_required_enable" not in conf.main_cf_params(model)


def test_vmailbox_map(model):
    rows = [line for line in conf.vmailbox_map(model).splitlines() if not line.startswith("#")]
    assert rows == [
        "alice@a.test\ta.test/alice/",
        "alice@a2.test\ta2.test/alice/",
        "postmaster@a.test\ta.test/postmaster/",
        "postmaster@a2.test\ta2.test/postmaster/",
    ]


def test_no_partner_means_no_partner_service():
    inventory = copy.deepcopy(INVENTORY)
    inventory["partnermail_partners"] = []
    text = conf.master_cf(validate_model(inventory), copy.deepcopy(BASE))
    assert [line.split()[0] for line in text.splitlines() if line[:1].isalnum()] == ["smtp"]


def numbered_partners(count):
    """An inventory with `count` partners p0..p<count-1>, each with its own domain, hosts and logins."""
    inventory = copy.deepcopy(INVENTORY)
    template = inventory["partnermail_partners"][0]
    inventory["partnermail_partners"] = [
        template | {
            "name": f"p{i}",
            "domains": [f"p{i}.test"],
            "connectors": [{"cost": 1, "via": "dns"}, {"cost": 5, "host": f"backup.p{i}.test", "port": 2525}],
            "inbound_auth": {"username": f"p{i}-login", "password": "In-From-P-secret-1"},
        }
        for i in range(count)
    ]
    return validate_model(inventory)


def test_master_cf_does_not_grow_with_partners():
    """One partner or two hundred: the same master.cf (a clone per partner made every postconf call slow)."""
    one, many = numbered_partners(1), numbered_partners(200)
    assert conf.master_cf(one, copy.deepcopy(BASE)) == conf.master_cf(many, copy.deepcopy(BASE))
    transports = {row.split("\t")[1].split(":")[0] for row in _render.transport_map(many).splitlines()[1:]}
    assert transports == {"partner"}


def test_sender_allowances_become_restriction_classes(model):
    inventory = copy.deepcopy(INVENTORY) | {"partnermail_sender_allowances": [
        {"name": "news", "senders": ["news@a.test"], "clients": ["198.51.100.0/24", "2001:db8::/32"]},
        {"name": "crm", "senders": ["a2.test"], "clients": ["203.0.113.9"]}]}
    params = conf.main_cf_params(validate_model(inventory))
    assert params["smtpd_restriction_classes"] == (
        "partnermail_allowance_crm, partnermail_allowance_news, partnermail_partner_sender, "
        "partnermail_partner_test_sender")
    assert params["partnermail_allowance_news"] == (
        "check_client_access cidr:{ {198.51.100.0/24 OK}, {2001:db8::/32 OK} }")
    assert params["partnermail_allowance_crm"] == "check_client_access cidr:{ {203.0.113.9/32 OK} }"
    assert conf.main_cf_params(model)["smtpd_restriction_classes"] == (
        "partnermail_partner_sender, partnermail_partner_test_sender")


def test_partner_listeners_require_tls_with_high_ciphers():
    (service,) = conf.listener_services({"partner_ports": [2525]})
    assert ("smtpd_tls_security_level", "encrypt") in service["options"]
    assert ("smtpd_tls_mandatory_ciphers", "high") in service["options"]


def _services(text):
    """master.cf's services: (name, type) -> the eight columns."""
    return {tuple(line.split()[:2]): line.split()[:8] for line in text.splitlines() if line[:1].isalnum()}


def test_postscreen_stands_in_front_of_port_25_and_hands_off_to_smtpd(model):
    services = _services(conf.master_cf(model, copy.deepcopy(BASE), {"postscreen": True, "partner_ports": [2525]}))
    assert services[("smtp", "inet")] == ["smtp", "inet", "n", "-", "n", "-", "1", "postscreen"]
    assert services[("smtpd", "pass")] == ["smtpd", "pass", "-", "-", "n", "-", "-", "smtpd"]
    assert services[("dnsblog", "unix")] == ["dnsblog", "unix", "-", "-", "n", "-", "0", "dnsblog"]
    # A partner on a listener of its own never meets postscreen.
    assert services[("2525", "inet")][7] == "smtpd"


def test_without_postscreen_port_25_is_smtpd_itself(model):
    services = _services(conf.master_cf(model, copy.deepcopy(BASE)))
    assert services[("smtp", "inet")][7] == "smtpd"
    assert ("smtpd", "pass") not in services and ("dnsblog", "unix") not in services


# ---------------------------------------------------------------- partners identified by certificate or network

PIN = ":".join(["5C"] * 32)


def identity_model(**partner):
    data = copy.deepcopy(INVENTORY)
    data["partnermail_partners"].append({
        "name": "c", "domains": ["c.test"], "connectors": [{"cost": 1, "via": "dns"}],
        "inbound_certificate": {"fingerprints": [PIN]}, "inbound_networks": ["198.51.100.0/24"]} | partner)
    return validate_model(data)


def test_a_pinned_partner_gets_its_class_and_client_certificates_are_asked_for(model):
    params = conf.main_cf_params(identity_model())
    assert params["smtpd_tls_ask_ccert"] == "yes"
    assert params["smtpd_tls_fingerprint_digest"] == "sha256"
    assert "partnermail_identity_c" in params["smtpd_restriction_classes"].split(", ")
    assert params["partnermail_identity_c"].startswith("permit_mynetworks, reject_authenticated_sender_login_mismatch")
    assert f"inline:{{ {PIN}=OK }}" in params["partnermail_identity_c"]
    # Not asked where no partner is pinned: port 25 stays as it was for the rest of the Internet.
    assert "smtpd_tls_ask_ccert" not in conf.main_cf_params(model)
    assert "smtpd_tls_ask_ccert" not in conf.main_cf_params(identity_model(inbound_certificate=None))


def test_main_cf_is_the_same_in_either_mode_of_an_identified_partner():
    assert conf.main_cf(identity_model(mode="test")) == conf.main_cf(identity_model())


@pytest.mark.parametrize("mynetworks, networks, overlapping", [
    (["127.0.0.0/8", "[::1]/128"], ["198.51.100.0/24"], None),
    (["127.0.0.0/8", "198.51.100.128/25"], ["198.51.100.0/24"], "198.51.100.128/25"),
    (["10.0.0.0/8"], ["10.1.2.3"], "10.0.0.0/8"),
    (["[2001:db8::]/32"], ["2001:db8:7::/48"], "[2001:db8::]/32"),
    (["[2001:db8::]/32", "hash:/etc/postfix/network_table"], ["198.51.100.7"], None),
])
def test_a_partners_networks_may_not_overlap_mynetworks(mynetworks, networks, overlapping):
    errors = conf.extension_errors(identity_model(inbound_networks=networks), BASE, {"mynetworks": mynetworks})
    if overlapping is None:
        assert errors == []
    else:
        assert len(errors) == 1 and errors[0].startswith("partner c: inbound_networks[0]: ")
        assert f"overlaps postfix_mynetworks entry {overlapping}" in errors[0]


@pytest.mark.parametrize("name", ["smtpd_tls_ask_ccert", "smtpd_tls_fingerprint_digest", "partnermail_identity_c"])
def test_the_site_may_not_undo_the_certificate_binding(name):
    errors = conf.extension_errors(identity_model(), BASE, {"extra": {name: "no"}})
    assert len(errors) == 1 and errors[0].startswith(f"postfix_main_cf_extra.{name}: may not be set here"), errors


SUBMISSION = {"name": "submission", "type": "inet", "private": "n", "chroot": "n", "command": "smtpd",
              "options": {"syslog_name": "postfix/submission", "smtpd_tls_security_level": "encrypt"}}
CLEANUP = {"name": "pre-cleanup", "type": "unix", "command": "cleanup", "options": {}}


def test_the_sites_own_smtpd_services_do_not_ask_for_client_certificates():
    """Its users' mail programs are not asked for a certificate; our listeners (main.cf) are."""
    settings = {"services": [SUBMISSION, CLEANUP], "partner_ports": [2525]}
    text = conf.master_cf(identity_model(), BASE, settings)
    submission = text.split("\nsubmission ", 1)[1].split("\npre-cleanup", 1)[0]
    assert "-o smtpd_tls_ask_ccert=no" in submission
    assert text.count("smtpd_tls_ask_ccert") == 1
    assert "smtpd_tls_ask_ccert" not in conf.master_cf(validate_model(copy.deepcopy(INVENTORY)), BASE, settings)
