# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters that lay out the link report (thin wrappers over module_utils/_report.py)."""

from ansible.errors import AnsibleFilterError

from ansible_collections.partnermail.links.plugins.module_utils import _report


def report_table(rows):
    """The compact console table of link_report rows, one string per line."""
    try:
        return _report.text_table(rows)
    except (KeyError, TypeError) as error:
        raise AnsibleFilterError(f"partnermail.links.report_table: not link_report rows ({error!r})") from None


def report_markdown(reports):
    """The Markdown report of a run: {mta name: link_report result}."""
    try:
        return _report.markdown(reports)
    except (KeyError, TypeError, AttributeError) as error:
        raise AnsibleFilterError(f"partnermail.links.report_markdown: not link_report results ({error!r})") from None


class FilterModule:
    def filters(self):
        return {"report_table": report_table, "report_markdown": report_markdown}
