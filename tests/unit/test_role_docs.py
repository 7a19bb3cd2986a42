"""The README's variable tables and each role's defaults agree with meta/argument_specs.yml."""

import importlib.util
import pathlib

import pytest
import yaml

from ansible_collections.partnermail.links.plugins.module_utils import _model

ROOT = pathlib.Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("role_docs", ROOT / "scripts" / "role_docs.py")
role_docs = importlib.util.module_from_spec(spec)
spec.loader.exec_module(role_docs)


def test_readme_tables_are_generated_from_the_argument_specs():
    readme = (ROOT / "README.md").read_text()
    assert role_docs.section(readme) == role_docs.render().strip("\n"), "run scripts/role_docs.py --write"


@pytest.mark.parametrize("role", role_docs.ROLES)
def test_every_role_has_its_generated_readme(role):
    readme = ROOT / "roles" / role / "README.md"
    assert readme.exists(), f"roles/{role}/README.md is missing: run scripts/role_docs.py --write"
    assert readme.read_text() == role_docs.render_role_readme(role), "run scripts/role_docs.py --write"


def test_every_role_is_documented():
    # A directory is a role once it has tasks or meta: roles/health holds only its alert rules so far.
    roles = [p.name for p in (ROOT / "roles").iterdir() if (p / "tasks").is_dir() or (p / "meta").is_dir()]
    assert sorted(role_docs.ROLES) == sorted(roles)


@pytest.mark.parametrize("role", role_docs.ROLES)
def test_role_defaults_match_the_argument_spec(role):
    options = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())
    options = options["argument_specs"]["main"].get("options", {})
    defaults_file = ROOT / "roles" / role / "defaults" / "main.yml"
    defaults = (yaml.safe_load(defaults_file.read_text()) or {}) if defaults_file.exists() else {}
    for name, value in defaults.items():
        assert name in options, f"{role}: default {name} is not documented in argument_specs.yml"
        if isinstance(value, str) and "{{" in value:
            continue  # computed defaults are documented by their usual value
        assert options[name].get("default") == value, f"{role}: {name} default differs"
    for name, option in options.items():
        if name.startswith(role + "_") and "default" in option:
            assert name in defaults, f"{role}: {name} has a documented default but none in defaults/main.yml"


def _spec(role):
    return yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())[
        "argument_specs"]["main"]["options"]


def test_the_model_fields_are_declared_where_the_validator_reads_them():
    model = _spec("model")
    assert set(model) == set(_model.MODEL_KEYS)
    assert set(model["partnermail_sender_allowances"]["options"]) == set(_model.ALLOWANCE_KEYS)
    partner = _spec("partners")["partnermail_partners"]["options"]
    assert set(partner) == set(_model.PARTNER_KEYS)
    assert set(partner["connectors"]["options"]) == set(_model.CONNECTOR_KEYS)
    assert set(partner["tls"]["options"]) == set(_model.TLS_KEYS)
    assert set(partner["inbound_auth"]["options"]) == set(partner["outbound_auth"]["options"]) == set(_model.AUTH_KEYS)
    assert partner["mode"]["choices"] == list(_model.PARTNER_MODES)
    assert partner["mode"]["default"] == _model.DEFAULT_PARTNER_MODE


def test_link_report_takes_every_key_of_a_validated_partner():
    """The report role passes the validated partners to link_report as they are: a new key must be declared there."""
    source = (ROOT / "plugins" / "modules" / "link_report.py").read_text()
    documentation = yaml.safe_load(source.split('DOCUMENTATION = r"""', 1)[1].split('"""', 1)[0])
    suboptions = documentation["options"]["partners"]["suboptions"]
    partner = _model.validate_model({
        "partnermail_hostname": "mx.a.example", "partnermail_domains": ["a.example"],
        "partnermail_partners": [{
            "name": "b", "mode": "test", "domains": ["b.example"], "connectors": [{"cost": 1, "via": "dns"}],
            "outbound_auth": {"username": "a", "password": "Out-To-B-secret-1"},
            "inbound_auth": {"username": "b", "password": "In-From-B-secret-1"}}],
    })["partnermail_partners"][0]
    assert set(partner) == set(suboptions)
    assert suboptions["mode"]["choices"] == list(_model.PARTNER_MODES)
    assert suboptions["mode"]["default"] == _model.DEFAULT_PARTNER_MODE
