# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter over the supported platforms: a thin wrapper around module_utils/_platform.py.

Documentation lives in the sidecars ``platform_errors.yml``, ``controller_errors.yml``, ``missing_packages.yml`` and
``upstream_version.yml`` next to this file.
"""

from ansible_collections.partnermail.links.plugins.module_utils import _platform
from ansible_collections.partnermail.links.plugins.module_utils._pki import compat


def platform_errors(facts, host):
    return _platform.platform_errors(host, facts)


def missing_packages(wanted, dpkg_query):
    return _platform.missing_packages(wanted, dpkg_query)


def upstream_version(package, dpkg_query, default=None):
    return _platform.upstream_version(package, dpkg_query, default)


def controller_errors(python):
    return compat.controller_errors(python)


class FilterModule:
    """partnermail.links platform filter."""

    def filters(self):
        return {"platform_errors": platform_errors, "controller_errors": controller_errors,
                "missing_packages": missing_packages, "upstream_version": upstream_version}
