# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Render Postfix maps and master.cf services from a model normalised by ``_model.validate_model()``.

Pure functions returning file contents: a one-line header, then sorted ``key<TAB>value`` lines.

A partner in test mode (``mode: test``, see ``_model.enforced()``) is delivered and accepted as Internet mail: it
has no transport, TLS policy or SASL password row, and its domains are not refused to clients that are not logged
in. It keeps its sender-login rows and its inbound login, so a client that logs in is still bound: only the
partner's login sends as the partner's domains. Switching a partner's mode changes maps only, never main.cf or
master.cf.
"""

import re

from ansible_collections.partnermail.links.plugins.module_utils._extras import (
    PARTNER_SENDER_CLASS,
    PARTNER_TEST_SENDER_CLASS,
)
from ansible_collections.partnermail.links.plugins.module_utils._model import covers, enforced

DEFAULT_MAP_DIR = "/etc/postfix/partnermail"
DEFAULT_TRUST_DIR = f"{DEFAULT_MAP_DIR}/trust"
HEADER = "# Managed by partnermail.links: local changes are overwritten."
TLS_PROTOCOLS = ">=TLSv1.2"
SASL_MAP_NAME = "sasl_passwd"
SERVICE_COLUMNS = ("name", "type", "private", "unpriv", "chroot", "wakeup", "maxproc", "command")

_MAP_DOMAIN = re.compile(r"\.?[a-z0-9-]+(?:\.[a-z0-9-]+)*")


def _table(rows):
    """Header plus sorted 'key<TAB>value' lines, ending in a newline."""
    return "\n".join([HEADER] + [f"{key}\t{value}" for key, value in sorted(rows.items())]) + "\n"


def _add(rows, key, value, table):
    """Add one row; a repeated key means the model skipped validation."""
    if key in rows:
        raise ValueError(f"{table}: duplicate key {key!r} (run validate_model() on the inventory first)")
    rows[key] = value


def _partners(model):
    return model.get("partnermail_partners") or []


def _enforced(model):
    """The partners whose links Postfix enforces; a partner in test mode has no route, TLS or SASL rows."""
    return [partner for partner in _partners(model) if enforced(partner)]


def transport_map(model):
    """transport(5): each enforced partner domain to its transport and cost-ordered nexthops; own domains when relayed.

    A partner in test mode has no row: its mail takes the default transport, the Internet connector (relayhost or
    MX, at partnermail_internet.tls_level, no SASL).
    """
    rows = {}
    for partner in _enforced(model):
        for domain, nexthops in partner["routes"].items():
            _add(rows, domain, f"{partner['transport']}:{', '.join(nexthops)}", "transport map")
    delivery = model.get("partnermail_delivery") or {}
    if delivery.get("mode") == "relay":
        for domain in model["partnermail_domains"]:
            _add(rows, domain, f"relay:{delivery['nexthop']}", "transport map")
    return _table(rows)


def trust_anchor_path(partner_name, trust_dir=DEFAULT_TRUST_DIR):
    """Where the partner's private CA (tls.ca_file) must be installed for the tafile= attribute."""
    return f"{trust_dir}/{partner_name}.pem"


def tls_policy(partner, trust_dir=DEFAULT_TRUST_DIR):
    """The smtp_tls_policy_maps value for every nexthop of one partner."""
    tls = partner["tls"]
    words = [tls["level"]]
    if tls["level"] == "fingerprint":
        words.append("match=" + "|".join(tls["fingerprints"]))
    elif tls["match"]:
        words.append("match=" + ":".join(tls["match"]))
    if tls["ca_file"]:
        words.append(f"tafile={trust_anchor_path(partner['name'], trust_dir)}")
    words.append(f"protocols={TLS_PROTOCOLS}")
    return " ".join(words)


def tls_policy_map(model, trust_dir=DEFAULT_TRUST_DIR):
    """smtp_tls_policy_maps: one row per enforced partner nexthop, keyed exactly like the nexthop.

    None for a partner in test mode: the map is global, so a row keyed by its MX-routed domain would hold the
    Internet connector's delivery to the declared policy after all.
    """
    rows = {}
    for partner in _enforced(model):
        policy = tls_policy(partner, trust_dir)
        for nexthop in partner["nexthops"]:
            _add(rows, nexthop, policy, "TLS policy map")
    return _table(rows)


def sasl_password_map(model):
    """smtp_sasl_password_maps: one 'username:password' row per enforced partner nexthop (outbound_auth).

    None for a partner without outbound_auth (the partner transport then does not log in: Postfix sends AUTH only
    for a nexthop with a row), and none for a partner in test mode: its mail leaves by the Internet connector, which
    does not log in.
    """
    rows = {}
    for partner in _enforced(model):
        auth = partner["outbound_auth"]
        if not auth:
            continue  # a partner that offers no AUTH (Exchange Online, say) gets no row: we do not log in there
        for nexthop in partner["nexthops"]:
            _add(rows, nexthop, f"{auth['username']}:{auth['password']}", "SASL password map")
    return _table(rows)


def _pcre_escape(text):
    """Escape ``text`` for a pcre_table(5) pattern between slashes."""
    return re.escape(text).replace("/", r"\/")


def sender_regex(pattern):
    """PCRE (pcre_table(5), case-insensitive by default) matching the senders of a sender pattern.

    'local@domain' is that address, 'domain' every address in the domain, '.domain' every address in its
    subdomains.
    """
    local, at, domain = pattern.rpartition("@")
    if not _MAP_DOMAIN.fullmatch(domain) or (at and domain.startswith(".")):
        raise ValueError(f"not a normalised sender pattern: {pattern!r}")
    if at:
        return f"/^{_pcre_escape(local)}@{_pcre_escape(domain)}$/"
    escaped = domain.replace(".", r"\.")
    return f"/@.+{escaped}$/" if domain.startswith(".") else f"/@{escaped}$/"


def _sender_order(pattern):
    """pcre tables stop at the first match: addresses first, then exact domains, then the longest patterns."""
    kind = 0 if "@" in pattern else 2 if pattern.startswith(".") else 1
    return (kind, -len(pattern), pattern)


def _covering(pattern, owned):
    """The patterns of ``owned`` that match every sender ``pattern`` matches, in first-match order.

    Only the pattern itself, its domain (for an address) and the '.suffix' patterns of that domain can: a
    lookup each, so a table of thousands of rows stays linear.
    """
    domain = pattern.rpartition("@")[2]
    labels = domain.lstrip(".").split(".")
    candidates = [pattern, domain] + ["." + ".".join(labels[i:]) for i in range(len(labels))]
    found = [c for c in dict.fromkeys(candidates) if c in owned and covers(c, pattern)]
    return sorted(found, key=_sender_order)


def _ordered_pcre(owned):
    """pcre_table text from {sender pattern: [values]}: each row carries the values of every pattern covering it.

    A sender matches the first row only, so a row lists the values of all the patterns that also match its
    senders (an address under a domain someone else was allowed, say), keeping overlapping grants intact.
    """
    rows = []
    for pattern in sorted(owned, key=_sender_order):
        values = [value for other in _covering(pattern, owned) for value in owned[other]]
        rows.append(f"{sender_regex(pattern)}\t{', '.join(dict.fromkeys(values))}")
    return "\n".join([HEADER, *rows]) + "\n"


def sender_login_map(model):
    """smtpd_sender_login_maps (pcre:): which SASL login may use which envelope senders.

    A partner's login owns the partner's domains and its ``allowed_senders``; nothing else. A partner without
    ``inbound_auth`` has no rows, so no login owns its domains and a logged-in client is refused them. With
    reject_authenticated_sender_login_mismatch, a logged-in client may then send only as senders its login
    owns (and with the null sender): a partner never poses as us, as another partner or as anyone else.

    Every partner has its rows, test mode included: the binding only ever applies to clients that log in, so a
    partner in test mode that does not log in yet is not held by it, while one that logs in (or anybody else
    who does) is bound exactly as when enforced.
    """
    owned = {}
    for partner in _partners(model):
        if not partner["inbound_auth"]:
            continue  # nobody's login owns its domains: every logged-in client is refused them
        login = partner["inbound_auth"]["username"]
        for domain in partner["domains"]:
            if domain in owned:
                raise ValueError(f"sender login map: duplicate key {domain!r} (run validate_model() first)")
            owned[domain] = [login]
        for sender in partner.get("allowed_senders") or ():
            owned.setdefault(sender, []).append(login)
    return _ordered_pcre(owned)


PROTECTED_OWN = "REJECT 5.7.1 not logged in: only our own servers and clients send as this domain"
PROTECTED_PARTNER = "REJECT 5.7.1 not logged in as the partner that owns this domain"


def protected_sender_map(model):
    """check_sender_access (pcre:) for clients that are not logged in: our domains and the partners' are refused.

    Consulted after permit_mynetworks and the third-party allowances: an unauthenticated client on the
    Internet sending as us (our domains, this MTA's own name) or as an enforced partner is refused. A partner that
    proves itself by certificate or network goes to its identity class instead (see identity_classes()). A partner in
    test mode has no row: until it logs in, its mail comes like any Internet mail (it may not have set up its
    side of the link yet).
    """
    owned = {model["partnermail_hostname"]: [PROTECTED_OWN]}
    owned.update({domain: [PROTECTED_OWN] for domain in model["partnermail_domains"]})
    for partner in _enforced(model):
        check = identity_class(partner["name"]) if has_identity_class(partner) else PROTECTED_PARTNER
        owned.update({domain: [check] for domain in partner["domains"]})
    rows = [f"{sender_regex(pattern)}\t{owned[pattern][0]}" for pattern in sorted(owned, key=_sender_order)]
    return "\n".join([HEADER, *rows]) + "\n"


def partner_sender_map(model):
    """check_sender_access (pcre:) that starts an extra service's sender list: each partner domain to a class.

    An extra service (the site's submission, say) has its own sender list, so this map carries to it what main.cf's
    list does for port 25. An enforced partner's domain goes to the class (main.cf) that lets only the partner's
    login, or mynetworks, use it. A domain of a partner in test mode goes to the class that binds clients that
    are logged in only (the partner's login alone, as on port 25) and lets the others go on as Internet mail does,
    as protected_sender_map() does; leaving the domain out instead would let the site's own logged-in users send as
    the partner.
    """
    owned = {domain: [_extra_sender_check(partner)] for partner in _partners(model) for domain in partner["domains"]}
    rows = [f"{sender_regex(pattern)}\t{owned[pattern][0]}" for pattern in sorted(owned, key=_sender_order)]
    return "\n".join([HEADER, *rows]) + "\n"


def _extra_sender_check(partner):
    if not enforced(partner):
        return PARTNER_TEST_SENDER_CLASS
    return identity_class(partner["name"]) if has_identity_class(partner) else PARTNER_SENDER_CLASS


IDENTITY_CLASS_PREFIX = "partnermail_identity_"
IDENTITY_REJECT = ("REJECT 5.7.1 not the partner that owns this domain: none of its logins, certificates or "
                   "networks")
# check_ccert_access: the certificate's fingerprint, then its public key's (a pin of either works; a key pin survives
# a renewed certificate). Said explicitly, so a later default (raw public keys, Postfix 3.9) changes nothing here.
# From the partner's network: TLS, or a temporary refusal (plaintext_reject_code, 450 by default) so that the
# partner's mail waits in its queue until its TLS works again instead of bouncing; then accepted.
NETWORK_ACTION = "reject_plaintext_session, permit"
CCERT_SEARCH_ORDER = "{ search_order = cert_fingerprint, pubkey_fingerprint }"


def has_identity_class(partner):
    """True when a partner proves itself by certificate or network, so its domains need a class of their own."""
    return bool(partner.get("inbound_certificate") or partner.get("inbound_networks"))


def identity_class(name):
    """The main.cf restriction class of one partner's identities; injective ('_' and '-' are encoded as _1, _0).

    Postfix parameter names take no '-', and a plain substitution would give partners 'a-b' and 'a_b' one class.
    """
    return IDENTITY_CLASS_PREFIX + name.replace("_", "_1").replace("-", "_0")


def identity_classes(model):
    """{class name: restriction} for main.cf: who may send as a partner that proves itself by certificate or network.

    Every such partner has its class, in either mode, so that switching the mode changes maps only (the class is
    reached through protected_sender_map() and partner_sender_map() rows, which exist for an enforced partner only).
    In order: mynetworks (mail our own content filter reinjects), the partner's own login if it has one (any other
    login is refused), its client certificate pins (whatever CA issued the certificate: a pin is the certificate
    itself), its networks over TLS, and a refusal for everyone else. Pins and networks are inline
    tables: no file per partner for every smtpd process to open, and nothing to postmap.
    """
    classes = {}
    for partner in _partners(model):
        if not has_identity_class(partner):
            continue
        checks = ["permit_mynetworks", "reject_authenticated_sender_login_mismatch", "permit_sasl_authenticated"]
        pins = (partner.get("inbound_certificate") or {}).get("fingerprints") or ()
        if pins:
            rows = ", ".join(f"{pin}=OK" for pin in pins)
            checks.append(f"check_ccert_access {{ inline:{{ {rows} }}, {CCERT_SEARCH_ORDER} }}")
        if partner.get("inbound_networks"):
            rows = ", ".join(f"{{{network} {NETWORK_ACTION}}}" for network in partner["inbound_networks"])
            checks.append(f"check_client_access cidr:{{ {rows} }}")
        checks.append(f"check_sender_access static:{{{IDENTITY_REJECT}}}")
        classes[identity_class(partner["name"])] = ", ".join(checks)
    return classes


def asks_client_certificates(model):
    """True when some partner proves itself by certificate: then smtpd asks every TLS client for one."""
    return any(partner.get("inbound_certificate") for partner in _partners(model))


ALLOWANCE_CLASS_PREFIX = "partnermail_allowance_"


def allowance_class(name):
    """The main.cf restriction class of one third-party sender allowance."""
    return f"{ALLOWANCE_CLASS_PREFIX}{name}"


def sender_allowance_map(model):
    """check_sender_access (pcre:): our senders a third party may use, each to the classes that check its clients.

    Only our own senders are here (the validator sees to it), so a partner's mode plays no part.
    """
    owned = {}
    for allowance in model.get("partnermail_sender_allowances") or ():
        for sender in allowance["senders"]:
            owned.setdefault(sender, []).append(allowance_class(allowance["name"]))
    return _ordered_pcre(owned)


def allowance_classes(model):
    """{class name: restriction} for main.cf: OK when the client is in one of the allowance's networks."""
    classes = {}
    for allowance in model.get("partnermail_sender_allowances") or ():
        rules = ", ".join(f"{{{client} OK}}" for client in allowance["clients"])
        classes[allowance_class(allowance["name"])] = f"check_client_access cidr:{{ {rules} }}"
    return classes


# The partner transport's SASL mechanisms without TLS: none that sends the password (PLAIN, LOGIN: noplaintext)
# nor one whose exchange lets an eavesdropper test guesses offline (CRAM-MD5, DIGEST-MD5, SCRAM, NTLM:
# nodictionary), so none of libsasl2-modules' at all. Partner mail never goes out without TLS, so no delivery
# needs one; if the TLS level were ever lowered (a policy gap, a header, a future default), the delivery is
# deferred ("no mechanism available") and the password stays here. Over TLS: any mechanism but ANONYMOUS.
PARTNER_SASL_OPTIONS = "noanonymous,noplaintext,nodictionary"
PARTNER_SASL_TLS_OPTIONS = "noanonymous"
# Postfix 3.10 honours RFC 8689's "TLS-Required: no" message header by default (tls_required_enable = yes): the
# smtp client then skips the TLS policy lookup and lowers its level to "may" - no verification, plaintext when
# STARTTLS is missing - for any sender who writes that header. The partner transport turns it off for itself; the
# smtp client reads the setting (cleanup only records the header), so the origin of the message plays no part.
TLS_REQUIRED_HEADER_VERSION = (3, 10)
# The Postfix to render for when the caller does not say: the newest release we support, so that every protection
# is on (an older Postfix is named by the role, from the MTA's installed package or its release).
DEFAULT_POSTFIX_VERSION = "3.10"


def postfix_version(text):
    """(major, minor) of a Postfix version such as ``3.7`` or ``3.10.13``; ValueError names a bad one."""
    match = re.fullmatch(r"(\d+)\.(\d+)(?:\.\d+)*", str(text).strip())
    if match is None:
        raise ValueError(f"not a Postfix version: {text!r} (want major.minor, as 3.10)")
    return int(match[1]), int(match[2])


def partner_services(model, map_dir=DEFAULT_MAP_DIR, version=DEFAULT_POSTFIX_VERSION):
    """master.cf smtp clones for partner mail, as dicts (render with master_cf_lines()).

    One clone per transport name the partners use - the model gives every partner the same one, so a
    thousand partners still mean one master.cf service: whatever differs between partners is keyed by
    nexthop in the maps. Partners in test mode count too, though no row routes to the clone: switching a
    partner to enforce (or back) then changes maps only, never master.cf. Only SASL, the TLS floor, the
    "TLS-Required: no" refusal (``version``: the MTA's Postfix, which knows the setting from 3.10) and the log
    name are set here: TLS start-up settings (CAfile, cert, key, loglevel) stay global, since differing ones break
    connection reuse through tlsproxy.
    """
    options = [
        ("smtp_sasl_auth_enable", "yes"),
        ("smtp_sasl_password_maps", f"hash:{map_dir}/{SASL_MAP_NAME}"),
        ("smtp_sasl_security_options", PARTNER_SASL_OPTIONS),
        ("smtp_sasl_tls_security_options", PARTNER_SASL_TLS_OPTIONS),
        ("smtp_tls_security_level", "encrypt"),
    ]
    if postfix_version(version) >= TLS_REQUIRED_HEADER_VERSION:
        options.append(("tls_required_enable", "no"))
    options.append(("syslog_name", "postfix/$service_name"))
    transports = sorted({partner["transport"] for partner in _partners(model)})
    return [
        {
            "name": transport, "type": "unix", "private": "-", "unpriv": "-", "chroot": "n",
            "wakeup": "-", "maxproc": "-", "command": "smtp", "options": list(options),
        }
        for transport in transports
    ]


def _option(key, value):
    """One '-o' line; a value with whitespace uses the { name = value } form (Postfix >= 3.0)."""
    if not key or "=" in key or any(char.isspace() for char in key):
        raise ValueError(f"bad master.cf option name: {key!r}")
    value = str(value)
    if "\n" in value or "{" in value or "}" in value:
        raise ValueError(f"master.cf option {key} has a value that cannot be written")
    if any(char.isspace() for char in value):
        return f"  -o {{ {key} = {value} }}"
    return f"  -o {key}={value}"


def master_cf_lines(services):
    """Render service dicts as master.cf text: the service line, then indented '-o' lines."""
    lines = []
    for service in services:
        columns = [str(service[column]) for column in SERVICE_COLUMNS]
        lines.append("{:<10} {:<5} {:<7} {:<7} {:<7} {:<7} {:<7} {}".format(*columns))
        lines.extend(_option(key, value) for key, value in service.get("options", ()))
    return "".join(f"{line}\n" for line in lines)
