# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter over the partners' trust anchors: a thin wrapper around module_utils/_trust.py.

Documentation lives in the sidecar ``trust_anchor_errors.yml`` next to this file.
"""

from ansible_collections.partnermail.links.plugins.module_utils import _trust


def trust_anchor_errors(anchors, created=()):
    return _trust.anchor_errors(anchors or [], created or ())


def pki_created_cas(hostvars, hosts):
    """The CA files the pki role creates for ``hosts`` (names in ``hostvars``)."""
    keys = ("pki_mode", "pki_ca_dir", "inventory_dir")
    return _trust.pki_created_cas([{key: hostvars[host].get(key) for key in keys} for host in hosts])


def pki_byo_errors(content, mode, chain_src, key_path):
    """``content``: the chain file's text as the file lookup read it (None or empty when it was not found)."""
    return _trust.byo_errors(mode, chain_src, key_path, content or None)


class FilterModule:
    """partnermail.links trust anchor filter."""

    def filters(self):
        return {"trust_anchor_errors": trust_anchor_errors, "pki_created_cas": pki_created_cas,
                "pki_byo_errors": pki_byo_errors}
