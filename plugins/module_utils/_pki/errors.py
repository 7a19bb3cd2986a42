"""Errors raised by the PKI backend.

Every error names the module option it is about, so a module can report
``option: reason`` and a user knows which input to fix.
"""


class PkiError(Exception):
    """Bad input or an unusable file, attributed to one option."""

    def __init__(self, option, reason):
        super().__init__(f"{option}: {reason}")
        self.option = option
        self.reason = reason
