# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter partnermail.links.tlsa: certificate PEM -> TLSA rdata."""

from ansible.errors import AnsibleFilterError

from ansible_collections.partnermail.links.plugins.module_utils._pki import tlsa as backend
from ansible_collections.partnermail.links.plugins.module_utils._pki.compat import (
    CRYPTOGRAPHY_IMPORT_ERROR,
    MINIMUM_CRYPTOGRAPHY_VERSION,
)
from ansible_collections.partnermail.links.plugins.module_utils._pki.errors import PkiError


def tlsa(certificate, usage=3, selector=1, matching_type=1):
    """The TLSA rdata of a PEM certificate; the same function the certificate module uses."""
    if CRYPTOGRAPHY_IMPORT_ERROR is not None:
        raise AnsibleFilterError(
            f"the tlsa filter needs the Python library cryptography >= {MINIMUM_CRYPTOGRAPHY_VERSION}"
        )
    try:
        return backend.tlsa_rdata(backend.load_certificate(certificate, "_input"), usage, selector, matching_type)
    except PkiError as exc:
        raise AnsibleFilterError(f"partnermail.links.tlsa: {exc}") from None


class FilterModule:
    def filters(self):
        return {"tlsa": tlsa}
