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
