"""The README's variable tables and each role's defaults agree with meta/argument_specs.yml."""

import importlib.util
import pathlib

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("role_docs", ROOT / "scripts" / "role_docs.py")
role_docs = importlib.util.module_from_spec(spec)
spec.loader.exec_module(role_docs)


def test_readme_tables_are_generated_from_the_argument_specs():
    readme = (ROOT / "README.md").read_text()
    assert role_docs.section(readme) == role_docs.render().strip("\n"), "run scripts/role_docs.py --write"


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
