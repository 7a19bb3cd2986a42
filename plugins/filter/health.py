# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters of the health role: its settings checked, and the check's configuration (module_utils/_health/settings.py).

Documentation lives in the sidecars ``health_errors.yml`` and ``health_config.yml`` next to this file.
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.partnermail.links.plugins.module_utils._health import settings as _settings


def health_errors(model, settings):
    try:
        return _settings.settings_errors(model, dict(settings))
    except (KeyError, TypeError, AttributeError) as error:
        raise AnsibleFilterError(f"partnermail.links.health_errors: not a validated model ({error!r})") from None


def health_config(model, settings):
    try:
        return _settings.build_config(model, dict(settings))
    except (KeyError, TypeError, AttributeError, IndexError) as error:
        raise AnsibleFilterError(f"partnermail.links.health_config: not a validated model ({error!r})") from None


class FilterModule:
    """partnermail.links health filters."""

    def filters(self):
        return {"health_errors": health_errors, "health_config": health_config}
