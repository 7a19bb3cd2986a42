# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter over the supported platforms: a thin wrapper around module_utils/_platform.py.

Documentation lives in the sidecar ``platform_errors.yml`` next to this file.
"""

from ansible_collections.partnermail.links.plugins.module_utils import _platform


def platform_errors(facts, host):
    return _platform.platform_errors(host, facts)


class FilterModule:
    """partnermail.links platform filter."""

    def filters(self):
        return {"platform_errors": platform_errors}
