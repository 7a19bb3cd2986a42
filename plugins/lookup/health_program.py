# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Python packages of the health check program, read from this collection on the controller."""

DOCUMENTATION = r"""
name: health_program
author: partnermail.links developers (@partnermail)
version_added: 0.2.0
short_description: The files of the health check program's Python packages
description:
  - Returns one mapping of relative path to file content, the collection's C(module_utils) packages the health
    check program runs on the MTA (C(_health), and for probing partners in test mode C(_report), C(_smtp),
    C(_dns), C(_pki) and what they import), laid out under C(ansible_collections/partnermail/links/plugins) with
    an C(__init__.py) at each level, so that the program imports them under the same names as Ansible does.
  - Made for P(partnermail.links.file_set#module), which installs the whole tree in one call.
options: {}
"""

EXAMPLES = r"""
- name: Install the health check's Python packages
  partnermail.links.file_set:
    path: /usr/local/lib/partnermail
    files: "{{ lookup('partnermail.links.health_program') }}"
"""

RETURN = r"""
_raw:
  description: >-
    One mapping of relative path (for example
    C(ansible_collections/partnermail/links/plugins/module_utils/_health/check.py)) to text.
  type: list
  elements: dict
"""

import os

from ansible.plugins.lookup import LookupBase

MODULE_UTILS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "module_utils")
PREFIX = "ansible_collections/partnermail/links/plugins"
# The top-level modules and the packages the program imports (see module_utils/_health/cli.py).
MODULES = ("__init__.py", "_io.py", "_model.py", "_report.py")
PACKAGES = ("_health", "_smtp", "_dns", "_pki")


def program_files(root=MODULE_UTILS):
    files = {f"{PREFIX.rsplit('/', depth)[0]}/__init__.py": "" for depth in range(4)}
    sources = list(MODULES)
    for package in PACKAGES:
        sources += sorted(f"{package}/{name}" for name in os.listdir(os.path.join(root, package))
                          if name.endswith(".py"))
    for relative in sources:
        with open(os.path.join(root, relative), encoding="utf-8") as handle:
            files[f"{PREFIX}/module_utils/{relative}"] = handle.read()
    return files


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        return [program_files()]
