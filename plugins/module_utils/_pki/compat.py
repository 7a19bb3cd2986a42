# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Guarded import of cryptography, shared by every PKI backend module."""

import re

MINIMUM_CRYPTOGRAPHY_VERSION = "38.0"

try:
    import cryptography

    CRYPTOGRAPHY_VERSION = cryptography.__version__
    CRYPTOGRAPHY_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - exercised only without the library
    CRYPTOGRAPHY_VERSION = None
    CRYPTOGRAPHY_IMPORT_ERROR = exc


def _release(version):
    match = re.match(r"(\d+)\.(\d+)", version)
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


def controller_errors(python, version=CRYPTOGRAPHY_VERSION):
    """Why the controller's Python cannot run the roles' controller-side tasks (the CA, the certificates)."""
    need = (f"the pki role makes the CA and the MTA certificates on the controller and needs cryptography >= "
            f"{MINIMUM_CRYPTOGRAPHY_VERSION} there: pip install -r requirements.txt")
    if version is None:
        return [f"The controller's Python ({python}) has no Python library cryptography; {need}"]
    if _release(version) < _release(MINIMUM_CRYPTOGRAPHY_VERSION):
        return [f"The controller's Python ({python}) has cryptography {version}; {need}"]
    return []


def require_cryptography(module, missing_required_lib):
    """Fail the module with the install hint when cryptography is missing."""
    if CRYPTOGRAPHY_IMPORT_ERROR is not None:
        module.fail_json(
            msg=missing_required_lib(f"cryptography >= {MINIMUM_CRYPTOGRAPHY_VERSION}"),
            exception=str(CRYPTOGRAPHY_IMPORT_ERROR),
        )
