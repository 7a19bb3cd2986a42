"""The health role's settings: errors naming the role variable, and the check's configuration from the model."""

import copy

import pytest

from ansible_collections.partnermail.links.plugins.module_utils._health import check, logparse, settings
from ansible_collections.partnermail.links.plugins.module_utils._model import validate_model

from .test_report import INVENTORY

SETTINGS = {"enabled": True, "interval_minutes": 1, "alert_threshold_minutes": 60, "alert_to": None,
            "node_exporter": False, "textfile_dir": "/var/lib/prometheus/node-exporter",
            "probe_interval_minutes": 15, "probe_timeout": 10, "log_file": "/var/log/mail.log",
            "state_dir": "/var/lib/partnermail-health", "certificate_file": "/etc/partnermail/tls/mta-chain.pem",
            "trust_dir": "/etc/postfix/partnermail/trust"}


@pytest.fixture
def model():
    inventory = copy.deepcopy(INVENTORY)
    inventory["partnermail_partners"][0]["domains"].append(".b.test")
    inventory["partnermail_partners"][0]["connectors"] = [{"cost": 5, "host": "backup.b.test", "port": 2525}]
    return validate_model(inventory)


def test_the_defaults_are_usable_and_mail_the_postmaster_of_the_first_domain(model):
    assert settings.settings_errors(model, SETTINGS) == []
    config = settings.build_config(model, SETTINGS)
    assert config["alert"] == {"threshold_seconds": 3600, "to": ["postmaster@a.test"],
                               "from": "partnermail-health@mx.a.test", "hostname": "mx.a.test"}
    assert config["partner_domains"] == {"b.test": "b", "b2.test": "b", ".b.test": "b", "d.test": "d"}
    assert config["certificates"] == [
        {"certificate": "own", "path": "/etc/partnermail/tls/mta-chain.pem"},
        {"certificate": "trust_anchor", "partner": "b", "path": "/etc/postfix/partnermail/trust/b.pem"}]
    assert config["textfile_path"] == "/var/lib/prometheus/node-exporter/partnermail.prom"
    assert config["policy_probe"]["partners"] == []
    assert config["tls_requirements"] == {"b": "verified", "d": "verified"}
    check.load_config(config)  # what the program will accept


@pytest.mark.parametrize(("level", "requirement"), [
    ("encrypt", "encrypted"), ("verify", "verified"), ("secure", "verified"), ("fingerprint", "verified"),
    ("dane-only", "verified")])
def test_each_partner_level_asks_its_deliveries_for(level, requirement):
    assert logparse.requirement(level) == requirement


def test_a_partner_in_test_mode_has_no_tls_requirement(model):
    model["partnermail_partners"][1]["mode"] = "test"
    model["partnermail_partners"][0]["tls"]["level"] = "encrypt"
    assert settings.build_config(model, SETTINGS)["tls_requirements"] == {"b": "encrypted"}


def test_partners_in_test_mode_are_probed_with_their_model_entry(model):
    model["partnermail_partners"][1]["mode"] = "test"
    config = settings.build_config(model, SETTINGS)
    assert [partner["name"] for partner in config["policy_probe"]["partners"]] == ["d"]
    assert config["policy_probe"]["partners"][0]["outbound_auth"]["password"] == "Out-To-D-secret-1"
    assert "inbound_auth" not in config["policy_probe"]["partners"][0]
    assert "In-From-D-secret-1" not in repr(config)
    assert (config["policy_probe"]["interval_seconds"], config["policy_probe"]["timeout"]) == (900, 10)
    assert config["tls_requirements"] == {"b": "verified"}
    check.load_config(config)


@pytest.mark.parametrize(("change", "field"), [
    ({"alert_to": ["ops@b.test"]}, "health_alert_to[0]: ops@b.test is in the domains of partner b"),
    ({"alert_to": ["ops@mx.b.test"]}, "health_alert_to[0]: ops@mx.b.test is in the domains of partner b"),
    ({"alert_to": ["ops@a.test", "not an address"]}, "health_alert_to[1]: 'not an address' is not a mail address"),
    ({"alert_to": "ops@a.test"}, "health_alert_to: must be a list"),
    ({"interval_minutes": 0}, "health_interval_minutes: must be a whole number from 1 to 59"),
    ({"interval_minutes": "five"}, "health_interval_minutes: must be a whole number"),
    ({"alert_threshold_minutes": True}, "health_alert_threshold_minutes: must be a whole number"),
    ({"probe_timeout": 61}, "health_probe_timeout: must be a whole number from 1 to 60"),
    ({"probe_interval_minutes": -1}, "health_probe_interval_minutes: must be a whole number"),
    ({"textfile_dir": "relative/dir"}, "health_textfile_dir: must be an absolute path"),
    ({"log_file": "/var/log/../mail.log"}, "health_log_file: must be an absolute path"),
    ({"node_exporter": True, "textfile_dir": "/srv/prom"}, "health_textfile_dir: the node exporter the role"),
    ({"node_exporter": "maybe"}, "health_node_exporter: must be true or false"),
    ({"enabled": None}, "health_enabled: must be true or false"),
])
def test_bad_settings_name_the_variable(model, change, field):
    errors = settings.settings_errors(model, SETTINGS | change)
    assert any(error.startswith(field) for error in errors), errors


def test_no_alert_mail_is_a_choice(model):
    assert settings.settings_errors(model, SETTINGS | {"alert_to": []}) == []
    assert settings.build_config(model, SETTINGS | {"alert_to": []})["alert"]["to"] == []


def test_extra_vars_strings_are_taken_for_what_they_say(model):
    given = SETTINGS | {"enabled": "false", "node_exporter": "yes", "interval_minutes": "5",
                        "alert_threshold_minutes": "2"}
    assert settings.settings_errors(model, given) == []
    assert settings.normalise(given)["enabled"] is False and settings.normalise(given)["node_exporter"] is True
    assert settings.build_config(model, given)["alert"]["threshold_seconds"] == 120
