#!/usr/bin/python
# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Ansible module partnermail.links.config_files."""

DOCUMENTATION = r"""
module: config_files
short_description: Keep a role's configuration files, in any directories, in one call
version_added: 0.2.0
author: partnermail.links developers (@partnermail)
description:
  - Ensures O(directories), then keeps every entry of O(files) and O(secret_files) in order; each file is written
    only where its content differs (atomically, with its final mode, owner and group already applied), and its
    mode, owner and group are corrected where they differ.
  - A file with O(files[].validate) is written only when that command accepts a temporary copy of it; a file with
    O(files[].database) gets its C(hash:) database rebuilt (C(postmap) or C(postalias)) when the file was written,
    or its database is missing or older than it (what a run that died in between leaves). With C(postalias), a
    database in which the C(postmaster) alias of the file cannot be looked up is rebuilt too.
  - One module call for all the files of a role, so a run that changes nothing costs one round trip, not one per
    file.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reports what would be written, removed or rebuilt; runs no O(files[].validate) command.
  diff_mode:
    support: full
    details: One diff per file written or removed; an entry of O(secret_files) is named, its content never shown.
  platform:
    platforms: posix
options:
  directories:
    description: Directories to ensure first (created when missing; their mode, owner and group corrected).
    type: list
    elements: dict
    default: []
    suboptions:
      path: {description: Absolute path., type: str, required: true}
      owner: {description: User name or number., type: str}
      group: {description: Group name or number., type: str}
      mode: {description: Octal mode., type: raw, default: "0755"}
  files:
    description: The files, kept in this order (a O(files[].validate) command may be a file of an earlier entry).
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path; its directory must exist, or be one of O(directories).
        type: str
        required: true
      content:
        description: The text of the file; required unless O(files[].state=absent).
        type: str
      owner: {description: User name or number., type: str}
      group: {description: Group name or number., type: str}
      mode: {description: Octal mode., type: raw, default: "0644"}
      state:
        description: C(absent) removes the file (and its database, with O(files[].database)).
        type: str
        choices: [present, absent]
        default: present
      create_only:
        description: Write the file only when it does not exist; an existing one is left as it is (its database
          is still kept).
        type: bool
        default: false
      validate:
        description: Command that must succeed on a temporary copy, named by C(%s), before the file is installed.
        type: str
      database:
        description: Rebuild the file's C(hash:) database with this program.
        type: str
        choices: [postmap, postalias]
  secret_files:
    description: Like O(files), for files that hold secrets; kept after O(files), never shown in a diff; their
      content is hidden from the task's logged arguments.
    type: list
    elements: dict
    default: []
    suboptions:
      path: {description: Absolute path., type: str, required: true}
      content:
        description: The text of the file; required unless O(secret_files[].state=absent).
        type: str
      owner: {description: User name or number., type: str}
      group: {description: Group name or number., type: str}
      mode: {description: Octal mode., type: raw, default: "0644"}
      state: {description: C(absent) removes the file., type: str, choices: [present, absent], default: present}
      create_only: {description: Write the file only when it does not exist., type: bool, default: false}
      validate: {description: Command that must accept a temporary copy (C(%s)) first., type: str}
      database: {description: Rebuild its C(hash:) database with this program., type: str,
                 choices: [postmap, postalias]}
"""

EXAMPLES = r"""
- name: Install main.cf and master.cf, and the virtual mailbox map with its database
  partnermail.links.config_files:
    directories:
      - {path: /etc/postfix/partnermail, owner: root, group: root, mode: "0755"}
    files:
      - {path: /etc/postfix/main.cf, content: "{{ main_cf }}", owner: root, group: root, mode: "0644"}
      - {path: /etc/postfix/master.cf, content: "{{ master_cf }}", owner: root, group: root, mode: "0644"}
      - path: /etc/postfix/partnermail/vmailbox
        content: "{{ vmailbox }}"
        database: postmap
"""

RETURN = r"""
written:
  description: Paths of the files written (or, in check mode, that would be).
  returned: always
  type: list
  elements: str
removed:
  description: Paths of the files removed (or, in check mode, that would be).
  returned: always
  type: list
  elements: str
rebuilt:
  description: Paths of the files whose C(.db) was rebuilt (or, in check mode, would be).
  returned: always
  type: list
  elements: str
"""

import os

from ansible_collections.partnermail.links.plugins.module_utils import _config_files, _io, _postfix_maps
from ansible_collections.partnermail.links.plugins.module_utils._module import BulkyModule
from ansible_collections.partnermail.links.plugins.module_utils._pki.errors import PkiError


class _Keeper:
    """Does what the entries need, one by one, and records it."""

    def __init__(self, module):
        self.module = module
        self.check = module.check_mode
        self.changed = False
        self.result = {"written": [], "removed": [], "rebuilt": []}
        self.diffs = []

    def ids(self, entry, option):
        """(uid, gid) of the entry; in check mode an owner a skipped task would have made counts as a change."""
        try:
            return _io.owner_ids(entry["owner"], entry["group"])
        except PkiError as exc:
            if self.check:
                self.changed = True
                return None
            raise PkiError(f"{option}.{exc.option}", exc.reason) from None

    def directory(self, entry):
        ids = self.ids(entry, entry["option"])
        path = entry["path"]
        if os.path.exists(path) and not os.path.isdir(path):
            raise PkiError(f"{entry['option']}.path", f"{path} exists and is not a directory")
        if not os.path.isdir(path):
            self.changed = True
            if self.check:
                return
            os.makedirs(path, mode=0o755)
        self.attributes(path, entry["mode"], ids)

    def attributes(self, path, mode, ids):
        """Correct the mode, owner and group of an existing ``path`` where they differ (ids None: unknown yet)."""
        if ids is not None and _config_files.attributes_differ(path, mode, *ids):
            self.changed = True
            if not self.check:
                os.chown(path, *ids)
                os.chmod(path, mode)

    def file(self, entry):
        option, path = entry["option"], entry["path"]
        if os.path.isdir(path):
            raise PkiError(option + ".path", f"{path} is a directory, not a file")
        write, remove, current = _config_files.plan(entry)
        if write or remove:
            if self.module._diff:
                self.diffs.append(_config_files.diff(entry, current, write, remove))
            self.changed = True
            self.result["written" if write else "removed"].append(path)
        if remove:
            if not self.check:
                os.unlink(path)
                if entry["database"] and os.path.exists(path + ".db"):
                    os.unlink(path + ".db")
            return
        if entry["state"] == "absent":
            return
        ids = self.ids(entry, option)
        if write:
            if not self.check:
                parent = os.path.dirname(path)
                if not os.path.isdir(parent):
                    raise PkiError(option + ".path", f"directory {parent} does not exist")
                data = entry["content"].encode()
                if entry["validate"]:
                    self.validate(option, entry, data)
                _io.write_atomic(path, data, entry["mode"], *(ids or (-1, -1)))
        elif os.path.exists(path) and not entry["create_only"]:
            self.attributes(path, entry["mode"], ids)
        self.database(option, entry, write)

    def validate(self, option, entry, data):
        tmp = os.path.join(self.module.tmpdir, os.path.basename(entry["path"]))
        _io.write_atomic(tmp, data, 0o600)
        rc, out, err = self.module.run_command(entry["validate"].replace("%s", tmp), use_unsafe_shell=False)
        os.unlink(tmp)
        if rc != 0:
            raise PkiError(option + ".validate", f"{entry['path']} was not installed: {entry['validate']} "
                           f"refused it (exit {rc}): {(out + err).strip()}")

    def database(self, option, entry, written):
        program = entry["database"]
        if program is None or not (written or os.path.exists(entry["path"])):
            return
        binary = self.module.get_bin_path(program, required=False)
        stale = _config_files.database_stale(entry, written)
        if not stale and program == "postalias" and binary and self.postmaster_lost(entry, binary):
            stale = True
        if not stale:
            return
        self.changed = True
        self.result["rebuilt"].append(entry["path"])
        if self.check:
            return
        if binary is None:
            raise PkiError(option + ".database", f"{program} was not found, so the database of {entry['path']} "
                           "cannot be built (is Postfix installed?)")
        directory, name = os.path.split(entry["path"])
        _postfix_maps.rebuild(directory, name, self.module.run_command, binary)

    def postmaster_lost(self, entry, binary):
        """True when the alias file defines postmaster and its database does not answer for it (a .db built by
        postmap, which keeps the colon in the key: Postfix's notices to the postmaster would be discarded)."""
        if not os.path.exists(entry["path"] + ".db"):
            return False
        with open(entry["path"], "rb") as handle:
            if not any(line.startswith(b"postmaster:") for line in handle):
                return False
        rc, _out, _err = self.module.run_command([binary, "-q", "postmaster", "hash:" + entry["path"]])
        return rc != 0


FILE_OPTIONS = dict(
    path=dict(type="str", required=True),
    content=dict(type="str"),
    owner=dict(type="str"),
    group=dict(type="str"),
    mode=dict(type="raw", default="0644"),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    create_only=dict(type="bool", default=False),
    validate=dict(type="str"),
    database=dict(type="str", choices=list(_config_files.DATABASES)),
)


def main():
    module = BulkyModule(
        argument_spec=dict(
            directories=dict(type="list", elements="dict", default=[], options=dict(
                path=dict(type="str", required=True),
                owner=dict(type="str"),
                group=dict(type="str"),
                mode=dict(type="raw", default="0755"),
            )),
            files=dict(type="list", elements="dict", default=[], options=FILE_OPTIONS),
            # Only the content is secret: the paths stay readable in the result (written, removed, rebuilt).
            secret_files=dict(type="list", elements="dict", default=[], no_log=False,
                              options=FILE_OPTIONS | {"content": dict(type="str", no_log=True)}),
        ),
        bulky=("files", "secret_files"),
        supports_check_mode=True,
    )
    keeper = _Keeper(module)
    try:
        directories = _config_files.directories(module.params["directories"])
        files = _config_files.files(module.params["files"], module.params["secret_files"])
        for entry in directories:
            keeper.directory(entry)
        for entry in files:
            keeper.file(entry)
    except PkiError as exc:
        module.fail_json(msg=str(exc), option=exc.option, changed=keeper.changed, **keeper.result)
    result = dict(keeper.result)
    if module._diff:
        result["diff"] = keeper.diffs
    module.exit_json(changed=keeper.changed, **result)


if __name__ == "__main__":
    main()
