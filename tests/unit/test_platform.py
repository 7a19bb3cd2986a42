"""Supported platforms: the refusal message, and one table that roles, images and scenarios agree with."""

import pathlib
import re
import shutil
import subprocess

import pytest
import yaml

from ansible_collections.partnermail.links.plugins.module_utils import _platform, _render
from ansible_collections.partnermail.links.plugins.module_utils._pki import compat

ROOT = pathlib.Path(__file__).resolve().parents[2]
ROLES = sorted(path.name for path in (ROOT / "roles").iterdir() if (path / "meta" / "main.yml").exists())


def facts(distribution, version, release, major=None):
    return {
        "distribution": distribution,
        "distribution_version": version,
        "distribution_major_version": major or version.split(".")[0],
        "distribution_release": release,
    }


@pytest.mark.parametrize("given", [facts("Debian", "12.12", "bookworm"), facts("Debian", "13.2", "trixie")])
def test_supported_releases_pass(given):
    assert _platform.platform_errors("mx.a.test", given) == []


@pytest.mark.parametrize(
    ("given", "found"),
    [
        (facts("Debian", "11.11", "bullseye"), "Debian 11.11 (bullseye)"),
        (facts("Debian", "14", "forky"), "Debian 14 (forky)"),
        (facts("Debian", "n/a", "sid", major="n/a"), "Debian n/a (sid)"),
        (facts("Ubuntu", "24.04", "noble"), "Ubuntu 24.04 (noble)"),
        (facts("RedHat", "9.4", "Plow"), "RedHat 9.4 (Plow)"),
        ({}, "an unknown system"),
        (None, "an unknown system"),
    ],
)
def test_other_releases_are_refused_naming_host_release_and_supported(given, found):
    errors = _platform.platform_errors("mx.a.test", given)
    assert len(errors) == 1
    message = errors[0]
    assert message.startswith("mx.a.test runs ")
    assert found in message
    assert message.endswith("supported releases: Debian 12 (bookworm), Debian 13 (trixie)")


def test_every_role_declares_exactly_the_supported_releases():
    codenames = sorted(codename for releases in _platform.SUPPORTED.values() for codename in releases.values())
    for role in ROLES:
        meta = yaml.safe_load((ROOT / "roles" / role / "meta" / "main.yml").read_text())
        versions = sorted(v for p in meta["galaxy_info"]["platforms"] if p["name"] == "Debian" for v in p["versions"])
        assert versions == codenames, f"roles/{role}/meta/main.yml platforms"


def test_per_release_vars_exist_for_every_supported_release_and_no_other():
    wanted = {f"{dist}_{major}.yml" for dist, releases in _platform.SUPPORTED.items() for major in releases}
    for role in ROLES:
        found = {path.name for path in (ROOT / "roles" / role / "vars").glob("*_*.yml")}
        if found:
            assert found == wanted, f"roles/{role}/vars: per-release files {sorted(found)}"
            keys = [set(yaml.safe_load((ROOT / "roles" / role / "vars" / name).read_text())) for name in sorted(found)]
            assert all(k == keys[0] for k in keys), f"roles/{role}/vars: every release must set the same variables"


def test_the_image_builder_knows_every_supported_release():
    script = (ROOT / "scripts" / "build-images.sh").read_text()
    table = dict(re.findall(r"\[(\d+)\]=(\w+)", re.search(r"declare -A CODENAMES=\((.*)\)", script).group(1)))
    assert table == _platform.SUPPORTED["Debian"]


@pytest.mark.parametrize(("version", "found"), [
    (None, "has no Python library cryptography"),
    ("37.0.4", "has cryptography 37.0.4"),
])
def test_a_controller_without_usable_cryptography_is_refused_naming_it(version, found):
    errors = compat.controller_errors("/opt/venv/bin/python", version)
    assert len(errors) == 1
    assert "(/opt/venv/bin/python)" in errors[0] and found in errors[0], errors
    assert "cryptography >= 38.0" in errors[0] and "pip install -r requirements.txt" in errors[0], errors


@pytest.mark.parametrize("version", ["38.0.0", "41.0.7", "50.0.2", "100.1"])
def test_a_controller_with_cryptography_passes(version):
    assert compat.controller_errors("/usr/bin/python3", version) == []


DPKG = {"rc": 0, "stdout": (
    "ii  postfix 3.7.11-0+deb12u1\nhi  dovecot-core 1:2.3.19.1+dfsg1-2.1+deb12u1\nrc  exim4-base 4.96-15+deb12u7\n"
    "iU  cron 3.0pl1-162\nii  python3-cryptography 38.0.4-3\nii  tini 0.19.0\n")}


def test_missing_packages_are_those_not_installed_in_order():
    wanted = ["exim4-base", "postfix", "dovecot-core", "cron", "python3-dnspython", "python3-cryptography"]
    # Held (hi) is installed; removed with its configuration left (rc) and unpacked but not configured (iU) are not.
    assert _platform.missing_packages(wanted, DPKG) == ["exim4-base", "cron", "python3-dnspython"]
    assert _platform.missing_packages(["postfix"], DPKG) == []


@pytest.mark.parametrize("result", [None, {}, {"rc": 1, "stdout": ""}, "ii  postfix"])
def test_without_the_list_of_installed_packages_every_package_counts_as_missing(result):
    assert _platform.missing_packages(["postfix", "cron"], result) == ["postfix", "cron"]
    assert _platform.upstream_version("postfix", result, "3.10") == "3.10"


@pytest.mark.parametrize(("package", "version"), [
    ("postfix", "3.7.11"),  # the Debian revision dropped
    ("dovecot-core", "2.3.19.1+dfsg1"),  # and the epoch
    ("tini", "0.19.0"),  # a native package has no revision
    ("exim4-base", "fallback"),  # removed, its configuration left: not installed
    ("cron", "fallback"),  # unpacked, not configured
    ("no-such-package", "fallback"),
])
def test_the_upstream_version_of_an_installed_package(package, version):
    assert _platform.upstream_version(package, DPKG, "fallback") == version


def test_the_postfix_role_renders_for_the_postfix_it_finds():
    """A Debian 12 host with a newer Postfix (a backport) gets what that Postfix knows; a first run, the release's."""
    backport = {"rc": 0, "stdout": "ii  postfix 3.10.5-1~bpo12+1\n"}
    assert _render.postfix_version(_platform.upstream_version("postfix", backport, "3.7")) == (3, 10)
    assert _platform.upstream_version("postfix", {"rc": 0, "stdout": ""}, "3.7") == "3.7"


@pytest.mark.skipif(shutil.which("dpkg-query") is None, reason="not a Debian host")
def test_the_platform_checks_dpkg_query_gives_what_missing_packages_reads():
    tasks = yaml.safe_load((ROOT / "roles" / "model" / "tasks" / "packages.yml").read_text())
    argv = next(task for task in tasks if "ansible.builtin.command" in task)["ansible.builtin.command"]["argv"]
    # What the command module runs: the YAML's "\\n" reaches dpkg-query as the two characters \n.
    proc = subprocess.run(argv, capture_output=True, text=True, check=True)
    result = {"rc": proc.returncode, "stdout": proc.stdout}
    assert _platform.missing_packages(["dpkg", "no-such-package-here"], result) == ["no-such-package-here"]
    dpkg = subprocess.run(["dpkg-query", "--show", "--showformat=${Version}", "dpkg"], capture_output=True, text=True,
                          check=True).stdout
    assert _platform.upstream_version("dpkg", result) == dpkg.split(":", 1)[-1].rsplit("-", 1)[0]
