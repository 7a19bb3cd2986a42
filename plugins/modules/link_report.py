#!/usr/bin/python
# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Ansible module partnermail.links.link_report."""

DOCUMENTATION = r"""
module: link_report
short_description: Probe every partner connector of an MTA with that link's policy and credentials
version_added: 0.1.0
author: partnermail.links developers (@partnermail)
description:
  - Runs on the MTA, after provisioning. For every connector of every partner (in cost order) it finds the hosts
    Postfix would use (the MX hosts of the partner domain for C(via=dns), with their DNSSEC status and TLSA
    records, or the fixed host), then connects to each, does STARTTLS, checks the certificate exactly as the
    partner's C(tls.level) asks (CA and names, pins, or DANE TLSA), and logs in with the link's outbound
    credentials (it then quits; it never sends mail).
  - An MX host whose name is another partner's MX-routed domain fails its row, since Postfix looks up SASL credentials
    by the server's host name before the nexthop, so it would log in there with that other partner's credentials.
  - A partner in test mode (C(mode=test)) is probed the same way, with its declared policy, to show whether that
    policy would hold once enforced; its rows carry C(mode=test) and its failures count in RV(test_failures), not in
    RV(failures).
  - Probes run concurrently; one module call covers all partners. Read-only - RV(ignore:changed) is always false.
  - Also returns this MTA's own certificate facts (expiry, SPKI fingerprint, the TLSA C(3 1 1) record to publish).
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - partnermail.links.pki.CRYPTOGRAPHY
  - partnermail.links.network.DNSPYTHON
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  partners:
    description: The partners of the validated model (C(model_validated.partnermail_partners)); their passwords are
      used for the login check and never returned.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The partner's name.
        type: str
        required: true
      mode:
        description: C(enforce), or C(test) for a partner whose link is probed and reported but not enforced.
        type: str
        choices: [enforce, test]
        default: enforce
        version_added: 0.2.0
      transport:
        description: Its transport (unused here).
        type: str
      domains:
        description: Its domains.
        type: list
        elements: str
        required: true
      connectors:
        description: Its connectors, normalised (cost, via, host, port, nexthops per domain).
        type: list
        elements: dict
        required: true
      routes:
        description: Nexthops per domain (unused here).
        type: dict
      nexthops:
        description: Every nexthop (unused here).
        type: list
        elements: str
      allowed_senders:
        description: Senders its login may use besides its domains (unused here).
        type: list
        elements: str
      tls:
        description: Its policy (level, match, ca_file, fingerprints).
        type: dict
        required: true
      outbound_auth:
        description: Our login at the partner, tried after STARTTLS; none for a partner that offers no AUTH (the probe
          then only checks TLS).
        type: dict
        suboptions:
          username:
            description: Login name.
            type: str
            required: true
          password:
            description: Password; never logged or returned.
            type: str
            required: true
      inbound_auth:
        description: The partner's login here (only named in the report's inbound column).
        type: dict
        suboptions:
          username:
            description: Login name.
            type: str
            required: true
          password:
            description: Password; never logged or returned.
            type: str
            required: true
      inbound_certificate:
        description: The partner's client certificate pins here (only counted in the report's inbound column).
        type: dict
        suboptions:
          fingerprints:
            description: SHA-256 pins.
            type: list
            elements: str
            required: true
      inbound_networks:
        description: The partner's sending networks here (only counted in the report's inbound column).
        type: list
        elements: str
  ca_contents:
    description: Partner name to the partner's CA certificate (PEM), for C(verify)/C(secure) partners with a private CA.
    type: dict
    default: {}
  helo_name:
    description: Name to greet with (this MTA's C(myhostname)).
    type: str
    required: true
  timeout:
    description: Seconds for each step of each probe.
    type: float
    default: 10
  nameservers:
    description: Resolvers for the MX and TLSA lookups; default is the MTA's own resolver (what Postfix uses).
    type: list
    elements: str
    default: []
  concurrency:
    description:
      - How many links are probed at a time (1 to 64). Against distant servers a probe mostly waits for the network
        and the peer, so more than the MTA's cores can pay; where the CPU is the limit it does not. Each probe is an
        SMTP session with the partner's server, which limits its clients too.
    type: int
    default: 8
  cert_file:
    description:
      - This MTA's certificate chain (its first certificate is reported).
      - With O(key_file), the probes present it to a partner that asks for a client certificate, as the partner
        transport does (a partner identifying us by our certificate ends the handshake of a probe without it).
        Not presented while either file is missing (a first run in check mode).
    type: path
    default: /etc/partnermail/tls/mta-chain.pem
  key_file:
    description: The private key of O(cert_file), read on the MTA; never returned.
    type: path
    default: /etc/partnermail/tls/mta.key
    version_added: 0.2.0
"""

EXAMPLES = r"""
- name: Probe every partner link of this MTA
  partnermail.links.link_report:
    partners: "{{ model_validated.partnermail_partners }}"
    ca_contents:
      contoso: "{{ lookup('ansible.builtin.file', 'trust/contoso-ca.pem') }}"
    helo_name: "{{ partnermail_hostname }}"
  register: links
"""

RETURN = r"""
rows:
  description: One row per probed host - partner, mode (C(enforce) or C(test)), cost, nexthop, host, policy, status,
    verified, protocol, cipher, peer_not_after, auth_ok (null where we do not log in), inbound (how the partner proves
    itself to us), ok (the link meets its declared policy and the login, if any, works), problems (what is missing).
  returned: always
  type: list
  elements: dict
failures:
  description: How many rows of enforced partners do not meet their policy.
  returned: always
  type: int
test_failures:
  description: How many rows of partners in test mode would not meet their declared policy (not counted in
    RV(failures)).
  returned: always
  type: int
  version_added: 0.2.0
local:
  description: This MTA's certificate - not_after, fingerprint_sha256, spki_sha256, tlsa. Empty when unreadable.
  returned: always
  type: dict
"""

import os

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.partnermail.links.plugins.module_utils import _io, _model, _report
from ansible_collections.partnermail.links.plugins.module_utils._dns.compat import require_dnspython
from ansible_collections.partnermail.links.plugins.module_utils._dns.errors import DnsError
from ansible_collections.partnermail.links.plugins.module_utils._module import BulkyModule
from ansible_collections.partnermail.links.plugins.module_utils._pki import certs, tlsa
from ansible_collections.partnermail.links.plugins.module_utils._pki.compat import require_cryptography
from ansible_collections.partnermail.links.plugins.module_utils._pki.errors import PkiError
from ansible_collections.partnermail.links.plugins.module_utils._smtp.errors import ProbeError

MAX_CONCURRENCY = 64


def local_facts(path):
    try:
        data = _io.read_optional(path, "cert_file")
        if data is None:
            return {}
        facts = certs.facts(tlsa.load_certificate(data, "cert_file"))
    except PkiError:
        return {}
    return {key: facts[key] for key in ("not_after", "fingerprint_sha256", "spki_sha256", "tlsa")}


def main():
    module = BulkyModule(
        argument_spec=dict(
            partners=dict(type="list", elements="dict", required=True, options=dict(
                name=dict(type="str", required=True),
                mode=dict(type="str", choices=list(_model.PARTNER_MODES), default=_model.DEFAULT_PARTNER_MODE),
                transport=dict(type="str"),
                domains=dict(type="list", elements="str", required=True),
                connectors=dict(type="list", elements="dict", required=True),
                routes=dict(type="dict"),
                nexthops=dict(type="list", elements="str"),
                allowed_senders=dict(type="list", elements="str"),
                tls=dict(type="dict", required=True),
                outbound_auth=dict(type="dict", options=dict(
                    username=dict(type="str", required=True), password=dict(type="str", required=True, no_log=True))),
                inbound_auth=dict(type="dict", options=dict(
                    username=dict(type="str", required=True), password=dict(type="str", required=True, no_log=True))),
                inbound_certificate=dict(type="dict", options=dict(
                    fingerprints=dict(type="list", elements="str", required=True))),
                inbound_networks=dict(type="list", elements="str"),
            )),
            ca_contents=dict(type="dict", default={}),
            helo_name=dict(type="str", required=True),
            timeout=dict(type="float", default=10),
            nameservers=dict(type="list", elements="str", default=[]),
            concurrency=dict(type="int", default=_report.DEFAULT_WORKERS),
            cert_file=dict(type="path", default="/etc/partnermail/tls/mta-chain.pem"),
            key_file=dict(type="path", default="/etc/partnermail/tls/mta.key"),
        ),
        bulky=("partners", "ca_contents"),
        supports_check_mode=True,
    )
    require_cryptography(module, missing_required_lib)
    require_dnspython(module, missing_required_lib)
    params = module.params
    if not 1 <= params["concurrency"] <= MAX_CONCURRENCY:
        module.fail_json(msg=f"concurrency: must be 1 to {MAX_CONCURRENCY} probes at a time, "
                             f"got {params['concurrency']}")
    try:
        client = (params["cert_file"], params["key_file"])
        rows = _report.live_link_report(params["partners"], params["ca_contents"], params["helo_name"],
                                        params["timeout"], params["nameservers"], params["concurrency"],
                                        client if all(os.path.isfile(path) for path in client) else None)
    except (DnsError, ProbeError, KeyError, TypeError) as exc:
        module.fail_json(msg=f"partners: not a validated model, or unusable ({exc})")
    failures, test_failures = _report.failure_counts(rows)
    module.exit_json(changed=False, rows=rows, failures=failures, test_failures=test_failures,
                     local=local_facts(params["cert_file"]))


if __name__ == "__main__":
    main()
