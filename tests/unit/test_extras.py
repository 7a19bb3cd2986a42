"""The site's extension points: what a server that already runs needs, and what may never weaken the links."""

import copy
from pathlib import Path

import pytest
import yaml

from ansible_collections.partnermail.links.plugins.module_utils import _extras, _render
from ansible_collections.partnermail.links.plugins.module_utils import _postfix_conf as conf
from ansible_collections.partnermail.links.plugins.module_utils._model import validate_model
from tests.unit.test_postfix_conf import INVENTORY

ROOT = Path(__file__).resolve().parents[2]
POSTFIX_VARS = yaml.safe_load((ROOT / "roles/postfix/vars/main.yml").read_text())
BASE = POSTFIX_VARS["__postfix_base_services"]

SUBMISSION = {
    "name": "submission", "type": "inet", "private": "n", "chroot": "n", "command": "smtpd",
    "options": {
        "syslog_name": "postfix/submission",
        "smtpd_tls_security_level": "encrypt",
        "smtpd_sasl_service": "smtp",
        "smtpd_sender_restrictions": "reject_sender_login_mismatch",
        "smtpd_relay_restrictions": "permit_sasl_authenticated, reject",
        "smtpd_recipient_restrictions": "",
    },
}
REINJECTION = {
    "name": "127.0.0.1:10025", "type": "inet", "private": "n", "chroot": "n", "command": "smtpd",
    "options": {"content_filter": "", "smtpd_sasl_auth_enable": "no",
                "smtpd_relay_restrictions": "permit_mynetworks, reject",
                "receive_override_options": "no_unknown_recipient_checks"},
}


@pytest.fixture
def model():
    return validate_model(copy.deepcopy(INVENTORY))


def errors(model, **settings):
    return conf.extension_errors(model, copy.deepcopy(BASE), settings)


@pytest.mark.parametrize(("settings", "field", "words"), [
    ({"extra": {"smtpd_tls_auth_only": "no"}}, "postfix_main_cf_extra.smtpd_tls_auth_only", "after STARTTLS"),
    ({"extra": {"smtpd_sender_restrictions": "permit"}}, "postfix_main_cf_extra.smtpd_sender_restrictions",
     "postfix_restrictions_extra.sender"),
    ({"extra": {"smtpd_relay_restrictions": "permit"}}, "postfix_main_cf_extra.smtpd_relay_restrictions", "relaying"),
    ({"extra": {"smtp_tls_policy_maps": "hash:/x"}}, "postfix_main_cf_extra.smtp_tls_policy_maps", "model"),
    ({"extra": {"smtp_tls_security_level": "none"}}, "postfix_main_cf_extra.smtp_tls_security_level",
     "partnermail_internet.tls_level"),
    ({"extra": {"smtpd_sasl_service": "smtp"}}, "postfix_main_cf_extra.smtpd_sasl_service", "partners' logins"),
    ({"extra": {"smtp_tls_mandatory_ciphers": "low"}}, "postfix_main_cf_extra.smtp_tls_mandatory_ciphers",
     "cipher floor"),
    ({"extra": {"smtpd_client_restrictions": "permit"}}, "postfix_main_cf_extra.smtpd_client_restrictions",
     "postfix_restrictions_extra.client"),
    ({"extra": {"Bad-Name": "1"}}, "postfix_main_cf_extra.Bad-Name", "not a Postfix parameter name"),
    ({"extra": {"partnermail_partner_sender": "permit"}}, "postfix_main_cf_extra.partnermail_partner_sender",
     "restriction classes"),
    ({"extra": {"partnermail_partner_test_sender": "permit"}},
     "postfix_main_cf_extra.partnermail_partner_test_sender", "restriction classes"),
    ({"extra": {"partnermail_allowance_news": "permit"}}, "postfix_main_cf_extra.partnermail_allowance_news",
     "restriction classes"),
    ({"services": [SUBMISSION | {"options": {"partnermail_partner_sender": "permit"}}]},
     "postfix_master_cf_extra[0] (submission).options.partnermail_partner_sender", "restriction classes"),
    ({"extra": {"message_size_limit": ["1"]}}, "postfix_main_cf_extra.message_size_limit", "string"),
    ({"extra": {"smtpd_banner": "a\nb"}}, "postfix_main_cf_extra.smtpd_banner", "one line"),
    ({"extra": ["x"]}, "postfix_main_cf_extra", "mapping"),
    ({"restrictions": {"sender": ["reject_unknown_sender_domain, permit"]}}, "postfix_restrictions_extra.sender[0]",
     "one restriction"),
    ({"restrictions": {"sender": [""]}}, "postfix_restrictions_extra.sender[0]", "non-empty"),
    ({"restrictions": {"recipients": []}}, "postfix_restrictions_extra.recipients", "not a restriction stage"),
    ({"restrictions": {"relay": "permit"}}, "postfix_restrictions_extra.relay", "list"),
    ({"services": [{"name": "smtp", "type": "inet", "command": "smtpd"}]}, "postfix_master_cf_extra[0] (smtp)",
     "service of partnermail.links"),
    ({"services": [{"name": "partner", "type": "unix", "command": "smtp"}]}, "postfix_master_cf_extra[0] (partner)",
     "service of partnermail.links"),
    ({"services": [SUBMISSION, SUBMISSION]}, "postfix_master_cf_extra[1] (submission)", "twice"),
    ({"services": [{"name": "x", "type": "tcp", "command": "smtpd"}]}, "postfix_master_cf_extra[0] (x).type",
     "inet"),
    ({"services": [{"name": "x", "type": "inet"}]}, "postfix_master_cf_extra[0] (x).command", "command line"),
    ({"services": [{"type": "inet", "command": "smtpd"}]}, "postfix_master_cf_extra[0].name", "service name"),
    ({"services": [{"name": "x", "type": "inet", "command": "smtpd", "chroot": "yes"}]},
     "postfix_master_cf_extra[0] (x).chroot", "does not accept"),
    ({"services": [{"name": "x", "type": "inet", "command": "smtpd", "wakeup": "often"}]},
     "postfix_master_cf_extra[0] (x).wakeup", "does not accept"),
    ({"services": [{"name": "x", "type": "inet", "command": "smtpd", "port": 587}]},
     "postfix_master_cf_extra[0].port", "not a master.cf service field"),
    ({"services": [SUBMISSION | {"options": {"smtpd_relay_restrictions": "permit_sasl_authenticated, reject"}}]},
     "postfix_master_cf_extra[0] (submission).options.smtpd_relay_restrictions", "partner's login relay"),
    ({"services": [SUBMISSION | {"options": {"smtpd_sasl_service": "smtp", "smtpd_recipient_restrictions": "permit"}}]},
     "postfix_master_cf_extra[0] (submission).options.smtpd_recipient_restrictions", "open relay"),
    ({"services": [SUBMISSION | {"options": {"smtpd_tls_auth_only": "no"}}]},
     "postfix_master_cf_extra[0] (submission).options.smtpd_tls_auth_only", "after STARTTLS"),
    ({"services": [SUBMISSION | {"options": {"smtpd_tls_security_level": "none"}}]},
     "postfix_master_cf_extra[0] (submission).options.smtpd_tls_security_level", "start TLS"),
    ({"services": [SUBMISSION | {"options": {"smtpd_sender_login_maps": "hash:/x"}}]},
     "postfix_master_cf_extra[0] (submission).options.smtpd_sender_login_maps", "sender binding"),
    ({"services": [SUBMISSION | {"options": {"smtp_tls_policy_maps": "hash:/x"}}]},
     "postfix_master_cf_extra[0] (submission).options.smtp_tls_policy_maps", "model"),
    ({"services": {"name": "x"}}, "postfix_master_cf_extra", "list"),
    ({"extra": {"postscreen_tls_security_level": "none"}}, "postfix_main_cf_extra.postscreen_tls_security_level",
     "start TLS"),
    # With postscreen in front of port 25, its hand-off and DNSBL services are ours too.
    ({"postscreen": True, "services": [{"name": "smtpd", "type": "pass", "command": "smtpd"}]},
     "postfix_master_cf_extra[0] (smtpd)", "smtpd/pass is a service of partnermail.links itself"),
    ({"postscreen": True, "services": [{"name": "dnsblog", "type": "unix", "command": "dnsblog"}]},
     "postfix_master_cf_extra[0] (dnsblog)", "dnsblog/unix is a service of partnermail.links itself"),
])
def test_refused_extension_names_the_field(model, settings, field, words):
    found = errors(model, **settings)
    assert any(line.startswith(f"{field}: ") and words in line for line in found), found


def test_a_server_that_already_runs_can_be_expressed(model):
    settings = {
        "extra": {"message_size_limit": 52428800, "smtpd_milters": "inet:127.0.0.1:11332",
                  "milter_default_action": "accept", "smtpd_tls_loglevel": 2},
        "restrictions": {"recipient": ["check_policy_service unix:private/policy"],
                         "sender": ["reject_unknown_sender_domain"]},
        "services": [SUBMISSION, REINJECTION],
    }
    assert errors(model, **settings) == []
    params = conf.main_cf_params(model, settings)
    assert params["message_size_limit"] == "52428800"
    assert params["smtpd_milters"] == "inet:127.0.0.1:11332"
    # Additions come after our rules, which stay whole and first.
    assert params["smtpd_recipient_restrictions"] == (
        "permit_mynetworks, reject_unauth_destination, check_policy_service unix:private/policy")
    assert params["smtpd_sender_restrictions"].startswith("reject_authenticated_sender_login_mismatch, ")
    assert params["smtpd_sender_restrictions"].endswith("protected_senders.pcre, reject_unknown_sender_domain")
    text = conf.master_cf(model, copy.deepcopy(BASE), settings)
    ours, _sep, site = text.partition("\nsubmission ")
    assert "partner    unix" in ours and "127.0.0.1:10025" not in ours
    assert "  -o smtpd_sasl_service=smtp\n" in site
    assert ("  -o { smtpd_sender_restrictions = check_sender_access pcre:/etc/postfix/partnermail/partner_senders.pcre,"
            " reject_sender_login_mismatch }\n") in site
    assert "127.0.0.1:10025 inet  n       -       n       -       -       smtpd\n" in site
    assert "  -o content_filter=\n" in site


def test_a_service_without_own_sender_list_inherits_the_binding(model):
    text = conf.master_cf(model, copy.deepcopy(BASE), {"services": [REINJECTION]})
    assert "smtpd_sender_restrictions" not in text
    assert conf.main_cf_params(model)["smtpd_sender_login_maps"].endswith("sender_logins.pcre")


def test_an_empty_sender_list_of_a_service_still_gets_the_partner_check(model):
    service = SUBMISSION | {"options": SUBMISSION["options"] | {"smtpd_sender_restrictions": ""}}
    text = conf.master_cf(model, copy.deepcopy(BASE), {"services": [service]})
    check = "check_sender_access pcre:/etc/postfix/partnermail/partner_senders.pcre"
    assert f"  -o {{ smtpd_sender_restrictions = {check} }}" in text


def test_rendering_refuses_what_validation_refuses(model):
    with pytest.raises(ValueError, match="smtpd_tls_auth_only"):
        conf.main_cf_params(model, {"extra": {"smtpd_tls_auth_only": "no"}})
    with pytest.raises(ValueError, match=r"service of partnermail\.links"):
        conf.master_cf(model, copy.deepcopy(BASE), {"services": [{"name": "smtp", "type": "inet", "command": "x"}]})


def test_partner_sender_map_sends_each_partner_domain_to_the_check(model):
    rows = _render.partner_sender_map(model).splitlines()[1:]
    assert rows == ["/@b\\.test$/\tpartnermail_partner_sender"]
    assert conf.main_cf_params(model)["partnermail_partner_sender"] == (
        "permit_mynetworks, reject_sender_login_mismatch")


def test_a_partner_in_test_mode_binds_only_logged_in_clients_on_the_sites_services(model):
    """As on port 25: a client that is not logged in goes on as Internet mail; one that is, only as the partner."""
    inventory = copy.deepcopy(INVENTORY)
    inventory["partnermail_partners"][0]["mode"] = "test"
    tested = validate_model(inventory)
    assert _render.partner_sender_map(tested).splitlines()[1:] == ["/@b\\.test$/\tpartnermail_partner_test_sender"]
    params = conf.main_cf_params(tested)
    assert params["partnermail_partner_test_sender"] == (
        "permit_mynetworks, reject_authenticated_sender_login_mismatch")
    # main.cf is the same in both modes: switching changes maps only.
    assert params == conf.main_cf_params(model)


def test_role_vars_name_the_same_sasl_socket_and_service():
    assert POSTFIX_VARS["__postfix_sasl_socket"] == f"/var/spool/postfix/{conf.SASL_PATH}"
    assert POSTFIX_VARS["__postfix_sasl_service"] == conf.SASL_SERVICE
    assert POSTFIX_VARS["__postfix_header"] == conf.HEADER.rstrip("\n")


def test_every_restriction_class_of_ours_has_the_refused_prefix(model):
    inventory = copy.deepcopy(INVENTORY) | {"partnermail_sender_allowances": [
        {"name": "news", "senders": ["news@a.test"], "clients": ["198.51.100.0/24"]}]}
    classes = conf.main_cf_params(validate_model(inventory))["smtpd_restriction_classes"].split(", ")
    assert len(classes) == 3
    assert all(name.startswith(_extras.CLASS_PREFIX) for name in classes), classes
