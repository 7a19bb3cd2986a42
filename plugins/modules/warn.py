# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Documentation of the action plugin partnermail.links.warn (plugins/action/warn.py does the work)."""

DOCUMENTATION = r"""
module: warn
short_description: Show messages as Ansible warnings
version_added: 0.2.0
author: partnermail.links developers (@partnermail)
description:
  - Shows each message as a warning of the task (C([WARNING]) in the output, and in the result's warnings), on the
    controller, without contacting the host. Nothing is changed.
  - The model role uses it to warn, on every run, about each partner in test mode (its link is NOT ENFORCED).
options:
  msg:
    description: The message, or a list of messages (one warning each; an empty list shows none).
    type: raw
    required: true
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.conn
  - ansible.builtin.action_common_attributes.flow
attributes:
  action:
    support: full
  async:
    support: none
  become:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
  connection:
    support: none
  delegation:
    support: none
  diff_mode:
    support: none
  platform:
    platforms: all
"""

EXAMPLES = r"""
- name: Warn about every partner of this MTA in test mode
  partnermail.links.warn:
    msg: "{{ model_validated | partnermail.links.mode_warnings(inventory_hostname) }}"
"""

RETURN = r"""
warned:
  description: How many warnings were shown.
  returned: always
  type: int
"""
