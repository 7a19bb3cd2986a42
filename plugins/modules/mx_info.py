#!/usr/bin/python
# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Ansible module partnermail.links.mx_info."""

DOCUMENTATION = r"""
module: mx_info
short_description: Look up a domain's MX hosts, their addresses and DANE TLSA records, with DNSSEC status
version_added: 0.1.0
author: partnermail.links developers (@partnermail)
description:
  - Runs on the MTA and asks its resolver (or O(nameservers)) what a sending MTA would ask before delivering to
    O(domain) - the MX set in preference order, the A and AAAA addresses of each MX host, and the
    C(_25._tcp.<host>) TLSA records of each host.
  - Queries carry the DNSSEC OK (DO) and Authentic Data (AD) flags, so a validating resolver reports whether each
    answer was DNSSEC-validated. The module trusts that AD bit and validates nothing itself; use a validating
    resolver you reach over a trusted path (usually one on the MTA itself).
  - What the DNS says about the domain is never a module failure. It comes back as RV(status) with a RV(message) -
    C(ok), C(nxdomain) (the domain does not exist), C(no_mx_implicit) (no MX records, so mail goes to the domain
    itself, RFC 5321 section 5.1), C(null_mx) (the domain accepts no mail, RFC 7505), C(servfail) (the resolver
    failed, for example DNSSEC validation failed) or C(timeout). The module fails only on bad input, with a
    message that names the option.
  - Equal preferences are listed in host name order; an MTA picks among them at random.
  - Read-only; RV(ignore:changed) is always false.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - partnermail.links.network.DNSPYTHON
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  domain:
    description: The mail domain to look up (a Unicode name is converted to its A-label form).
    type: str
    required: true
  nameservers:
    description:
      - IP addresses of the resolvers to ask, in order. By default the system resolver (C(/etc/resolv.conf)).
      - For RV(dnssec) and RV(mx[].dane) to mean anything, these must validate DNSSEC.
    type: list
    elements: str
    default: []
  port:
    description: DNS port of the resolvers.
    type: int
    default: 53
  timeout:
    description: Seconds to wait for the answer to each question, over all resolvers.
    type: float
    default: 5.0
"""

EXAMPLES = r"""
- name: Look up the partner's mail exchangers
  partnermail.links.mx_info:
    domain: contoso.example
  register: contoso_mx

- name: Refuse to go on unless the partner domain has usable DANE records
  ansible.builtin.assert:
    that:
      - contoso_mx.status == 'ok'
      - contoso_mx.mx | selectattr('dane') | list | length > 0
    fail_msg: "{{ contoso_mx.message }}"

- name: Ask a specific validating resolver
  partnermail.links.mx_info:
    domain: b.test
    nameservers: [192.0.2.53]
    timeout: 2
  register: b_mx

- name: Probe every MX host the partner publishes
  partnermail.links.smtp_probe:
    host: "{{ item.host }}"
    tlsa: "{{ item.tlsa.records }}"
    require: [tls, tlsa]
  loop: "{{ b_mx.mx }}"
  loop_control:
    label: "{{ item.host }}"
"""

RETURN = r"""
domain:
  description: The domain looked up, lower case, A-label form, without the final dot.
  returned: always
  type: str
  sample: contoso.example
status:
  description: C(ok), C(nxdomain), C(no_mx_implicit), C(null_mx), C(servfail) or C(timeout).
  returned: always
  type: str
  sample: ok
message:
  description: What the status means for this domain, in words.
  returned: always
  type: str
  sample: contoso.example has 2 MX hosts
dnssec:
  description: Whether the resolver validated the MX answer (or the denial of it) with DNSSEC (the AD bit).
  returned: always
  type: bool
mx:
  description:
    - The MX hosts by preference, empty for C(nxdomain), C(null_mx), C(servfail) and C(timeout).
    - For C(no_mx_implicit), the domain itself with preference 0 and RV(mx[].implicit) true.
  returned: always
  type: list
  elements: dict
  contains:
    preference:
      description: MX preference; lower is tried first.
      type: int
      sample: 10
    host:
      description: Host name of the mail exchanger, lower case, without the final dot.
      type: str
      sample: mx1.contoso.example
    implicit:
      description: True for the implicit MX of a domain without MX records.
      type: bool
    addresses:
      description: IPv4 then IPv6 addresses of the host.
      type: list
      elements: str
      sample: [192.0.2.25, "2001:db8::25"]
    a:
      description: The A question about the host.
      type: dict
      contains:
        status:
          description: C(ok), C(nodata), C(nxdomain), C(servfail) or C(timeout).
          type: str
          sample: ok
        records:
          description: The answer's records as text (addresses here), empty unless RV(mx[].a.status) is C(ok).
          type: list
          elements: str
          sample: [192.0.2.25]
        dnssec:
          description: Whether the resolver validated this answer (or the denial of it) with DNSSEC (the AD bit).
          type: bool
        message:
          description: Why there are no records, in words; empty for C(ok).
          type: str
          sample: ""
    aaaa:
      description: The AAAA question, shaped like RV(mx[].a).
      type: dict
    tlsa:
      description: The C(_25._tcp.<host>) TLSA question, shaped like RV(mx[].a); records are
        C(usage selector matching_type hex) strings, as M(partnermail.links.smtp_probe) takes them.
      type: dict
      sample: {status: ok, records: ["3 1 1 8f0c5a..."], dnssec: true, message: ""}
    dnssec:
      description: True when the MX, address and TLSA answers about this host were all DNSSEC-validated.
      type: bool
    dane:
      description:
        - True when DANE applies to this host (RFC 7672 section 2.2) - the MX answer and the host's addresses are
          DNSSEC-validated and it has validated DANE-TA(2) or DANE-EE(3) TLSA records.
      type: bool
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.partnermail.links.plugins.module_utils._dns import mx
from ansible_collections.partnermail.links.plugins.module_utils._dns.compat import require_dnspython
from ansible_collections.partnermail.links.plugins.module_utils._dns.errors import DnsError


def main():
    module = AnsibleModule(
        argument_spec=dict(
            domain=dict(type="str", required=True),
            nameservers=dict(type="list", elements="str", default=[]),
            port=dict(type="int", default=53),
            timeout=dict(type="float", default=mx.DEFAULT_TIMEOUT),
        ),
        supports_check_mode=True,
    )
    require_dnspython(module, missing_required_lib)
    params = module.params
    spec = mx.ResolverSpec(tuple(params["nameservers"]), params["port"], params["timeout"])
    try:
        report = mx.mx_info(params["domain"], spec)
    except DnsError as exc:
        module.fail_json(msg=str(exc), option=exc.option)
    module.exit_json(changed=False, **report)


if __name__ == "__main__":
    main()
