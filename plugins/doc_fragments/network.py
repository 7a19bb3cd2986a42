# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Option docs shared by the read-only network modules (mx_info, smtp_probe); kept in step with
module_utils/_dns and module_utils/_smtp."""


class ModuleDocFragment:
    # The minimum version here is the one module_utils/_dns/compat.py checks: Debian 12 ships 2.3.0, and
    # mx_info runs with the MTA's system Python.
    DNSPYTHON = r"""
options: {}
requirements:
  - dnspython >= 2.3
"""
