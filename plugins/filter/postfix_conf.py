# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters that render a partnermail MTA's Postfix configuration from the validated model.

Thin wrappers over module_utils/_postfix_conf.py; documentation lives in the sidecar YAML files.
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.partnermail.links.plugins.module_utils import _postfix_conf, _takeover


def _guarded(function, name):
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except (KeyError, TypeError, ValueError) as error:
            raise AnsibleFilterError(f"partnermail.links.{name}: {error!r} (is the input a validated model?)") from None

    wrapper.__name__ = name
    wrapper.__doc__ = function.__doc__
    return wrapper


def _listener_services(settings=None):
    return [service | {"options": [list(o) for o in service["options"]]}
            for service in _postfix_conf.listener_services(settings)]


class FilterModule:
    def filters(self):
        return {
            "main_cf": _guarded(_postfix_conf.main_cf, "main_cf"),
            "master_cf": _guarded(_postfix_conf.master_cf, "master_cf"),
            "listener_services": _guarded(_listener_services, "listener_services"),
            "vmailbox_map": _guarded(_postfix_conf.vmailbox_map, "vmailbox_map"),
            "takeover_findings": _guarded(_takeover.summary, "takeover_findings"),
            "postfix_extension_errors": _guarded(_postfix_conf.extension_errors, "postfix_extension_errors"),
        }
