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


def missing_packages(wanted, dpkg_query):
    """The packages of ``wanted`` that are not installed, in order.

    ``dpkg_query``: the registered result of ``dpkg-query --show --showformat='${db:Status-Abbrev} ${Package}\\n'``
    (the model role's platform check runs it once per run), or None when it did not run: then every package counts
    as missing, and apt decides (a role used on its own keeps working).
    """
    wanted = list(wanted or [])
    if not isinstance(dpkg_query, dict) or dpkg_query.get("rc") != 0 or "stdout" not in dpkg_query:
        return wanted
    installed = set()
    for line in str(dpkg_query["stdout"]).splitlines():
        status, _sep, package = line.partition(" ")
        # Status-Abbrev: wanted action, package status, error flag ("ii ", "hi ", "iU "): installed means status i.
        if len(status) >= 2 and status[1] == "i":
            installed.add(package.strip())
    return [package for package in wanted if package not in installed]
