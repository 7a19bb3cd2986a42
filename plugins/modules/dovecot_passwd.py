#!/usr/bin/python
# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Ansible module partnermail.links.dovecot_passwd."""

DOCUMENTATION = r"""
module: dovecot_passwd
short_description: Keep a Dovecot passwd-file of hashed logins, rehashing only what changed
version_added: 0.1.0
author: partnermail.links developers (@partnermail)
description:
  - Makes O(path) a Dovecot passwd-file with one C({SHA512-CRYPT}) line per user of O(users), sorted by user, and no
    other user. A line already in the file is kept as it is while its hash still verifies against the user's
    password, so a run with unchanged passwords writes nothing and reports no change (no new salt).
  - Reads and writes the file on the host in one call; the file is written atomically with its final mode.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.files
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: Says that the file would change, never what it holds.
  platform:
    platforms: posix
options:
  path:
    description: The passwd-file. Its directory must exist.
    type: path
    required: true
  users:
    description: The logins, each with C(username) and C(password); hidden from the task's logged arguments.
    type: list
    elements: dict
    required: true
  mode:
    description: Mode of the file, octal.
    type: raw
    default: "0640"
"""

EXAMPLES = r"""
- name: Keep the partners' inbound logins
  partnermail.links.dovecot_passwd:
    path: /etc/dovecot/partnermail-users
    users: "{{ model_validated.partnermail_partners | map(attribute='inbound_auth') | select }}"
    owner: root
    group: dovecot
"""

RETURN = r"""
users:
  description: How many users the file holds.
  returned: success
  type: int
"""


from ansible_collections.partnermail.links.plugins.module_utils import _io, _passwd
from ansible_collections.partnermail.links.plugins.module_utils._module import BulkyModule
from ansible_collections.partnermail.links.plugins.module_utils._pki.errors import PkiError


def main():
    module = BulkyModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            users=dict(type="list", elements="dict", required=True, no_log=True),
            mode=dict(type="raw", default="0640"),
        ),
        add_file_common_args=True,
        bulky=("users",),
        supports_check_mode=True,
    )
    path = module.params["path"]
    try:
        file_mode = _io.octal_mode(module.params["mode"])
    except PkiError as exc:
        module.fail_json(msg=str(exc), option=exc.option)
    try:
        _io.check_writable_parent(path, "path", missing_ok=module.check_mode)
        current = _io.read_optional(path, "path")
        for index, user in enumerate(module.params["users"]):
            problem = _passwd.entry_problem(user)
            if problem:
                raise PkiError(f"users[{index}].{problem[0]}", problem[1])
        try:
            content = _passwd.passwd_file(module.params["users"], (current or b"").decode("utf-8", "replace"))
        except ValueError as exc:
            raise PkiError("users", str(exc)) from None
    except PkiError as exc:
        module.fail_json(msg=str(exc), option=exc.option)
    changed = current != content.encode()
    result = {"users": len(module.params["users"])}
    if module._diff and changed:
        result["diff"] = {"before_header": path if current is not None else "/dev/null", "after_header": path,
                          "before": "", "after": "(holds password hashes: the content is not shown)\n"}
    if module.check_mode:
        module.exit_json(changed=changed, **result)
    if changed:
        try:
            uid, gid = _io.owner_ids(module.params["owner"], module.params["group"])
        except PkiError as exc:
            module.fail_json(msg=str(exc), option=exc.option)
        _io.write_atomic(path, content.encode(), file_mode, uid, gid)
    args = module.load_file_common_arguments(module.params)
    args["mode"] = file_mode
    changed = module.set_fs_attributes_if_different(args, changed)
    module.exit_json(changed=changed, **result)


if __name__ == "__main__":
    main()
