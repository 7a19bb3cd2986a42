# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Guarded import of cryptography, shared by every PKI backend module."""

MINIMUM_CRYPTOGRAPHY_VERSION = "38.0"

try:
    # Imported only to detect it.
    import cryptography  # noqa: F401 pylint: disable=unused-import

    CRYPTOGRAPHY_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - exercised only without the library
    CRYPTOGRAPHY_IMPORT_ERROR = exc


def require_cryptography(module, missing_required_lib):
    """Fail the module with the install hint when cryptography is missing."""
    if CRYPTOGRAPHY_IMPORT_ERROR is not None:
        module.fail_json(
            msg=missing_required_lib(f"cryptography >= {MINIMUM_CRYPTOGRAPHY_VERSION}"),
            exception=str(CRYPTOGRAPHY_IMPORT_ERROR),
        )
