#!/usr/bin/python
# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Ansible module partnermail.links.file_set."""

DOCUMENTATION = r"""
module: file_set
short_description: Make a directory hold exactly a given set of small files, in one call
version_added: 0.1.0
author: partnermail.links developers (@partnermail)
description:
  - Writes every file of O(files) whose content differs (atomically, with its final mode already applied) and, with
    O(exclusive=true), removes the other plain files of O(path). One module call for any number of files, so a role
    that installs one file per partner (for example each partner's trust anchor) does not slow down as partners grow.
  - Hidden files (names starting with a dot) are never touched.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.files
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: One diff per file written or removed (the removed file's content against nothing).
  platform:
    platforms: posix
options:
  path:
    description: The directory; created (mode C(0755)) when missing.
    type: path
    required: true
  files:
    description:
      - File name to text content. A name may be a relative path (C(pkg/mod.py)) of plain names (none hidden, no
        C(..)); its directories are created (mode C(0755)), and O(exclusive) then also covers them.
    type: dict
    required: true
  exclusive:
    description: Remove the plain files of O(path), and of each of its subdirectories that holds a file of O(files),
      that are not in O(files). Other subdirectories are left alone.
    type: bool
    default: true
  mode:
    description: Mode of the files written, octal (for example C("0644")).
    type: raw
    default: "0644"
"""

EXAMPLES = r"""
- name: Install each partner's CA as that partner's only trust anchor
  partnermail.links.file_set:
    path: /etc/postfix/partnermail/trust
    files:
      contoso.pem: "{{ lookup('ansible.builtin.file', 'trust/contoso-ca.pem') }}\n"
      fabrikam.pem: "{{ lookup('ansible.builtin.file', 'trust/fabrikam-ca.pem') }}\n"
    mode: "0644"
"""

RETURN = r"""
written:
  description: Names of the files written (or, in check mode, that would be).
  returned: always
  type: list
  elements: str
removed:
  description: Names of the files removed (or, in check mode, that would be).
  returned: always
  type: list
  elements: str
"""

import os

from ansible_collections.partnermail.links.plugins.module_utils import _io
from ansible_collections.partnermail.links.plugins.module_utils._module import BulkyModule
from ansible_collections.partnermail.links.plugins.module_utils._pki.errors import PkiError


def main():
    module = BulkyModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            files=dict(type="dict", required=True),
            exclusive=dict(type="bool", default=True),
            mode=dict(type="raw", default="0644"),
        ),
        add_file_common_args=True,
        bulky=("files",),
        supports_check_mode=True,
    )
    path, files = module.params["path"], module.params["files"]
    try:
        if os.path.exists(path) and not os.path.isdir(path):
            raise PkiError("path", f"{path} exists and is not a directory")
        for name, content in files.items():
            if not isinstance(content, str):
                raise PkiError("files", f"the content of {name!r} must be a string")
        to_write, to_remove = _io.plan_file_set(path, files, module.params["exclusive"])
    except PkiError as exc:
        module.fail_json(msg=str(exc), option=exc.option)
    changed = bool(to_write or to_remove) or not os.path.isdir(path)
    try:
        file_mode = _io.octal_mode(module.params["mode"])
    except PkiError as exc:
        module.fail_json(msg=str(exc), option=exc.option)
    result = {"written": to_write, "removed": to_remove}
    if module._diff:
        result["diff"] = _io.file_set_diff(path, files, to_write, to_remove)
    if not module.check_mode:
        os.makedirs(path, mode=0o755, exist_ok=True)
        for name in to_write:
            os.makedirs(os.path.dirname(os.path.join(path, name)), mode=0o755, exist_ok=True)
            _io.write_atomic(os.path.join(path, name), files[name].encode(), file_mode)
        for name in to_remove:
            os.unlink(os.path.join(path, name))
        for name in files:
            args = module.load_file_common_arguments(module.params, path=os.path.join(path, name))
            changed = module.set_fs_attributes_if_different(args, changed)
    module.exit_json(changed=changed, **result)


if __name__ == "__main__":
    main()
