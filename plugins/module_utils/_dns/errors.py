# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Errors raised by the DNS backend for bad input; answers about a domain are never errors.

Like the PKI backend's errors, each one names the module option it is about.
"""


class DnsError(Exception):
    """Bad input or an unusable resolver set-up, attributed to one option."""

    def __init__(self, option, reason):
        super().__init__(f"{option}: {reason}")
        self.option = option
        self.reason = reason
