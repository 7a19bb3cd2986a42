#!/usr/bin/python
# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Ansible module partnermail.links.ca."""

DOCUMENTATION = r"""
module: ca
short_description: Ensure a private certificate authority for partner mail links
version_added: 0.1.0
author: partnermail.links developers (@partnermail)
description:
  - Ensures a private CA on the controller, a private key and a self-signed CA certificate, that the
    M(partnermail.links.certificate) module signs MTA certificates with.
  - The CA certificate has C(basicConstraints CA:TRUE, pathlen:0) (critical), C(keyUsage keyCertSign, cRLSign)
    (critical), and subject and authority key identifiers.
  - An existing valid CA is left alone. When its certificate expires within O(renew_before_days), or its subject
    differs from O(common_name)/O(organization), the certificate is issued anew with the same key and subject
    key identifier, so certificates the CA issued before keep verifying.
  - The key is never replaced without O(force). A CA key that does not match the CA certificate, an existing key of
    another type or size, or a certificate whose key is lost are errors that change nothing.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - partnermail.links.pki.CRYPTOGRAPHY
  - partnermail.links.pki.KEY
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  path:
    description: Path of the CA certificate (PEM). Written with mode C(0644).
    type: path
    required: true
  privatekey_path:
    description: Path of the CA private key (PEM, PKCS#8; encrypted when O(privatekey_passphrase) is given). Written
      with mode C(0600).
    type: path
    required: true
  privatekey_passphrase:
    description:
      - Passphrase that encrypts the CA private key at rest. An existing unencrypted key is rewritten encrypted (the
        CA stays the same); an encrypted key cannot be used without it.
      - Empty means the key is stored unencrypted.
    type: str
    default: ""
  create:
    description:
      - Create a new CA when neither the key nor the certificate exists. With V(false) a missing CA is an error
        naming this option, so that a run from a checkout that lost the CA (an ephemeral AWX project directory)
        cannot silently make a new one.
    type: bool
    default: true
  common_name:
    description: Common name of the CA subject.
    type: str
    required: true
  organization:
    description: Organization of the CA subject.
    type: str
    default: ""
  valid_days:
    description: Validity of a new CA certificate, in days.
    type: int
    default: 3650
  renew_before_days:
    description: Renew the CA certificate when it expires within this many days. Must be smaller than O(valid_days).
    type: int
    default: 180
  force:
    description: Create a new key and certificate even when a valid CA exists. Every issued certificate then no
      longer verifies and is reissued by M(partnermail.links.certificate).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Ensure the private CA for partner links
  partnermail.links.ca:
    path: /srv/partnermail/ca/ca.pem
    privatekey_path: /srv/partnermail/ca/ca.key
    common_name: Example Org partner mail CA
    organization: Example Org
  delegate_to: localhost
  run_once: true
  register: partnermail_ca

- name: Ensure an RSA 4096 CA valid for five years
  partnermail.links.ca:
    path: /srv/partnermail/ca/ca.pem
    privatekey_path: /srv/partnermail/ca/ca.key
    common_name: Example Org partner mail CA
    key_type: rsa
    key_size: 4096
    valid_days: 1825
"""

RETURN = r"""
certificate:
  description: The CA certificate, PEM. Empty in check mode when the CA would be created.
  returned: always
  type: str
not_after:
  description: End of the CA certificate's validity, ISO 8601 UTC.
  returned: when a certificate exists or was created
  type: str
  sample: "2036-11-27T10:00:00Z"
fingerprint_sha256:
  description: SHA-256 of the DER certificate, colon-separated uppercase hex.
  returned: when a certificate exists or was created
  type: str
spki_sha256:
  description: SHA-256 of the DER SubjectPublicKeyInfo, colon-separated uppercase hex.
  returned: when a certificate exists or was created
  type: str
reason:
  description: Why the CA was changed (C(created), C(certificate missing), C(subject differs), C(expires within N days),
    C(force), C(key encrypted) - an unencrypted key rewritten with the passphrase), or C(valid) when it was left alone.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.partnermail.links.plugins.module_utils import _io
from ansible_collections.partnermail.links.plugins.module_utils._pki import ca as ca_backend
from ansible_collections.partnermail.links.plugins.module_utils._pki import certs, keys, tlsa
from ansible_collections.partnermail.links.plugins.module_utils._pki.compat import require_cryptography
from ansible_collections.partnermail.links.plugins.module_utils._pki.errors import PkiError


def plan(params, now, check_mode=False):
    """Decide what to write: (key or None, certificate or None, reason); raises PkiError.

    In check mode the CA's directory may not exist yet (a first run's check: the task that makes it changed nothing).
    """
    spec = keys.KeySpec(params["key_type"], params["key_size"], params["curve"]).validate()
    ca_spec = ca_backend.CaSpec(
        params["common_name"], params["organization"], params["valid_days"], params["renew_before_days"]
    ).validate()
    _io.check_writable_parent(params["path"], "path", missing_ok=check_mode)
    _io.check_writable_parent(params["privatekey_path"], "privatekey_path", missing_ok=check_mode)
    key_data = _io.read_optional(params["privatekey_path"], "privatekey_path")
    cert_data = _io.read_optional(params["path"], "path")
    if params["force"]:
        key = keys.generate_private_key(spec)
        return key, ca_backend.build_ca_certificate(key, ca_spec, now), "force"
    passphrase = params["privatekey_passphrase"] or None
    if key_data is None:
        if cert_data is None and not params["create"]:
            raise PkiError(
                "create",
                f"there is no CA at {params['privatekey_path']} and creating one is not allowed here: restore the CA "
                "(ca.pem and ca.key) or allow a new one (every certificate it issued will be replaced)",
            )
        if cert_data is not None:
            raise PkiError(
                "privatekey_path",
                f"{params['privatekey_path']} is missing but the CA certificate {params['path']} exists; restore "
                "the key or set force=true to create a new CA",
            )
        key = keys.generate_private_key(spec)
        return key, ca_backend.build_ca_certificate(key, ca_spec, now), "created"
    key = keys.load_private_key(key_data, "privatekey_path", passphrase, "privatekey_passphrase")
    rewrite_key = key if passphrase and not keys.is_encrypted_pem(key_data) else None
    if not keys.matches_spec(key, spec):
        have = keys.spec_of(key).describe()
        raise PkiError(
            "key_type",
            f"the existing CA key is {have}, not {spec.describe()}; set force=true to replace the CA",
        )
    cert = None
    if cert_data is not None:
        try:
            cert = tlsa.load_certificate(cert_data, "path")
        except PkiError:
            return rewrite_key, ca_backend.build_ca_certificate(key, ca_spec, now), "certificate unparseable"
    reason = ca_backend.renewal_reason(cert, key, ca_spec, now)
    if reason is None:
        return rewrite_key, None, "valid" if rewrite_key is None else "key encrypted"
    return rewrite_key, ca_backend.build_ca_certificate(key, ca_spec, now), reason


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            privatekey_path=dict(type="path", required=True),
            common_name=dict(type="str", required=True),
            organization=dict(type="str", default=""),
            key_type=dict(type="str", default="ecdsa", choices=list(keys.KEY_TYPES)),
            key_size=dict(type="int", default=keys.DEFAULT_RSA_SIZE),
            curve=dict(type="str", default=keys.DEFAULT_CURVE, choices=list(keys.CURVES)),
            valid_days=dict(type="int", default=3650),
            renew_before_days=dict(type="int", default=180),
            force=dict(type="bool", default=False),
            privatekey_passphrase=dict(type="str", default="", no_log=True),
            create=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    require_cryptography(module, missing_required_lib)
    try:
        new_key, new_cert, reason = plan(module.params, certs.utcnow(), module.check_mode)
        cert = new_cert
        if cert is None:
            cert = tlsa.load_certificate(_io.read_required(module.params["path"], "path"), "path")
    except PkiError as exc:
        module.fail_json(msg=str(exc), option=exc.option)
    changed = new_cert is not None or new_key is not None
    if changed and not module.check_mode:
        if new_key is not None:
            pem = keys.private_key_pem(new_key, module.params["privatekey_passphrase"] or None)
            _io.write_atomic(module.params["privatekey_path"], pem, 0o600)
        if new_cert is not None:
            _io.write_atomic(module.params["path"], certs.pem(new_cert).encode(), 0o644)
    result = {"changed": changed, "reason": reason, "certificate": ""}
    if not (changed and module.check_mode and new_key is not None):
        info = certs.facts(cert)
        result.update({k: info[k] for k in ("certificate", "not_after", "fingerprint_sha256", "spki_sha256")})
    module.exit_json(**result)


if __name__ == "__main__":
    main()
