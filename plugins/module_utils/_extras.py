# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The postfix role's extension points: what a server that already runs needs beyond the partner links.

Three inventory variables, validated here before any host is changed and rendered by ``_postfix_conf``:

- ``postfix_main_cf_extra``: main.cf parameters of the site (message_size_limit, milters, ...), rendered after ours;
  a parameter that protects the partner links cannot be given (the error says which and why).
- ``postfix_restrictions_extra``: additions to the smtpd restriction lists, per stage, appended after ours. Postfix
  stops at the first decision, so an addition can only refuse more: it never comes before the sender binding or the
  relay check.
- ``postfix_master_cf_extra``: master.cf services of the site (submission, a content filter's reinjection listener,
  ...), rendered after ours. Every smtpd service inherits main.cf (TLS, the partners' SASL, the sender binding);
  a service may override a restriction list, but never so that a partner's login relays, an open relay results,
  or anybody but the partner sends as the partner's domains (a sender list of an extra service always starts
  with our partner-sender check).

Pure Python; ``errors()`` returns one ``field: message`` line per problem, like ``_model``.
"""

import re
from collections.abc import Mapping

SASL_SERVICE = "partnermail"

STAGES = ("client", "helo", "sender", "relay", "recipient", "data", "end_of_data")
RESTRICTION_PARAMS = {f"smtpd_{stage}_restrictions": stage for stage in STAGES}
SERVICE_TYPES = ("inet", "unix", "unix-dgram", "fifo", "pass")
SERVICE_FLAG_COLUMNS = ("private", "unpriv", "chroot")
PARTNER_SENDER_CHECK_NAME = "partner_senders.pcre"
PARTNER_SENDER_CLASS = "partnermail_partner_sender"
# The same check for a partner in test mode: it binds only clients that are logged in (see _render).
PARTNER_TEST_SENDER_CLASS = "partnermail_partner_test_sender"
# Every restriction class of ours (the partner-sender checks, the sender allowances) is a main.cf parameter with this
# prefix; a site's parameter or service option of that name would replace what the class checks.
CLASS_PREFIX = "partnermail_"

# Parameters that make the partner links what they are, with the reason one may not set them. Everything else the
# site may set (a main.cf parameter of ours it replaces is listed in the README).
PROTECTED = {
    "smtpd_tls_auth_only": "AUTH must only ever be offered after STARTTLS",
    "smtpd_tls_security_level": "partners must always be able to start TLS with us",
    "postscreen_tls_security_level": "partners must always be able to start TLS with us",
    "smtpd_tls_protocols": "TLS below 1.2 is refused on every listener",
    "smtpd_tls_mandatory_protocols": "TLS below 1.2 is refused on every listener",
    "smtpd_tls_exclude_ciphers": "anonymous TLS would let a password go to an unauthenticated server",
    "smtpd_tls_chain_files": "the MTA's certificate comes from the pki role",
    "smtpd_sasl_auth_enable": "partners authenticate with SASL",
    "smtpd_sasl_type": "partners authenticate with Dovecot",
    "smtpd_sasl_path": "partners authenticate through our Dovecot socket",
    "smtpd_sasl_service": "Dovecot shows the partners' logins to this service only",
    "smtpd_sasl_security_options": "no anonymous or plaintext SASL",
    "smtpd_sasl_tls_security_options": "no anonymous SASL",
    "smtpd_sender_login_maps": "the sender binding: only a partner's login sends as the partner",
    "smtpd_tls_ask_ccert": "a partner that proves itself by certificate must be asked for it",
    "smtpd_tls_fingerprint_digest": "the partners' client certificate pins are SHA-256",
    "smtpd_restriction_classes": "the sender allowances and the partner-sender check are restriction classes",
    "smtpd_relay_restrictions": "no relaying: use postfix_restrictions_extra.relay to add to it",
    "smtpd_recipient_restrictions": "no relaying: use postfix_restrictions_extra.recipient to add to it",
    "smtpd_sender_restrictions": "the sender binding: use postfix_restrictions_extra.sender to add to it",
    "smtpd_client_restrictions": "use postfix_restrictions_extra.client to add to it",
    "smtpd_helo_restrictions": "use postfix_restrictions_extra.helo to add to it",
    "smtpd_data_restrictions": "use postfix_restrictions_extra.data to add to it",
    "smtpd_end_of_data_restrictions": "use postfix_restrictions_extra.end_of_data to add to it",
    "transport_maps": "partner domains are routed by the partner transport map",
    "smtp_tls_policy_maps": "a partner's TLS policy comes from the model (tls)",
    "smtp_tls_security_level": "the Internet's TLS level is partnermail_internet.tls_level",
    "smtp_tls_chain_files": "the MTA's certificate comes from the pki role",
    "smtp_tls_connection_reuse": "partner mail reuses TLS connections through tlsproxy",
    "smtp_tls_protocols": "TLS below 1.2 is refused on every connection",
    "smtp_tls_mandatory_protocols": "the partner links never use TLS below 1.2",
    "smtp_tls_mandatory_ciphers": "the cipher floor of the partner links",
    "smtp_tls_fingerprint_digest": "the partners' fingerprint pins are SHA-256",
    "smtp_dns_support_level": "DANE needs DNSSEC-validated answers",
    "smtp_sasl_password_maps": "our logins at the partners come from the model (outbound_auth)",
    "smtp_sasl_auth_soft_bounce": "a partner that refuses our login must not bounce our mail",
    "relayhost": "the Internet's relay host is partnermail_internet.relayhost",
    "myhostname": "this MTA's name is partnermail_hostname",
}
# On a service of its own, a site may choose its SASL (its own users) and its restriction lists (checked below).
SERVICE_ALLOWED = {"smtpd_sasl_auth_enable", "smtpd_sasl_path", "smtpd_sasl_service", "smtpd_tls_security_level"}
SERVICE_ALLOWED |= set(RESTRICTION_PARAMS)
# smtpd_tls_security_level on a service: only the levels that still offer (or require) TLS.
SERVICE_TLS_LEVELS = ("may", "encrypt")

_PARAM = re.compile(r"[a-z][a-z0-9_]*")
_SERVICE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\[\]-]*")
_WAKEUP = re.compile(r"-|[0-9]+\??")
_MAXPROC = re.compile(r"-|[0-9]+")


def _words(value):
    return [word for word in re.split(r"[\s,]+", value) if word]


def split_list(value):
    """A Postfix list parameter's elements (comma separated; an element may have words: 'check_... type:table')."""
    return [" ".join(part.split()) for part in value.split(",") if part.strip()]


def _scalar(value):
    """A parameter value as Postfix reads it; booleans become yes/no."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _value_problem(value):
    if not isinstance(value, (str, int, float, bool)):
        return "must be a string, a number or a boolean"
    if "\n" in _scalar(value):
        return "must be one line"
    return None


def _params(raw, path, err, allowed=frozenset()):
    """Check a {parameter: value} mapping; returns the parameters that passed, values as strings."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        err(path, "must be a mapping of Postfix parameter names to values")
        return {}
    good = {}
    for key, value in raw.items():
        where = f"{path}.{key}"
        if not isinstance(key, str) or not _PARAM.fullmatch(key):
            err(where, "is not a Postfix parameter name (lower case letters, digits, _)")
            continue
        if key in PROTECTED and key not in allowed:
            err(where, f"may not be set here: {PROTECTED[key]}")
            continue
        if key.startswith(CLASS_PREFIX):
            err(where, f"may not be set here: {CLASS_PREFIX}* parameters are the restriction classes that bind the "
                "partners' domains to their logins, certificates and networks and check the sender allowances")
            continue
        problem = _value_problem(value)
        if problem:
            err(where, problem)
            continue
        good[key] = _scalar(value)
    return good


def _restriction_list(raw, path, err):
    """A list of restrictions, one per element (a restriction may carry its table: 'check_policy_service ...')."""
    if not isinstance(raw, list):
        err(path, "must be a list of restrictions, one per element")
        return []
    good = []
    for index, item in enumerate(raw):
        where = f"{path}[{index}]"
        if not isinstance(item, str) or not item.strip():
            err(where, "must be a non-empty string")
        elif "," in item or "\n" in item:
            err(where, "must be one restriction (no commas or newlines); give each as its own element")
        else:
            good.append(" ".join(item.split()))
    return good


def restrictions_errors(raw, err):
    """postfix_restrictions_extra: {stage: [restriction, ...]}; returns the valid part."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        err("postfix_restrictions_extra", f"must be a mapping with the keys {', '.join(STAGES)}")
        return {}
    good = {}
    for stage, items in raw.items():
        where = f"postfix_restrictions_extra.{stage}"
        if stage not in STAGES:
            err(where, f"is not a restriction stage; use one of {', '.join(STAGES)}")
            continue
        good[stage] = _restriction_list(items, where, err)
    return good


def _opens_relay(words):
    """True when a bare permit comes before any unconditional refusal of foreign destinations."""
    for word in words:
        if word in ("reject", "reject_unauth_destination", "defer_unauth_destination", "defer"):
            return False
        if word == "permit":
            return True
    return False


def _service_options(raw, path, err):
    options = _params(raw, path, err, allowed=SERVICE_ALLOWED)
    level = options.get("smtpd_tls_security_level")
    if level is not None and level not in SERVICE_TLS_LEVELS:
        err(f"{path}.smtpd_tls_security_level", f"must be one of {', '.join(SERVICE_TLS_LEVELS)}: "
            "partners must always be able to start TLS")
        del options["smtpd_tls_security_level"]
    partner_logins = (options.get("smtpd_sasl_auth_enable", "yes") != "no"
                      and options.get("smtpd_sasl_service", SASL_SERVICE) == SASL_SERVICE)
    for stage in ("relay", "recipient"):
        name = f"smtpd_{stage}_restrictions"
        if name not in options:
            continue
        words = _words(options[name])
        if partner_logins and "permit_sasl_authenticated" in words:
            err(f"{path}.{name}", "permit_sasl_authenticated would let a partner's login relay through this MTA: "
                "give this service the site's own SASL users (smtpd_sasl_service: smtp) or no SASL at all")
        if _opens_relay(words):
            err(f"{path}.{name}", "a bare permit before any reject makes this service an open relay")
    return options


def _column(service, column, path, err, pattern, default="-"):
    value = service.get(column, default)
    value = _scalar(value) if value is not None else default
    if not pattern.fullmatch(value):
        err(f"{path}.{column}", f"got {value!r}, which master.cf does not accept here")
    return value


def services_errors(raw, own_services, err):
    """postfix_master_cf_extra: [{name, type, command, options, ...}]; returns the valid services as dicts."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        err("postfix_master_cf_extra", "must be a list of master.cf services")
        return []
    taken = {(service["name"], service["type"]) for service in own_services}
    seen = set()
    good = []
    flag = re.compile(r"[yn-]")
    for index, service in enumerate(raw):
        path = f"postfix_master_cf_extra[{index}]"
        if not isinstance(service, Mapping):
            err(path, "must be a mapping (name, type, command, options, ...)")
            continue
        unknown = set(service) - {"name", "type", "command", "options", "wakeup", "maxproc", *SERVICE_FLAG_COLUMNS}
        for key in sorted(unknown, key=str):
            err(f"{path}.{key}", "is not a master.cf service field")
        name, kind, command = service.get("name"), service.get("type"), service.get("command")
        if not isinstance(name, str) or not _SERVICE_NAME.fullmatch(name):
            err(f"{path}.name", "must be a master.cf service name (a port, host:port or a name)")
            continue
        path = f"postfix_master_cf_extra[{index}] ({name})"
        if kind not in SERVICE_TYPES:
            err(f"{path}.type", f"must be one of {', '.join(SERVICE_TYPES)}")
            continue
        if not isinstance(command, str) or not command.strip() or "\n" in command:
            err(f"{path}.command", "must be the service's command line (e.g. smtpd, or lmtp)")
            continue
        if (name, kind) in taken:
            err(path, f"{name}/{kind} is a service of partnermail.links itself; give the site's service another name")
            continue
        if (name, kind) in seen:
            err(path, f"{name}/{kind} is given twice")
            continue
        seen.add((name, kind))
        entry = {"name": name, "type": kind, "command": " ".join(command.split())}
        for column in SERVICE_FLAG_COLUMNS:
            entry[column] = _column(service, column, path, err, flag)
        entry["wakeup"] = _column(service, "wakeup", path, err, _WAKEUP)
        entry["maxproc"] = _column(service, "maxproc", path, err, _MAXPROC)
        entry["options"] = _service_options(service.get("options"), f"{path}.options", err)
        good.append(entry)
    return good


def _check(main_extra, restrictions, services, own_services):
    found = []

    def err(path, message):
        found.append(f"{path}: {message}")

    result = {
        "extra": _params(main_extra, "postfix_main_cf_extra", err),
        "restrictions": restrictions_errors(restrictions, err),
        "services": services_errors(services, own_services, err),
    }
    return result, found


def errors(main_extra, restrictions, services, own_services):
    """Every problem of the three extension variables, one 'field: message' line each."""
    return _check(main_extra, restrictions, services, own_services)[1]


def checked(main_extra, restrictions, services, own_services):
    """The three variables normalised ({extra, restrictions, services}); raises ValueError listing every problem."""
    result, found = _check(main_extra, restrictions, services, own_services)
    if found:
        raise ValueError("; ".join(found))
    return result


def guarded_sender_restrictions(value, map_dir):
    """An extra service's own sender list, after the check that only the partner sends as the partner's domains."""
    check = f"check_sender_access pcre:{map_dir}/{PARTNER_SENDER_CHECK_NAME}"
    return f"{check}, {value.strip()}" if value.strip() else check
