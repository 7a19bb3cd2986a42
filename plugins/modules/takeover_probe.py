#!/usr/bin/python
# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Ansible module partnermail.links.takeover_probe."""

DOCUMENTATION = r"""
module: takeover_probe
short_description: Read what replacing a server's main.cf and master.cf would change (read-only)
version_added: 0.2.0
author: partnermail.links developers (@partnermail)
description:
  - Says of C(/etc/postfix/main.cf) and C(master.cf) whether each is absent, written by partnermail.links (its first
    line is O(header)) or somebody else's. Where one is somebody else's, it adds C(postconf -n) / C(postconf -M) of
    the current files, of the files the postfix role would write (O(main_cf), O(master_cf)) and of the package's
    C(master.cf), all in Postfix's canonical form, for the C(takeover_findings) filter to compare.
  - Writes nothing outside a temporary directory of its own, which it removes; never changes anything.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reads the same in check mode.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  header:
    description: The first line of a main.cf or master.cf written by the postfix role.
    type: str
    required: true
  main_cf:
    description: The main.cf the postfix role would write.
    type: str
    required: true
  master_cf:
    description: The master.cf the postfix role would write.
    type: str
    required: true
  config_dir:
    description: Postfix's configuration directory.
    type: path
    default: /etc/postfix
"""

EXAMPLES = r"""
- name: Read what replacing main.cf and master.cf would change
  partnermail.links.takeover_probe:
    header: "# Managed by partnermail.links (postfix role); local edits are overwritten."
    main_cf: "{{ model_validated | partnermail.links.main_cf(settings) }}"
    master_cf: "{{ model_validated | partnermail.links.master_cf(services, settings) }}"
  register: probe
"""

RETURN = r"""
stdout:
  description: Sections C(== state <file> <absent|ours|foreign>) and, where a file is somebody else's, C(== current
    -n), C(== current -M), C(== ours -n), C(== ours -M) and C(== dist -M), read by the C(takeover_findings) filter.
  returned: always
  type: str
states:
  description: Each file's state, C(absent), C(ours) or C(foreign).
  returned: always
  type: dict
  sample: {"main.cf": "foreign", "master.cf": "ours"}
"""

import os
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule

FILES = ("main.cf", "master.cf")
PACKAGE_MASTER_CF = "/usr/share/postfix/master.cf.dist"


def _state(path, header):
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            first = handle.readline().rstrip("\n")
    except FileNotFoundError:
        return "absent"
    return "ours" if first == header else "foreign"


def _read(path):
    """The text of ``path``, or "" when it does not exist."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except FileNotFoundError:
        return ""


def _postconf(module, postconf, directory, flag):
    args = [postconf, "-c", directory, flag]
    _rc, out, _err = module.run_command(args, environ_update={"LC_ALL": "C"})
    return out


def main():
    module = AnsibleModule(
        argument_spec=dict(
            header=dict(type="str", required=True),
            main_cf=dict(type="str", required=True),
            master_cf=dict(type="str", required=True),
            config_dir=dict(type="path", default="/etc/postfix"),
        ),
        supports_check_mode=True,
    )
    config_dir = module.params["config_dir"]
    states = {name: _state(os.path.join(config_dir, name), module.params["header"]) for name in FILES}
    lines = [f"== state {name} {states[name]}" for name in FILES]
    postconf = module.get_bin_path("postconf", required=False)
    # Only a file that is somebody else's is compared: an absent one or ours has nothing of the admin's to lose.
    if postconf and "foreign" in states.values():
        work = tempfile.mkdtemp(dir=module.tmpdir)
        # Our files as the role would write them; the package's master.cf with an empty main.cf (its defaults).
        sides = {"ours": (module.params["main_cf"] + "\n", module.params["master_cf"] + "\n"),
                 "dist": ("", _read(PACKAGE_MASTER_CF))}
        try:
            for side, texts in sides.items():
                os.mkdir(os.path.join(work, side))
                for name, text in zip(FILES, texts, strict=True):
                    with open(os.path.join(work, side, name), "w", encoding="utf-8") as handle:
                        handle.write(text)
            if states["main.cf"] != "absent":
                lines += ["== current -n", _postconf(module, postconf, config_dir, "-n")]
            if states["master.cf"] != "absent":
                lines += ["== current -M", _postconf(module, postconf, config_dir, "-M")]
            lines += ["== ours -n", _postconf(module, postconf, os.path.join(work, "ours"), "-n")]
            lines += ["== ours -M", _postconf(module, postconf, os.path.join(work, "ours"), "-M")]
            lines += ["== dist -M", _postconf(module, postconf, os.path.join(work, "dist"), "-M")]
        finally:
            shutil.rmtree(work, ignore_errors=True)
    module.exit_json(changed=False, stdout="\n".join(line.rstrip("\n") for line in lines) + "\n", states=states)


if __name__ == "__main__":
    main()
