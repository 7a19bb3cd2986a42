# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters over the partnermail inventory model: thin wrappers around module_utils.

Documentation for each filter lives in the sidecar ``<filter name>.yml`` next to this file.
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.partnermail.links.plugins.module_utils import _passwd, _render
from ansible_collections.partnermail.links.plugins.module_utils._model import ModelError
from ansible_collections.partnermail.links.plugins.module_utils._model import mode_warnings as _mode_warnings
from ansible_collections.partnermail.links.plugins.module_utils._model import validate_model as _validate_model


def validate_model(hostvars_subset):
    try:
        return _validate_model(hostvars_subset)
    except ModelError as error:
        raise AnsibleFilterError(f"invalid partnermail inventory model:\n{error}") from None


def model_errors(hostvars_subset):
    """Every error of the model, one line each ([] when it is valid); never contains a password."""
    try:
        _validate_model(hostvars_subset)
    except ModelError as error:
        return list(error.errors)
    return []


def _guarded(function, name):
    """Turn a bad-input exception of a renderer into AnsibleFilterError."""

    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise AnsibleFilterError(f"partnermail.links.{name}: {error!r} (is the input a validated model?)") from None

    wrapper.__name__ = name
    wrapper.__doc__ = function.__doc__
    return wrapper


def _partner_services(model, map_dir=_render.DEFAULT_MAP_DIR, version=_render.DEFAULT_POSTFIX_VERSION):
    """Services with options as [key, value] lists (plain data for templates)."""
    services = _render.partner_services(model, map_dir, version)
    return [service | {"options": [list(option) for option in service["options"]]} for service in services]


def _passwd_file(entries, existing_content=""):
    return _passwd.passwd_file(entries, existing_content or "")


class FilterModule:
    """partnermail.links model filters."""

    def filters(self):
        return {
            "validate_model": validate_model,
            "model_errors": model_errors,
            "mode_warnings": _guarded(_mode_warnings, "mode_warnings"),
            "transport_map": _guarded(_render.transport_map, "transport_map"),
            "tls_policy_map": _guarded(_render.tls_policy_map, "tls_policy_map"),
            "sasl_password_map": _guarded(_render.sasl_password_map, "sasl_password_map"),
            "sender_login_map": _guarded(_render.sender_login_map, "sender_login_map"),
            "protected_sender_map": _guarded(_render.protected_sender_map, "protected_sender_map"),
            "partner_sender_map": _guarded(_render.partner_sender_map, "partner_sender_map"),
            "sender_allowance_map": _guarded(_render.sender_allowance_map, "sender_allowance_map"),
            "partner_services": _guarded(_partner_services, "partner_services"),
            "master_cf_lines": _guarded(_render.master_cf_lines, "master_cf_lines"),
            "passwd_file": _guarded(_passwd_file, "passwd_file"),
        }
