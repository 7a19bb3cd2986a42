#!/usr/bin/python
# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Ansible module partnermail.links.postfix_maps."""

DOCUMENTATION = r"""
module: postfix_maps
short_description: Write a set of Postfix lookup tables and rebuild their hash databases, in one call
version_added: 0.1.0
author: partnermail.links developers (@partnermail)
description:
  - Writes every table of O(files) and O(secret_files) whose content differs (atomically, with its final mode
    already applied), then rebuilds the C(hash:) database (C(.db)) of every table named in O(hash) that was
    written, that has no database, or whose database is older than its source (what a run that died between
    writing a table and C(postmap) leaves behind). Each database gets its source's mode and owner.
  - One module call for all the tables of a role, whatever their size, so the cost of a run that changes nothing does
    not grow with the number of tables or partners.
  - Other files of O(path) are left alone.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.files
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: One diff per table of O(files) written; a table of O(secret_files) is named, its content never shown.
  platform:
    platforms: posix
requirements:
  - Postfix's C(postmap) on the host, when O(hash) is not empty.
options:
  path:
    description: The directory of the tables; created (mode C(0755)) when missing.
    type: path
    required: true
  files:
    description: Table name (a plain file name) to its text content, written with O(mode).
    type: dict
    default: {}
  secret_files:
    description:
      - Table name to text content, for tables that hold passwords. Written with mode C(0600) (and their databases
        too), never shown in a diff, and hidden from the task's logged arguments.
    type: dict
    default: {}
  hash:
    description: Names of tables (of O(files) or O(secret_files)) that Postfix reads as C(hash:) databases.
    type: list
    elements: str
    default: []
  mode:
    description: Mode of the tables of O(files), octal (for example C("0644")).
    type: raw
    default: "0644"
"""

EXAMPLES = r"""
- name: Write the partner maps and rebuild their databases
  partnermail.links.postfix_maps:
    path: /etc/postfix/partnermail
    files:
      transport: "{{ model_validated | partnermail.links.transport_map }}"
    secret_files:
      sasl_passwd: "{{ model_validated | partnermail.links.sasl_password_map }}"
    hash: [transport, sasl_passwd]
    owner: root
    group: root
"""

RETURN = r"""
written:
  description: Names of the tables written (or, in check mode, that would be).
  returned: always
  type: list
  elements: str
rebuilt:
  description: Names of the tables whose C(.db) was rebuilt (or, in check mode, would be).
  returned: always
  type: list
  elements: str
"""

import os

from ansible_collections.partnermail.links.plugins.module_utils import _io, _postfix_maps
from ansible_collections.partnermail.links.plugins.module_utils._module import BulkyModule
from ansible_collections.partnermail.links.plugins.module_utils._pki.errors import PkiError

SECRET_MODE = 0o600


def _diff(path, files, secret_files, to_write):
    public = [name for name in to_write if name in files]
    diffs = _io.file_set_diff(path, files, public, [])
    for name in to_write:
        if name in secret_files:
            header = os.path.join(path, name)
            diffs.append({"before_header": header, "after_header": header, "before": "",
                          "after": "(holds passwords: its content is not shown)\n"})
    return diffs


def _tables(path, files, secret_files):
    """Every table, public and secret, as {name: text}; PkiError names the option at fault."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise PkiError("path", f"{path} exists and is not a directory")
    both = set(files) & set(secret_files)
    if both:
        raise PkiError("secret_files", f"{sorted(both)[0]!r} is also one of the files")
    tables = {**files, **secret_files}
    for name, content in tables.items():
        option = "secret_files" if name in secret_files else "files"
        if not isinstance(content, str):
            raise PkiError(option, f"the content of {name!r} must be a string")
        if "/" in name:
            raise PkiError(option, f"{name!r} is not a file name")
    return tables


def main():
    module = BulkyModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            files=dict(type="dict", default={}),
            secret_files=dict(type="dict", default={}, no_log=True),
            hash=dict(type="list", elements="str", default=[]),
            mode=dict(type="raw", default="0644"),
        ),
        add_file_common_args=True,
        bulky=("files", "secret_files"),
        supports_check_mode=True,
    )
    path, files, secret_files = module.params["path"], module.params["files"], module.params["secret_files"]
    try:
        file_mode = _io.octal_mode(module.params["mode"])
    except PkiError as exc:
        module.fail_json(msg=str(exc), option=exc.option)
    try:
        tables = _tables(path, files, secret_files)
        to_write, to_rebuild = _postfix_maps.plan(path, tables, module.params["hash"])
        postmap = module.get_bin_path("postmap", required=False) if to_rebuild else None
        if to_rebuild and postmap is None and not module.check_mode:
            raise PkiError("hash", f"postmap was not found, so the databases of {', '.join(to_rebuild)} cannot be "
                           "built (is Postfix installed?)")
    except PkiError as exc:
        module.fail_json(msg=str(exc), option=exc.option)
    changed = bool(to_write or to_rebuild) or not os.path.isdir(path)
    result = {"written": to_write, "rebuilt": to_rebuild}
    if module._diff:
        result["diff"] = _diff(path, files, secret_files, to_write)
    if module.check_mode:
        module.exit_json(changed=changed, **result)
    try:
        uid, gid = _io.owner_ids(module.params["owner"], module.params["group"])
    except PkiError as exc:
        module.fail_json(msg=str(exc), option=exc.option)
    os.makedirs(path, mode=0o755, exist_ok=True)
    for name in to_write:
        _io.write_atomic(os.path.join(path, name), tables[name].encode(),
                         SECRET_MODE if name in secret_files else file_mode, uid, gid)
    for name in sorted(tables):
        args = module.load_file_common_arguments(module.params, path=os.path.join(path, name))
        args["mode"] = SECRET_MODE if name in secret_files else file_mode
        changed = module.set_fs_attributes_if_different(args, changed)
    try:
        for name in to_rebuild:
            _postfix_maps.rebuild(path, name, module.run_command, postmap)
    except PkiError as exc:
        module.fail_json(msg=str(exc), option=exc.option, **result)
    module.exit_json(changed=changed, **result)


if __name__ == "__main__":
    main()
