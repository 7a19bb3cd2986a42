#!/usr/bin/python
# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Ansible module partnermail.links.smtp_probe."""

DOCUMENTATION = r"""
module: smtp_probe
short_description: Probe an SMTP nexthop - STARTTLS, the certificate, and AUTH - as a sending MTA would
version_added: 0.1.0
author: partnermail.links developers (@partnermail)
description:
  - Runs on the MTA, connects to O(host) on O(port), reads the greeting, sends EHLO, STARTTLS, and EHLO again, and
    reports the TLS protocol and cipher, the certificate chain the server presented, the checks of that chain
    asked for, and the AUTH mechanisms offered before and after STARTTLS. With O(username) and O(password) it
    also tries AUTH PLAIN (or LOGIN), over TLS only. Then it says QUIT. It never sends mail.
  - Credentials are never sent before TLS is up. AUTH offered before STARTTLS is reported in RV(findings).
  - How far the dialogue got is RV(status). A refused port, a silent port, a server without STARTTLS or a failed
    handshake is a status with a RV(message), within O(timeout) for each step, not a module failure.
  - The module fails when a requirement in O(require) is not met - the message lists each one with the reason,
    and every other return value is still returned - or on bad input, with a message that names the option.
  - A certificate that fails a check is still reported with RV(chain) (see RV(trusted) for how). Python 3.13
    hands over the whole chain the server sent; Python 3.10 to 3.12 do too, through the same call on the private
    C(_sslobj) (used when present); on other versions only the server certificate is recorded (RV(chain_source)
    says which).
  - "RV(trusted) is OpenSSL's verdict, the verifier Postfix uses: the probe's handshake (TLS 1.2 or later) is made
    with only O(ca_file), O(ca_content) or the system trust store as trust anchors, and fails unless OpenSSL
    verifies the chain the server sends; when it succeeds the dialogue goes on in that session, one connection
    in all. When it fails, the module connects a second time to the same address with a handshake that accepts
    any certificate, records what the server presents and finishes the dialogue there, and RV(trusted) is false
    with OpenSSL's reason. OpenSSL checks signatures, validity dates, basicConstraints,
    pathLenConstraint, keyUsage, serverAuth in extendedKeyUsage, name constraints. A trust anchor need not be a
    root (an intermediate or the server certificate itself will do, as with Postfix's C(tafile=)); no
    revocation checks, no fetching of missing intermediates (the server must send them); host names are not
    OpenSSL's to check here but O(match)'s. The server logs a failed verification as a TLS failure (and the
    second connection)."
  - "The other checks are the module's own, over the certificates recorded: RV(name_matched) - the certificate
    carries one of O(match), by Postfix's rules. RV(fingerprint_matched) - the certificate or its public key is
    pinned in O(fingerprints). RV(tlsa_matched) - a O(tlsa) record matches (RFC 7672); the chain to a DANE-TA
    certificate is OpenSSL's verdict again."
  - Read-only; RV(ignore:changed) is always false.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - partnermail.links.pki.CRYPTOGRAPHY
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  host:
    description:
      - Host name or IP address of the nexthop. Postfix's C([host]) form is accepted.
      - A name is resolved by the system resolver; there is no MX lookup (see M(partnermail.links.mx_info)).
    type: str
    required: true
  port:
    description: TCP port.
    type: int
    default: 25
  timeout:
    description:
      - Seconds each step may take, as a deadline - the connection (all addresses of O(host) together), each
        reply (the greeting, the reply to each command, however slowly its lines or bytes arrive), the TLS
        handshake, the whole AUTH exchange. A silent or drip-feeding server gives RV(status=timeout) after this
        long, with a RV(message) naming the step. Name resolution by the system resolver is not included.
    type: float
    default: 10.0
  helo_name:
    description:
      - Name sent with EHLO, a host name or an address literal like C([192.0.2.1]). Use the MTA's C(myhostname).
      - By default the kernel's host name (never looked up in DNS), or C(localhost) when that is not a valid name.
    type: str
  server_name:
    description:
      - Name sent as TLS SNI. By default O(host) when it is a name; nothing when O(host) is an IP address.
        An empty string sends no SNI.
      - Also the name a DANE-TA match is checked against when O(match) is empty.
    type: str
  ca_file:
    description:
      - PEM file on the MTA with the CA certificates to trust for RV(trusted), instead of the system store.
    type: path
  ca_content:
    description: Like O(ca_file), the PEM text itself. Mutually exclusive with O(ca_file).
    type: str
  match:
    description:
      - Names the server certificate must carry (one is enough), matched like Postfix does - against the DNS
        subject alternative names, or the common name when there are none; a C(*.) wildcard in the certificate
        covers exactly one leftmost label; a pattern C(.example.com) matches any subdomain of example.com.
      - IP addresses match IP address subject alternative names. Postfix's C(hostname), C(nexthop) and
        C(dot-nexthop) strategies are not accepted - give the names they stand for.
    type: list
    elements: str
    default: []
  fingerprints:
    description:
      - SHA-256 pins of the server certificate or of its public key (SubjectPublicKeyInfo), 64 hex digits, bare or
        colon-separated, as RV(partnermail.links.certificate#module:fingerprint_sha256) and
        RV(partnermail.links.certificate#module:spki_sha256) return them. One match is enough.
    type: list
    elements: str
    default: []
  tlsa:
    description:
      - TLSA record data C(usage selector matching_type hex), as RV(partnermail.links.mx_info#module:mx[].tlsa)
        returns it. One match is enough.
      - DANE-EE (3) matches the server certificate (selector 0) or its public key (selector 1), compared whole
        (matching type 0), by SHA-256 (1) or SHA-512 (2); names and dates are not checked (RFC 7672).
      - DANE-TA (2) matches a CA certificate the server sent; the server certificate must carry one of O(match)
        (or O(server_name), or O(host)) and chain to it - OpenSSL's verdict, on one more verifying connection
        with that CA as the only trust anchor (dates, EKU and name constraints count, as for RV(trusted)).
      - PKIX-TA (0) and PKIX-EE (1) records are accepted but never match, as RFC 7672 makes them unusable for SMTP.
    type: list
    elements: str
    default: []
  username:
    description: SASL user name to try with AUTH after STARTTLS. Requires O(password).
    type: str
  password:
    description: SASL password to try with AUTH after STARTTLS. Never sent without TLS, never returned.
    type: str
  client_chain:
    description:
      - Our certificate chain (PEM, leaf first) to present when the server asks for a client certificate, as
        Postfix presents C(smtp_tls_chain_files). Requires O(client_key).
      - A server that requires a client certificate (a partner identifying us by ours) ends the handshake of a probe
        without one.
    type: path
    version_added: 0.2.0
  client_key:
    description: The private key of O(client_chain) (PEM). Read on the host the probe runs on; never returned.
    type: path
    version_added: 0.2.0
  require:
    description:
      - What must hold, else the module fails (after returning everything it found).
      - C(starttls) - STARTTLS is offered. C(tls) - a TLS session was established. C(tlsv1.2), C(tlsv1.3) - at
        least that protocol version.
      - C(trusted) - RV(trusted). C(name) - RV(name_matched) (needs O(match)). C(fingerprint) - RV(fingerprint_matched)
        (needs O(fingerprints)). C(tlsa) - RV(tlsa_matched) (needs O(tlsa)). C(verified) - RV(verified).
      - C(auth) - AUTH is offered after STARTTLS and, with O(username), the credentials were accepted.
      - C(no_auth_before_tls) - AUTH is not offered before STARTTLS.
    type: list
    elements: str
    choices: [starttls, tls, tlsv1.2, tlsv1.3, trusted, name, fingerprint, tlsa, verified, auth, no_auth_before_tls]
    default: []
notes:
  - To reproduce Postfix's TLS security levels - C(encrypt) is O(require=[tls]); C(verify) and C(secure) are
    O(ca_file) and O(match) with O(require=[verified]); C(fingerprint) is O(fingerprints) with
    O(require=[fingerprint]); C(dane-only) is O(tlsa) from M(partnermail.links.mx_info) (when its
    RV(partnermail.links.mx_info#module:mx[].dane) is true) with O(require=[tlsa]).
"""

EXAMPLES = r"""
- name: Probe the partner's smart host with its CA, its names and our credentials
  partnermail.links.smtp_probe:
    host: backup.contoso.example
    port: 587
    helo_name: mx.a.example
    ca_file: /etc/postfix/partners/contoso-ca.pem
    match: [contoso.example, .contoso.example]
    username: a-example
    password: "{{ vault_contoso_out }}"
    require: [tls, tlsv1.2, verified, auth]
  register: contoso_link

- name: Check a pinned partner without failing the play
  partnermail.links.smtp_probe:
    host: "[192.0.2.25]"
    fingerprints:
      - "8F:0C:5A:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC"
  register: pinned

- name: Report what was found
  ansible.builtin.debug:
    msg: "{{ pinned.status }}: {{ pinned.message }}; findings: {{ pinned.findings }}"

- name: Probe every DANE-enabled MX host of a domain
  partnermail.links.smtp_probe:
    host: "{{ item.host }}"
    tlsa: "{{ item.tlsa.records }}"
    require: [tlsa, no_auth_before_tls]
  loop: "{{ partner_mx.mx | selectattr('dane') | list }}"
  loop_control:
    label: "{{ item.host }}"
"""

RETURN = r"""
status:
  description:
    - How far the dialogue got. C(ok) - TLS was established and the dialogue completed (whatever the checks found).
      C(refused), C(timeout), C(unresolvable), C(unreachable) - no SMTP dialogue, or it stalled (see RV(stage)).
      C(rejected) - the greeting or EHLO was a refusal. C(closed) - the server hung up. C(protocol_error) - the
      server did not speak SMTP, or sent data behind its reply to STARTTLS. C(no_starttls) - STARTTLS is not
      offered or was refused. C(tls_failed) - the TLS handshake failed.
  returned: always
  type: str
  sample: ok
stage:
  description: Where the dialogue stopped, one of C(connect), C(banner), C(ehlo), C(starttls), C(handshake),
    C(ehlo_tls), C(auth), C(quit) (C(quit) when it completed).
  returned: always
  type: str
message:
  description: What happened, in words; for C(ok) the protocol, cipher, verification and AUTH outcome.
  returned: always
  type: str
  sample: "TLSv1.3 TLS_AES_256_GCM_SHA384; certificate verified (trusted, name_matched); AUTH PLAIN accepted"
host:
  description: The host probed, normalised.
  returned: always
  type: str
port:
  description: The port probed.
  returned: always
  type: int
peer:
  description: The address connected to, null when no connection was made.
  returned: always
  type: str
helo_name:
  description: The EHLO name sent.
  returned: always
  type: str
banner:
  description: The greeting, with its code; null when none was read.
  returned: always
  type: str
  sample: 220 mx.contoso.example ESMTP Postfix
ehlo_before_tls:
  description: EHLO extensions offered before STARTTLS.
  returned: always
  type: list
  elements: str
  sample: [PIPELINING, SIZE 10240000, STARTTLS, 8BITMIME]
starttls:
  description: Whether STARTTLS is offered.
  returned: always
  type: bool
auth_before_tls:
  description: AUTH mechanisms offered before STARTTLS; anything here is a finding.
  returned: always
  type: list
  elements: str
tls:
  description: The TLS session - C(protocol), C(cipher), C(bits); empty when none was established.
  returned: always
  type: dict
  sample: {protocol: TLSv1.3, cipher: TLS_AES_256_GCM_SHA384, bits: 256}
ehlo_after_tls:
  description: EHLO extensions offered after STARTTLS.
  returned: always
  type: list
  elements: str
auth_mechanisms:
  description: AUTH mechanisms offered after STARTTLS.
  returned: always
  type: list
  elements: str
  sample: [PLAIN, LOGIN]
chain:
  description: The certificates the server presented, server certificate first.
  returned: always
  type: list
  elements: dict
  contains:
    subject:
      description: Subject, RFC 4514 string.
      type: str
    issuer:
      description: Issuer, RFC 4514 string.
      type: str
    subject_alt_names:
      description: C(DNS:name) and C(IP:address) entries.
      type: list
      elements: str
    not_before:
      description: Start of validity, ISO 8601 UTC.
      type: str
    not_after:
      description: End of validity, ISO 8601 UTC.
      type: str
    sha256:
      description: SHA-256 of the DER certificate, colon-separated uppercase hex.
      type: str
    spki_sha256:
      description: SHA-256 of the DER SubjectPublicKeyInfo, colon-separated uppercase hex.
      type: str
    ca:
      description: Whether it is a CA certificate.
      type: bool
chain_source:
  description: C(peer) (the whole chain the server sent), C(leaf_only) (only the server certificate was available)
    or C(none).
  returned: always
  type: str
trust_source:
  description: Where the trust anchors came from - C(ca_file), C(ca_content) or C(system).
  returned: always
  type: str
trusted:
  description:
    - Whether OpenSSL verified the chain to the trust anchors in the probe's handshake (see the description); null
      without a certificate.
    - When that handshake failed for another reason than the certificate, a separate verifying connection decides;
      false too when it failed before its handshake, or presented another certificate than the one in
      RV(chain). RV(trust_detail) says which.
    - Since OpenSSL decides, name constraints in the CAs count - a certificate outside a CA's permitted names
      is no longer trusted - and so do OpenSSL's other RFC 5280 checks.
  returned: always
  type: bool
trust_detail:
  description:
    - "The path OpenSSL verified (C(leaf <- intermediate <- anchor), subjects; C(verified by OpenSSL) on a Python
      that does not hand it over), or why the chain is not trusted - OpenSSL's reason with its X509 error
      number, C(OpenSSL: <reason> (X509 verify error <n>)), or why the verifying connection gave no verdict."
  returned: always
  type: str
  sample: "OpenSSL: permitted subtree violation (X509 verify error 47)"
name_matched:
  description: Whether the certificate carries one of O(match); null without O(match) or a certificate.
  returned: always
  type: bool
matched_name:
  description: The O(match) entry that matched.
  returned: always
  type: str
fingerprint_matched:
  description: Whether a pin in O(fingerprints) matched; null without O(fingerprints) or a certificate.
  returned: always
  type: bool
matched_fingerprint:
  description: The pin that matched, lower-case hex without colons.
  returned: always
  type: str
tlsa_matched:
  description: Whether a O(tlsa) record matched; null without O(tlsa) or a certificate.
  returned: always
  type: bool
matched_tlsa:
  description: The record that matched, normalised (C(3 1 1 <lower-case hex>)).
  returned: always
  type: str
tlsa_detail:
  description: How the record matched, or why none did.
  returned: always
  type: str
verified:
  description:
    - True when every check the options ask for passed - RV(trusted) when a CA is given or when neither
      O(fingerprints) nor O(tlsa) are (pins and DANE stand on their own, as in Postfix), plus RV(name_matched),
      RV(fingerprint_matched) and RV(tlsa_matched) for each of O(match), O(fingerprints), O(tlsa) given.
    - Null without a certificate.
  returned: always
  type: bool
auth:
  description: The AUTH attempt - C(attempted), C(mechanism) (C(PLAIN), C(LOGIN) or null), C(success) (null when
    not attempted) and the server's last C(reply) (or why nothing was tried).
  returned: always
  type: dict
  sample: {attempted: true, mechanism: PLAIN, success: true, reply: "235 2.7.0 Authentication successful"}
findings:
  description: Security-relevant observations - AUTH before STARTTLS, no STARTTLS, an old protocol, a certificate
    that has expired or expires within 30 days.
  returned: always
  type: list
  elements: str
missing:
  description: "Each O(require) entry that was not met, as C(requirement: reason); the module failed when not empty."
  returned: always
  type: list
  elements: str
  sample: ["auth: AUTH PLAIN failed: 535 5.7.8 Error: authentication failed"]
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.partnermail.links.plugins.module_utils._pki.compat import require_cryptography
from ansible_collections.partnermail.links.plugins.module_utils._smtp import probe
from ansible_collections.partnermail.links.plugins.module_utils._smtp.errors import ProbeError


def main():
    module = AnsibleModule(
        argument_spec=dict(
            host=dict(type="str", required=True),
            port=dict(type="int", default=25),
            timeout=dict(type="float", default=probe.DEFAULT_TIMEOUT),
            helo_name=dict(type="str"),
            server_name=dict(type="str"),
            ca_file=dict(type="path"),
            ca_content=dict(type="str"),
            match=dict(type="list", elements="str", default=[]),
            fingerprints=dict(type="list", elements="str", default=[]),
            tlsa=dict(type="list", elements="str", default=[]),
            username=dict(type="str"),
            password=dict(type="str", no_log=True),
            require=dict(type="list", elements="str", default=[], choices=list(probe.REQUIREMENTS)),
            client_chain=dict(type="path"),
            client_key=dict(type="path"),
        ),
        mutually_exclusive=[("ca_file", "ca_content")],
        required_together=[("username", "password"), ("client_chain", "client_key")],
        supports_check_mode=True,
    )
    require_cryptography(module, missing_required_lib)
    try:
        result = probe.run(module.params)
    except ProbeError as exc:
        module.fail_json(msg=str(exc), option=exc.option)
    if result["missing"]:
        module.fail_json(msg="requirements not met: " + "; ".join(result["missing"]), changed=False, **result)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
