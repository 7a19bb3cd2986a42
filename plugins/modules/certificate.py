#!/usr/bin/python
# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Ansible module partnermail.links.certificate."""

DOCUMENTATION = r"""
module: certificate
short_description: Sign an MTA's public key with the private CA and keep the certificate current
version_added: 0.1.0
author: partnermail.links developers (@partnermail)
description:
  - Runs on the controller, next to the CA made by M(partnermail.links.ca). Signs O(public_key), as returned by
    M(partnermail.links.private_key) on the MTA, and maintains the certificate at O(path).
  - The certificate carries O(common_name) and O(subject_alt_names) (the common name is added to the SANs when it
    is a DNS name), C(basicConstraints CA:FALSE), and extended key usage C(serverAuth) and C(clientAuth), so the
    same certificate serves the MTA's SMTP server and its SMTP client (mutual TLS).
  - It is reissued only when it is missing or unparseable, its key, names or issuer differ, its signature no
    longer verifies with the CA, its key usage is not the one above, or it expires within O(renew_before_days).
    RV(reason) says which. A certificate never outlives its CA.
  - Refuses, changing nothing, to sign with a CA key that does not match the CA certificate, with an expired CA,
    or with names that are not valid DNS names or IP addresses.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - partnermail.links.pki.CRYPTOGRAPHY
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
    description: Path of the certificate (PEM) on the host the module runs on.
    type: path
    required: true
  mode:
    description: Mode of the certificate file.
    type: raw
    default: "0644"
  ca_path:
    description: Path of the CA certificate.
    type: path
    required: true
  ca_privatekey_path:
    description: Path of the CA private key.
    type: path
    required: true
  ca_privatekey_passphrase:
    description: Passphrase of the CA private key, when it is encrypted
      (O(partnermail.links.ca#module:privatekey_passphrase)).
    type: str
    default: ""
  public_key:
    description: The public key to certify, PEM (RV(partnermail.links.private_key#module:public_key)).
    type: str
    required: true
  common_name:
    description: Common name of the subject, usually the MTA's host name.
    type: str
    required: true
  subject_alt_names:
    description:
      - Subject alternative names, C(DNS:name) or C(IP:address); a bare value is taken as an IP address when it
        parses as one and as a DNS name otherwise. A leading C(*.) wildcard label is allowed.
    type: list
    elements: str
    default: []
  valid_days:
    description: Validity of a new certificate, in days (capped at the CA's own expiry).
    type: int
    default: 365
  renew_before_days:
    description: Reissue when the certificate expires within this many days. Must be smaller than O(valid_days).
    type: int
    default: 30
  force:
    description: Issue a new certificate even when the existing one is current.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Sign the MTA's key with the partner-link CA
  partnermail.links.certificate:
    path: "/srv/partnermail/certs/{{ inventory_hostname }}.pem"
    ca_path: /srv/partnermail/ca/ca.pem
    ca_privatekey_path: /srv/partnermail/ca/ca.key
    public_key: "{{ mta_key.public_key }}"
    common_name: mx.a.example
    subject_alt_names:
      - DNS:mx.a.example
      - DNS:a.example
  delegate_to: localhost
  register: mta_cert

- name: Show the TLSA record the MTA must publish
  ansible.builtin.debug:
    msg: "_25._tcp.mx.a.example. IN TLSA {{ mta_cert.tlsa }}"
"""

RETURN = r"""
certificate:
  description: The certificate, PEM.
  returned: success
  type: str
chain:
  description: The certificate followed by the CA certificate, PEM, as a server presents them.
  returned: success
  type: str
not_after:
  description: End of validity, ISO 8601 UTC.
  returned: success
  type: str
  sample: "2027-11-29T10:00:00Z"
fingerprint_sha256:
  description: SHA-256 of the DER certificate, colon-separated uppercase hex.
  returned: success
  type: str
spki_sha256:
  description: SHA-256 of the DER SubjectPublicKeyInfo, colon-separated uppercase hex.
  returned: success
  type: str
tlsa:
  description: The DANE-EE TLSA rdata C(3 1 1 <sha256 of the SPKI>) for this certificate.
  returned: success
  type: str
  sample: "3 1 1 8f0c5a..."
reason:
  description: Why the certificate was issued (C(certificate missing), C(key differs), C(names differ),
    C(issuer differs), C(signature does not verify with the CA), C(extended key usage differs),
    C(expires within N days), C(force)), or C(valid) when it was left alone.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.partnermail.links.plugins.module_utils import _io
from ansible_collections.partnermail.links.plugins.module_utils._pki import ca, certs, keys, leaf, tlsa
from ansible_collections.partnermail.links.plugins.module_utils._pki.compat import require_cryptography
from ansible_collections.partnermail.links.plugins.module_utils._pki.errors import PkiError


def plan(params, now):
    """(certificate now or to be written, CA certificate, reason, must_write); raises PkiError."""
    spec = leaf.LeafSpec(
        params["common_name"], tuple(params["subject_alt_names"]), params["valid_days"], params["renew_before_days"]
    ).validate()
    public_key = keys.load_public_key(params["public_key"], "public_key")
    ca_cert = tlsa.load_certificate(_io.read_required(params["ca_path"], "ca_path"), "ca_path")
    ca_key = keys.load_private_key(_io.read_required(params["ca_privatekey_path"], "ca_privatekey_path"),
                                   "ca_privatekey_path", params["ca_privatekey_passphrase"] or None,
                                   "ca_privatekey_passphrase")
    ca.check_signing_ca(ca_cert, ca_key, now)
    _io.check_writable_parent(params["path"], "path")
    data = _io.read_optional(params["path"], "path")
    cert, reason = None, None
    if data is not None:
        try:
            cert = tlsa.load_certificate(data, "path")
        except PkiError:
            reason = "existing certificate unparseable"
    if params["force"]:
        reason = "force"
    reason = reason or leaf.reissue_reason(cert, public_key, ca_cert, spec, now)
    if reason is None:
        return cert, ca_cert, "valid", False
    return leaf.issue_certificate(public_key, ca_cert, ca_key, spec, now), ca_cert, reason, True


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            ca_path=dict(type="path", required=True),
            ca_privatekey_path=dict(type="path", required=True),
            ca_privatekey_passphrase=dict(type="str", default="", no_log=True),
            public_key=dict(type="str", required=True),
            common_name=dict(type="str", required=True),
            subject_alt_names=dict(type="list", elements="str", default=[]),
            valid_days=dict(type="int", default=365),
            renew_before_days=dict(type="int", default=30),
            force=dict(type="bool", default=False),
            mode=dict(type="raw", default="0644"),
        ),
        add_file_common_args=True,
        supports_check_mode=True,
    )
    require_cryptography(module, missing_required_lib)
    try:
        cert, ca_cert, reason, must_write = plan(module.params, certs.utcnow())
    except PkiError as exc:
        module.fail_json(msg=str(exc), option=exc.option)
    changed = must_write
    if must_write and not module.check_mode:
        _io.write_atomic(module.params["path"], certs.pem(cert).encode(), 0o644)
    if not module.check_mode or not must_write:
        changed = module.set_fs_attributes_if_different(module.load_file_common_arguments(module.params), changed)
    result = certs.facts(cert)
    result.update(changed=changed, reason=reason, chain=certs.pem(cert) + certs.pem(ca_cert))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
