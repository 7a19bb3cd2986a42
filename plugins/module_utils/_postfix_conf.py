# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""main.cf and master.cf as data: what a partnermail MTA's Postfix configuration is, from the validated model.

Pure Python, no Ansible: the postfix role renders these through thin filters, and unit tests read them.
"""

import ipaddress

from ansible_collections.partnermail.links.plugins.module_utils import _extras, _render

HEADER = "# Managed by partnermail.links (postfix role); local edits are overwritten.\n"

# Our Dovecot auth socket (relative to the Postfix queue directory) and the SASL service name Postfix passes to
# Dovecot: Dovecot shows the partners' passdb to this service only, so the server's own users (a submission
# service, IMAP) and the partners' logins never meet. The postfix role's vars name the same two values.
SASL_PATH = "private/partnermail-auth"
SASL_SERVICE = _extras.SASL_SERVICE

DEFAULT_SETTINGS = {
    "map_dir": "/etc/postfix/partnermail",
    "key_file": "/etc/partnermail/tls/mta.key",
    "chain_file": "/etc/partnermail/tls/mta-chain.pem",
    "ca_bundle": "/etc/ssl/certs/ca-certificates.crt",
    "mynetworks": ["127.0.0.0/8", "[::1]/128"],
    "inet_protocols": "all",
    "log_file": "/var/log/mail.log",
    "vmail_uid": 5000,
    "vmail_base": "/var/mail/vhosts",
    "partner_ports": [],
    "extra": {},
    "restrictions": {},
    "services": [],
    "postscreen": False,
    # The MTA's Postfix (major.minor): what it knows decides a few settings (_render.partner_services).
    "postfix_version": _render.DEFAULT_POSTFIX_VERSION,
}


def _settings(settings):
    merged = dict(DEFAULT_SETTINGS)
    merged.update({k: v for k, v in (settings or {}).items() if v is not None})
    unknown = set(merged) - set(DEFAULT_SETTINGS)
    if unknown:
        raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
    return merged


def _delivery(model, s):
    """Parameters that deliver mail for our own domains."""
    domains = ", ".join(model["partnermail_domains"])
    delivery = model["partnermail_delivery"]
    if delivery["mode"] == "virtual":
        uid = f"static:{s['vmail_uid']}"
        return {
            "virtual_mailbox_domains": domains,
            "virtual_mailbox_maps": f"hash:{s['map_dir']}/vmailbox",
            "virtual_mailbox_base": s["vmail_base"],
            "virtual_uid_maps": uid,
            "virtual_gid_maps": uid,
            "relay_domains": "",
        }
    return {"relay_domains": domains, "relay_recipient_maps": ""}


def _needs_dnssec(model):
    """DANE needs DNSSEC-validated answers; without DANE the probe would only log warnings."""
    return model["partnermail_internet"]["tls_level"] == "dane" or any(
        partner["tls"]["level"] == "dane-only" for partner in model["partnermail_partners"]
    )


def main_cf_params(model, settings=None):
    """Every main.cf parameter we set, as a dict of strings."""
    s = _settings(settings)
    m = s["map_dir"]
    tls_files = f"{s['key_file']}, {s['chain_file']}"
    params = {
        "compatibility_level": "3.6",
        "myhostname": model["partnermail_hostname"],
        "myorigin": "$myhostname",
        "mydestination": "$myhostname, localhost",
        "mynetworks": " ".join(s["mynetworks"]),
        "inet_interfaces": "all",
        "inet_protocols": s["inet_protocols"],
        "biff": "no",
        "append_dot_mydomain": "no",
        "readme_directory": "no",
        "alias_maps": "hash:/etc/aliases",
        "alias_database": "hash:/etc/aliases",
        "maillog_file": s["log_file"],
        "smtpd_banner": "$myhostname ESMTP",
        "disable_vrfy_command": "yes",
        "smtpd_helo_required": "yes",
        # Routing: partner domains go to the partner transport; the rest is the Internet connector.
        "transport_maps": f"hash:{m}/transport",
        "relayhost": model["partnermail_internet"]["relayhost"],
        # TLS server side. AUTH only after STARTTLS; nothing below TLS 1.2 on any listener.
        "smtpd_tls_chain_files": tls_files,
        "smtpd_tls_security_level": "may",
        "smtpd_tls_auth_only": "yes",
        "smtpd_tls_protocols": ">=TLSv1.2",
        "smtpd_tls_mandatory_protocols": ">=TLSv1.2",
        "smtpd_tls_received_header": "yes",
        # No TLS session without a server certificate on any listener: every listener offers AUTH after
        # STARTTLS, and a password must never go over anonymous (aNULL: ADH, AECDH) suites. Port 25 keeps
        # Postfix's default "medium" list otherwise, for the rest of the Internet.
        "smtpd_tls_exclude_ciphers": "aNULL",
        # The server picks from its own cipher order (strongest first) instead of the client's.
        "tls_preempt_cipherlist": "yes",
        "smtpd_tls_loglevel": "1",
        "smtpd_tls_session_cache_database": "btree:${data_directory}/smtpd_scache",
        # Client certificate pins (a partner's inbound_certificate) are SHA-256, as the model writes them.
        "smtpd_tls_fingerprint_digest": "sha256",
        # TLS client side. Start-up settings stay global so tlsproxy can reuse connections for every
        # transport; per-partner trust comes from tafile= in the policy map, never from one global bundle.
        "smtp_tls_chain_files": tls_files,
        "smtp_tls_CAfile": s["ca_bundle"],
        "smtp_tls_security_level": model["partnermail_internet"]["tls_level"],
        "smtp_tls_policy_maps": f"hash:{m}/tls_policy",
        "smtp_tls_protocols": ">=TLSv1.2",
        "smtp_tls_mandatory_protocols": ">=TLSv1.2",
        "smtp_tls_fingerprint_digest": "sha256",
        "smtp_tls_loglevel": "1",
        "smtp_tls_connection_reuse": "yes",
        "smtp_tls_session_cache_database": "btree:${data_directory}/smtp_scache",
        # SASL server: Dovecot checks the partners' passwords.
        "smtpd_sasl_auth_enable": "yes",
        "smtpd_sasl_type": "dovecot",
        "smtpd_sasl_path": SASL_PATH,
        "smtpd_sasl_service": SASL_SERVICE,
        "smtpd_sasl_security_options": "noanonymous, noplaintext",
        "smtpd_sasl_tls_security_options": "noanonymous",
        "smtpd_sasl_authenticated_header": "yes",
        # Never an open relay: authentication lets a partner deliver to us, not through us.
        "smtpd_relay_restrictions": "permit_mynetworks, reject_unauth_destination",
        "smtpd_recipient_restrictions": "permit_mynetworks, reject_unauth_destination",
        # What an extra service's own sender list starts with: a partner's domain only from that partner's login
        # (or from mynetworks, e.g. mail a content filter reinjects).
        _extras.PARTNER_SENDER_CLASS: "permit_mynetworks, reject_sender_login_mismatch",
        # ... and for a partner in test mode, whose mail may still come as Internet mail: a client that logs in is
        # bound as on port 25 (only the partner's login), one that does not goes on like any Internet client.
        # Always defined, so that switching a partner's mode changes maps only.
        _extras.PARTNER_TEST_SENDER_CLASS: "permit_mynetworks, reject_authenticated_sender_login_mismatch",
        # Sender identity. A logged-in client may send only as the senders its login owns (a partner: its own
        # domains and allowed_senders) or with the null sender; a client that is not logged in may not send
        # as our domains (unless mynetworks or a third-party allowance lets it) nor as a partner's.
        "smtpd_sender_login_maps": f"pcre:{m}/sender_logins.pcre",
        "smtpd_sender_restrictions": ", ".join([
            "reject_authenticated_sender_login_mismatch",
            "permit_sasl_authenticated",
            "permit_mynetworks",
            f"check_sender_access pcre:{m}/sender_allowances.pcre",
            f"check_sender_access pcre:{m}/protected_senders.pcre",
        ]),
        # A failed delivery to a partner is retried, never bounced for a soft reason.
        "smtp_sasl_auth_soft_bounce": "yes",
    }
    if _needs_dnssec(model):
        params["smtp_dns_support_level"] = "dnssec"
    if _render.asks_client_certificates(model):
        # A partner proves itself by its client certificate: ask every TLS client for one. A client without one
        # (most of the Internet) still gets TLS, and a certificate no CA here trusts is still accepted: only the
        # pins decide, and only for the partner's domains. Not asked otherwise, so nothing changes for a site
        # without such partners.
        params["smtpd_tls_ask_ccert"] = "yes"
    classes = _render.allowance_classes(model) | _render.identity_classes(model)
    params["smtpd_restriction_classes"] = ", ".join(
        sorted([_extras.PARTNER_SENDER_CLASS, _extras.PARTNER_TEST_SENDER_CLASS, *classes]))
    params.update(classes)
    params.update(_delivery(model, s))
    extras = _extras.checked(s["extra"], s["restrictions"], [], [])
    # The site's additions come after our rules: Postfix stops at the first decision, so they only refuse more.
    for stage, additions in extras["restrictions"].items():
        if additions:
            name = f"smtpd_{stage}_restrictions"
            params[name] = ", ".join([*_extras.split_list(params.get(name, "")), *additions])
    params.update(extras["extra"])
    return params


def main_cf(model, settings=None):
    """main.cf text: sorted ``name = value`` lines."""
    params = main_cf_params(model, settings)
    return HEADER + "".join(f"{name} = {params[name]}".rstrip() + "\n" for name in sorted(params))


def listener_services(settings=None):
    """Extra smtpd listeners for partners: port 25's restrictions (inherited from main.cf), TLS required."""
    s = _settings(settings)
    return [
        {
            "name": str(port),
            "type": "inet",
            "private": "n",
            "unpriv": "-",
            "chroot": "n",
            "wakeup": "-",
            "maxproc": "-",
            "command": "smtpd",
            # Partners only: TLS is required here, with Postfix's "high" cipher list (anonymous suites are
            # excluded on every listener by main.cf).
            "options": [
                ("syslog_name", f"postfix/partner-{port}"),
                ("smtpd_tls_security_level", "encrypt"),
                ("smtpd_tls_mandatory_ciphers", "high"),
            ],
        }
        for port in s["partner_ports"]
    ]


def vmailbox_map(model, settings=None):
    """Virtual mailboxes: ``local@domain<TAB>domain/local/`` (Maildir) for each domain and mailbox."""
    delivery = model["partnermail_delivery"]
    if delivery["mode"] != "virtual":
        return HEADER
    rows = sorted(
        f"{box}@{domain}\t{domain}/{box}/" for domain in model["partnermail_domains"] for box in delivery["mailboxes"]
    )
    return HEADER + "".join(row + "\n" for row in rows)


# postscreen(8) in front of port 25: it answers first and hands the clients that pass to smtpd through this pass
# service; dnsblog runs its DNSBL lookups (tlsproxy, which it needs for STARTTLS, is a base service already).
POSTSCREEN_SERVICES = [
    {"name": "smtpd", "type": "pass", "private": "-", "unpriv": "-", "chroot": "n", "wakeup": "-", "maxproc": "-",
     "command": "smtpd"},
    {"name": "dnsblog", "type": "unix", "private": "-", "unpriv": "-", "chroot": "n", "wakeup": "-", "maxproc": "0",
     "command": "dnsblog"},
]


def _port_25(base_services, postscreen):
    """The base services, with postscreen on smtp/inet (maxproc 1) and smtpd behind it, when asked."""
    if not postscreen:
        return list(base_services)
    services = []
    for service in base_services:
        if (service["name"], service["type"]) != ("smtp", "inet"):
            services.append(service)
            continue
        # smtp/inet's own options (none today) belong to the smtpd that talks to the client.
        front = {k: v for k, v in service.items() if k != "options"}
        services.append(front | {"maxproc": "1", "command": "postscreen"})
        services.append(POSTSCREEN_SERVICES[0] | {"options": list(service.get("options", []))})
        services.append(dict(POSTSCREEN_SERVICES[1]))
    return services


def own_services(model, base_services, settings=None):
    """Our master.cf services: the base services (postscreen in front when asked), the partner smtp clone (with
    partners), the partner listeners (plain smtpd: a partner on a port of its own never meets postscreen)."""
    s = _settings(settings)
    partner = _render.partner_services(model, s["map_dir"], s["postfix_version"])
    return _port_25(base_services, s["postscreen"]) + partner + listener_services(s)


def _extra_services(model, ours, s):
    """The site's services (s['services'], validated against ``ours``), as master.cf dicts with options pairs.

    When main.cf asks TLS clients for a certificate (a pinned partner), a site's smtpd service does not: it serves
    the site's own users (submission, say), whose mail programs may prompt their user to pick a certificate when
    asked. Partners come in on port 25 and the partner listeners; one that sent through such a service with its pinned
    certificate would be refused for its domains, never let through.
    """
    services = _extras.checked({}, {}, s["services"], ours)["services"]
    asks = _render.asks_client_certificates(model)
    for service in services:
        options = dict(service["options"])
        if asks and service["command"].split()[0] == "smtpd":
            options["smtpd_tls_ask_ccert"] = "no"
        if "smtpd_sender_restrictions" in options:
            options["smtpd_sender_restrictions"] = _extras.guarded_sender_restrictions(
                options["smtpd_sender_restrictions"], s["map_dir"])
        service["options"] = sorted(options.items())
    return services


def master_cf(model, base_services, settings=None):
    """master.cf text: our services, then the site's own (postfix_master_cf_extra)."""
    s = _settings(settings)
    ours = own_services(model, base_services, s)
    services = ours + _extra_services(model, ours, s)
    for service in services:
        service.setdefault("options", [])
    return HEADER + _render.master_cf_lines(services)


def _network(entry):
    """A mynetworks entry as an ipaddress network ('[::1]/128' too), None for a name or a table."""
    text = str(entry).strip()
    if text.startswith("["):
        text = text[1:].replace("]", "", 1)
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def mynetworks_errors(model, settings=None):
    """A partner's inbound_networks may not overlap postfix_mynetworks: permit_mynetworks comes first on every
    list, so a client there sends as anyone (the partner's binding would not hold) and relays through us."""
    s = _settings(settings)
    ours = [(entry, _network(entry)) for entry in s["mynetworks"]]
    errors = []
    for partner in model.get("partnermail_partners") or ():
        for index, text in enumerate(partner.get("inbound_networks") or ()):
            network = ipaddress.ip_network(text)
            for entry, mine in ours:
                if mine is not None and mine.version == network.version and mine.overlaps(network):
                    errors.append(f"partner {partner['name']}: inbound_networks[{index}]: {text} overlaps "
                                  f"postfix_mynetworks entry {entry}: clients there may send as anyone and relay, "
                                  "so they cannot prove they are this partner")
                    break
    return errors


def extension_errors(model, base_services, settings=None):
    """Every problem of the site's extension points (main.cf extras, restriction additions, services), and a
    partner's networks inside mynetworks."""
    s = _settings(settings)
    return mynetworks_errors(model, s) + _extras.errors(s["extra"], s["restrictions"], s["services"],
                                                        own_services(model, base_services, s))
