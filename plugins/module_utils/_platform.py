# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The platforms an MTA may run on: one table, read by the model role's check and by the tests.

Pure Python, no Ansible. A release is listed here only when every role has its per-release vars file
(``roles/<role>/vars/Debian_<major>.yml``) and the molecule matrix runs on it.
"""

# distribution -> {major version: codename}
SUPPORTED = {
    "Debian": {"12": "bookworm", "13": "trixie"},
}


def supported_text():
    """'Debian 12 (bookworm), Debian 13 (trixie)'."""
    return ", ".join(
        f"{distribution} {major} ({codename})"
        for distribution, releases in SUPPORTED.items()
        for major, codename in releases.items()
    )


def platform_errors(host, facts):
    """Why ``host`` (its gathered ``ansible_facts``) is not a supported MTA platform; [] when it is."""
    facts = facts or {}
    distribution = str(facts.get("distribution") or "an unknown system")
    major = str(facts.get("distribution_major_version") or "")
    release = str(facts.get("distribution_release") or "")
    if major in SUPPORTED.get(distribution, {}):
        return []
    found = " ".join(part for part in (distribution, str(facts.get("distribution_version") or major)) if part)
    if release and release not in ("NA", "n/a"):
        found += f" ({release})"
    return [f"{host} runs {found}, which partnermail.links does not support; supported releases: {supported_text()}"]


def _installed(dpkg_query):
    """{package: version} of the installed packages, or None when the list was not read.

    ``dpkg_query``: the registered result of ``dpkg-query --show --showformat='${db:Status-Abbrev} ${Package}
    ${Version}\\n'`` (the model role's platform check runs it once per run).
    """
    if not isinstance(dpkg_query, dict) or dpkg_query.get("rc") != 0 or "stdout" not in dpkg_query:
        return None
    installed = {}
    for line in str(dpkg_query["stdout"]).splitlines():
        status, _sep, rest = line.partition(" ")
        package, _sep, version = rest.strip().partition(" ")
        # Status-Abbrev: wanted action, package status, error flag ("ii ", "hi ", "iU "): installed means status i.
        if len(status) >= 2 and status[1] == "i" and package:
            installed[package] = version.strip()
    return installed


def missing_packages(wanted, dpkg_query):
    """The packages of ``wanted`` that are not installed, in order.

    When the list of installed packages was not read (None, or the query failed) every package counts as missing,
    and apt decides (a role used on its own keeps working).
    """
    wanted = list(wanted or [])
    installed = _installed(dpkg_query)
    if installed is None:
        return wanted
    return [package for package in wanted if package not in installed]


def upstream_version(package, dpkg_query, default=None):
    """The upstream version of an installed package (``3.7.11`` of ``3.7.11-0+deb12u1``, an epoch dropped), or
    ``default`` when it is not installed or the list was not read."""
    version = (_installed(dpkg_query) or {}).get(package)
    if not version:
        return default
    version = version.split(":", 1)[-1]
    return version.rsplit("-", 1)[0] if "-" in version else version
