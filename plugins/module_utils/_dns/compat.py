# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Guarded import of dnspython for the DNS backend and the mx_info module."""

# Debian 12 ships python3-dnspython 2.3.0 and mx_info runs with the MTA's system Python.
MINIMUM_DNSPYTHON_VERSION = "2.3"

try:
    import dns.version

    if (dns.version.MAJOR, dns.version.MINOR) < tuple(int(part) for part in MINIMUM_DNSPYTHON_VERSION.split(".")):
        raise ImportError(f"dnspython {dns.version.version} is older than {MINIMUM_DNSPYTHON_VERSION}")
    DNSPYTHON_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - exercised only without the library
    DNSPYTHON_IMPORT_ERROR = exc


def require_dnspython(module, missing_required_lib):
    """Fail the module with the install hint when dnspython is missing or too old."""
    if DNSPYTHON_IMPORT_ERROR is not None:
        module.fail_json(
            msg=missing_required_lib(f"dnspython >= {MINIMUM_DNSPYTHON_VERSION}"),
            exception=str(DNSPYTHON_IMPORT_ERROR),
        )
