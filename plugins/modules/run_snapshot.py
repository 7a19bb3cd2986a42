#!/usr/bin/python
# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Ansible module partnermail.links.run_snapshot."""

DOCUMENTATION = r"""
module: run_snapshot
short_description: Snapshot the files a run manages before it changes any, and put them all back when it fails
version_added: 0.1.0
author: partnermail.links developers (@partnermail)
description:
  - O(state=present) writes one archive (mode C(0600), its directory C(0700), since it holds private keys and passwords)
    of every path of O(paths) that exists, directory trees whole, and records which paths did not exist.
  - When an archive is already there, the run that took it did not finish (the controller lost the host, or the
    play was killed before it could restore). It is replaced by a fresh one, since restoring it would also undo what
    later runs completed, and RV(kept) says that there was one.
  - O(state=restored) makes every recorded path what it was (content, owner, mode and modification time; a path that
    did not exist is removed), then removes the archive. When every path still is what the archive holds (the run
    failed before it changed anything), or without an archive, it changes nothing.
  - O(state=absent) removes the archive, once the run finished.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  path:
    description: The archive.
    type: path
    required: true
  paths:
    description: The managed files and directories, as normalised absolute paths, none inside another. Required with
      O(state=present); the archive's own list is used to restore.
    type: list
    elements: path
    default: []
  state:
    description: Take, restore or drop the snapshot.
    type: str
    choices: [present, restored, absent]
    default: present
"""

EXAMPLES = r"""
- name: Snapshot the Postfix configuration and the partner maps before the run changes them
  partnermail.links.run_snapshot:
    path: /var/lib/partnermail/run-snapshot.tar
    paths: [/etc/postfix/main.cf, /etc/postfix/master.cf, /etc/postfix/partnermail]

- name: Put them back (in a rescue)
  partnermail.links.run_snapshot:
    path: /var/lib/partnermail/run-snapshot.tar
    state: restored
"""

RETURN = r"""
taken:
  description: When the archive was taken (seconds since the epoch); 0 when there is none.
  returned: always
  type: int
kept:
  description: With O(state=present), an archive of a run that did not finish was there (it was replaced).
  returned: always
  type: bool
restored:
  description: With O(state=restored), the paths put back (those that had not existed were removed); empty when
    nothing had changed.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.partnermail.links.plugins.module_utils import _snapshot


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            paths=dict(type="list", elements="path", default=[]),
            state=dict(type="str", choices=["present", "restored", "absent"], default="present"),
        ),
        required_if=[("state", "present", ["paths"])],
        supports_check_mode=True,
    )
    archive, state = module.params["path"], module.params["state"]
    result = {"taken": 0, "kept": False, "restored": []}
    try:
        manifest = _snapshot.read_manifest(archive)
        if manifest is not None:
            result["taken"] = manifest["taken"]
        if state == "present":
            # An archive already there is a run that did not finish. It is replaced: restoring it later would also
            # undo what runs completed since (RV(kept) is true, so the run can say so).
            result["kept"] = manifest is not None
            if not module.check_mode:
                result["taken"] = _snapshot.take(archive, module.params["paths"])["taken"]
            module.exit_json(changed=True, **result)
        if manifest is None:
            module.exit_json(changed=False, **result)
        if state == "restored":
            if not _snapshot.differs(archive):
                # The run failed before it changed anything: nothing to put back, nothing to reload.
                if not module.check_mode:
                    _snapshot.drop(archive)
                module.exit_json(changed=False, **result)
            result["restored"] = sorted(manifest["paths"])
            if not module.check_mode:
                _snapshot.restore(archive)
        if not module.check_mode:
            _snapshot.drop(archive)
    except _snapshot.SnapshotError as exc:
        module.fail_json(msg=str(exc), **result)
    module.exit_json(changed=True, **result)


if __name__ == "__main__":
    main()
