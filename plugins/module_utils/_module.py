# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""AnsibleModule for modules whose parameters grow with the partners (maps, trust anchors, the whole model).

AnsibleModule logs every call to the host's syslog or journal ("Invoked with ..."): each parameter turned into one
string and searched for password-like text character by character, and returns every parameter as it came in the
result (``invocation.module_args``), after searching every string of it for every no_log value. At 1000 partners
that is a megabyte written to the MTA's log on every run, and about a second of CPU per module call before and
after its work (measured on link_report: 0.97 s of AnsibleModule() alone; issue 13). Here the bulky parameters are
summed up in both places instead; the others are logged and returned as AnsibleModule does.
"""

from ansible.module_utils.basic import AnsibleModule


def summary(value):
    """A bulky parameter in a few words."""
    if isinstance(value, (list, dict)):
        return f"({len(value)} {'entry' if len(value) == 1 else 'entries'}, not echoed)"
    if isinstance(value, str):
        return f"({len(value)} characters, not echoed)"
    return value


class BulkyModule(AnsibleModule):
    """AnsibleModule; ``bulky`` names the parameters that are neither logged nor returned whole."""

    def __init__(self, *args, bulky=(), **kwargs):
        self._bulky = tuple(bulky)
        super().__init__(*args, **kwargs)

    def summed_up(self):
        return {name: summary(value) if name in self._bulky else value for name, value in self.params.items()}

    def _log_invocation(self):
        params = self.params
        self.params = self.summed_up()
        try:
            super()._log_invocation()
        finally:
            self.params = params

    def exit_json(self, **kwargs):
        kwargs.setdefault("invocation", {"module_args": self.summed_up()})
        super().exit_json(**kwargs)

    def fail_json(self, msg, **kwargs):
        kwargs.setdefault("invocation", {"module_args": self.summed_up()})
        super().fail_json(msg, **kwargs)
