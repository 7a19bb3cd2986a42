# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Read each partner's trust anchor file (tls.ca_file) on the controller, once, for every role that needs it."""

DOCUMENTATION = r"""
name: trust_anchors
author: partnermail.links developers (@partnermail)
version_added: 0.1.0
short_description: Read the partners' CA files on the controller
description:
  - For each partner of a validated model (P(partnermail.links.validate_model#filter)) that names a
    C(tls.ca_file), reads that file on the controller and returns its content, or why it could not be read.
  - A relative path is looked up like the P(ansible.builtin.file#lookup) lookup does (the C(files/) directories
    of the role and the playbook, then those directories themselves).
  - Never fails for a missing or unreadable file; P(partnermail.links.trust_anchor_errors#filter) turns the
    entries into error messages, so the validation play can refuse them before any host is changed.
options:
  _terms:
    description: The normalised partners (C(model_validated.partnermail_partners)).
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Refuse unreadable or unusable partner CA files before touching any host
  ansible.builtin.assert:
    that: errors | length == 0
    fail_msg: "{{ errors }}"
  vars:
    errors: >-
      {{ query('partnermail.links.trust_anchors', model_validated.partnermail_partners)
         | partnermail.links.trust_anchor_errors }}
"""

RETURN = r"""
_raw:
  description: One entry per partner with a CA file, in model order.
  type: list
  elements: dict
  contains:
    index:
      description: The partner's position in C(partnermail_partners).
      type: int
    partner:
      description: The partner's name.
      type: str
    path:
      description: The C(tls.ca_file) as given in the inventory.
      type: str
    resolved:
      description: The file that was read (empty when none was found).
      type: str
    content:
      description: The file's text, ending in exactly one newline; empty when it could not be read.
      type: str
    error:
      description: Why the file could not be read, or empty.
      type: str
"""

import os

from ansible.errors import AnsibleError
from ansible.plugins.lookup import LookupBase


class LookupModule(LookupBase):
    def _resolve(self, variables, path):
        if os.path.isabs(path):
            return path
        try:
            return self.find_file_in_search_path(variables, "files", path, ignore_missing=True)
        except AnsibleError:
            return None

    def run(self, terms, variables=None, **kwargs):
        partners = terms[0] if len(terms) == 1 and isinstance(terms[0], list) else terms
        entries = []
        for index, partner in enumerate(partners):
            path = ((partner or {}).get("tls") or {}).get("ca_file")
            if not path:
                continue
            entry = {"index": index, "partner": partner.get("name"), "path": path, "resolved": "", "content": "",
                     "error": ""}
            resolved = self._resolve(variables, path)
            if not resolved or not os.path.exists(resolved):
                entry["error"] = "was not found on the controller" + (
                    "" if os.path.isabs(path) else " (a relative path is looked up in the files/ directories of "
                    "the role and the playbook; give an absolute path, e.g. under {{ inventory_dir }})")
            else:
                entry["resolved"] = resolved
                try:
                    with open(resolved, encoding="utf-8") as handle:
                        entry["content"] = handle.read().rstrip("\n") + "\n"
                except (OSError, UnicodeDecodeError) as exc:
                    entry["error"] = f"cannot be read ({exc.__class__.__name__}: {exc})"
            entries.append(entry)
        return entries
