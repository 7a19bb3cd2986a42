# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Errors raised by the PKI backend.

Every error names the module option it is about, so a module can report
``option: reason`` and a user knows which input to fix.
"""


class PkiError(Exception):
    """Bad input or an unusable file, attributed to one option."""

    def __init__(self, option, reason):
        super().__init__(f"{option}: {reason}")
        self.option = option
        self.reason = reason
