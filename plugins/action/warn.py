# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin partnermail.links.warn: show messages as Ansible warnings, on the controller."""

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

display = Display()


def messages(value):
    """The messages of ``msg``: one string, or a list of strings; anything else is refused."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
        return list(value)
    raise AnsibleActionFail("msg: must be a string or a list of strings")


class ActionModule(ActionBase):
    """Each message becomes one warning of the task; nothing is changed and no host is contacted."""

    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        _validation, args = self.validate_argument_spec(argument_spec={"msg": {"type": "raw", "required": True}})
        result = super().run(tmp, task_vars)
        del tmp  # no temporary directory is used
        shown = messages(args["msg"])
        for message in shown:
            display.warning(message)
        result.update(changed=False, warned=len(shown))
        return result
