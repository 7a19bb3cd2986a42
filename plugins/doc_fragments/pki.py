# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Option docs shared by the PKI modules; kept in step with module_utils/_pki."""


class ModuleDocFragment:
    # The minimum version here is the one module_utils/_pki/compat.py states: Debian 12 ships 38.0, and the
    # private_key module runs with the MTA's system Python.
    CRYPTOGRAPHY = r"""
options: {}
requirements:
  - cryptography >= 38.0
"""

    KEY = r"""
options:
  key_type:
    description:
      - Key algorithm. C(ecdsa) keys make the cheapest TLS handshakes; C(rsa) suits peers that cannot use ECDSA.
    type: str
    choices: [ecdsa, rsa]
    default: ecdsa
  key_size:
    description:
      - RSA modulus size in bits, one of 2048, 3072 or 4096. Ignored for ECDSA keys. Sizes below 2048 are refused.
    type: int
    default: 3072
  curve:
    description:
      - ECDSA curve. Ignored for RSA keys. Certificates signed by a C(secp384r1) key use SHA-384.
    type: str
    choices: [secp256r1, secp384r1]
    default: secp256r1
"""
