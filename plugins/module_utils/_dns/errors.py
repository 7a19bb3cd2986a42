"""Errors raised by the DNS backend for bad input; answers about a domain are never errors.

Like the PKI backend's errors, each one names the module option it is about.
"""


class DnsError(Exception):
    """Bad input or an unusable resolver set-up, attributed to one option."""

    def __init__(self, option, reason):
        super().__init__(f"{option}: {reason}")
        self.option = option
        self.reason = reason
