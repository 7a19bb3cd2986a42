#!/usr/bin/python
# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Ansible module partnermail.links.private_key."""

DOCUMENTATION = r"""
module: private_key
short_description: Ensure an MTA's private key on the MTA itself and return only its public key
version_added: 0.1.0
author: partnermail.links developers (@partnermail)
description:
  - Ensures a private key at O(path) on the host the module runs on (the MTA). The key is created there, written
    atomically with its final mode already applied, and never returned, so it never leaves its host.
  - Returns the public key, for M(partnermail.links.certificate) to sign on the controller.
  - An existing key is kept unless it is of another type or size than asked (O(regenerate=on_mismatch)), or
    O(regenerate=always). Keeping the key across certificate renewals keeps a published TLSA C(3 1 1) record valid.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - partnermail.links.pki.CRYPTOGRAPHY
  - partnermail.links.pki.KEY
  - ansible.builtin.files
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  path:
    description: Path of the private key (PEM, PKCS#8, unencrypted).
    type: path
    required: true
  mode:
    description: Mode of the key file.
    type: raw
    default: "0600"
  regenerate:
    description:
      - C(on_mismatch) creates a new key when the file is missing, unparseable, or of another type, size or curve.
      - C(never) creates a key only when the file is missing and otherwise fails rather than replace it.
      - C(always) creates a new key on every run (key rotation; every certificate and TLSA record must follow).
    type: str
    choices: [on_mismatch, never, always]
    default: on_mismatch
"""

EXAMPLES = r"""
- name: Ensure the MTA's TLS key
  partnermail.links.private_key:
    path: /etc/postfix/partnermail/tls/mta.key
    owner: root
    group: postfix
    mode: "0640"
  register: mta_key

- name: Ensure an RSA key, never replacing an existing one
  partnermail.links.private_key:
    path: /etc/ssl/private/mta-rsa.key
    key_type: rsa
    key_size: 3072
    regenerate: never
"""

RETURN = r"""
public_key:
  description: The public key, PEM. Empty in check mode when a new key would be created.
  returned: always
  type: str
spki_sha256:
  description: SHA-256 of the DER SubjectPublicKeyInfo, colon-separated uppercase hex (a public-key pin).
  returned: always
  type: str
key_type:
  description: Type of the key now at O(path).
  returned: always
  type: str
  sample: ecdsa
key_size:
  description: RSA modulus size, for RSA keys.
  returned: when key_type is rsa
  type: int
curve:
  description: Curve, for ECDSA keys.
  returned: when key_type is ecdsa
  type: str
reason:
  description: Why a key was created (C(key missing), C(existing key unparseable), C(key type or size differs ...),
    C(regenerate=always)), or C(valid) when the key was kept.
  returned: always
  type: str
"""

import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.partnermail.links.plugins.module_utils import _io
from ansible_collections.partnermail.links.plugins.module_utils._pki import keys
from ansible_collections.partnermail.links.plugins.module_utils._pki.compat import (
    CRYPTOGRAPHY_IMPORT_ERROR,
    require_cryptography,
)
from ansible_collections.partnermail.links.plugins.module_utils._pki.errors import PkiError


def plan(params):
    """(key, reason, is_new) for the requested spec; raises PkiError."""
    spec = keys.KeySpec(params["key_type"], params["key_size"], params["curve"]).validate()
    _io.check_writable_parent(params["path"], "path")
    data = _io.read_optional(params["path"], "path")
    if data is None:
        return keys.generate_private_key(spec), "key missing", True
    if params["regenerate"] == "always":
        return keys.generate_private_key(spec), "regenerate=always", True
    try:
        key = keys.load_private_key(data, "path", unlock_option="path")
    except PkiError:
        if params["regenerate"] == "never":
            raise
        return keys.generate_private_key(spec), "existing key unparseable", True
    if keys.matches_spec(key, spec):
        return key, "valid", False
    have = keys.spec_of(key).describe()
    if params["regenerate"] == "never":
        raise PkiError("regenerate", f"the key at path is {have}, not {spec.describe()}, and regenerate=never")
    return keys.generate_private_key(spec), f"key type or size differs (was {have}, want {spec.describe()})", True


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            key_type=dict(type="str", default="ecdsa", choices=list(keys.KEY_TYPES)),
            key_size=dict(type="int", default=keys.DEFAULT_RSA_SIZE),
            curve=dict(type="str", default=keys.DEFAULT_CURVE, choices=list(keys.CURVES)),
            regenerate=dict(type="str", default="on_mismatch", choices=["on_mismatch", "never", "always"]),
            mode=dict(type="raw", default="0600"),
        ),
        add_file_common_args=True,
        supports_check_mode=True,
    )
    if module.check_mode and not os.path.lexists(module.params["path"]) and CRYPTOGRAPHY_IMPORT_ERROR is not None:
        # A first run's --check: the task that installs cryptography on the MTA changed nothing, and a key that
        # does not exist would be made whatever the library says.
        module.exit_json(changed=True, reason="created", key_type=module.params["key_type"], public_key="",
                         spki_sha256="")
    require_cryptography(module, missing_required_lib)
    try:
        key, reason, is_new = plan(module.params)
    except PkiError as exc:
        module.fail_json(msg=str(exc), option=exc.option)
    changed = is_new
    if is_new and not module.check_mode:
        _io.write_atomic(module.params["path"], keys.private_key_pem(key), 0o600)
    if not module.check_mode or not is_new:
        file_args = module.load_file_common_arguments(module.params)
        changed = module.set_fs_attributes_if_different(file_args, changed)
    spec = keys.spec_of(key)
    result = {"changed": changed, "reason": reason, "key_type": spec.key_type, "public_key": "", "spki_sha256": ""}
    result.update({"key_size": spec.key_size} if spec.key_type == "rsa" else {"curve": spec.curve})
    if not (is_new and module.check_mode):
        result["public_key"] = keys.public_key_pem(key.public_key())
        result["spki_sha256"] = keys.spki_sha256(key.public_key())
    module.exit_json(**result)


if __name__ == "__main__":
    main()
