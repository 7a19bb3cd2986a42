# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Validate and normalise one MTA's partnermail inventory model.

Pure Python (no Ansible imports) so that the filter plugin and the unit tests share one authority.
``validate_model()`` collects every error before raising, and never puts a password in a message.
"""

import ipaddress
import re
from collections.abc import Mapping

MODEL_KEYS = (
    "partnermail_hostname",
    "partnermail_domains",
    "partnermail_delivery",
    "partnermail_internet",
    "partnermail_partners",
    "partnermail_sender_allowances",
    "partnermail_report_dir",
)
PARTNER_KEYS = (
    "name", "mode", "domains", "connectors", "tls", "outbound_auth", "inbound_auth", "inbound_certificate",
    "inbound_networks", "allowed_senders",
)
ALLOWANCE_KEYS = ("name", "senders", "clients")
CONNECTOR_KEYS = ("cost", "via", "host", "port")
TLS_KEYS = ("level", "match", "ca_file", "fingerprints")
AUTH_KEYS = ("username", "password")
INBOUND_CERTIFICATE_KEYS = ("fingerprints",)
# How a partner proves itself when it sends to us: at least one of these, each binding its domains to it alone.
INBOUND_IDENTITIES = ("inbound_auth", "inbound_certificate", "inbound_networks")
DELIVERY_KEYS = {"virtual": ("mode", "mailboxes"), "relay": ("mode", "nexthop")}
INTERNET_KEYS = ("relayhost", "tls_level")

# A partner's mode. enforce: its own route, TLS policy and login, and its domains refused to clients that are not
# logged in. test: its mail goes out (and comes in) as Internet mail while its declared link is only probed and
# reported (NOT ENFORCED), so a link can be introduced on a live server without holding mail on day one.
PARTNER_MODES = ("enforce", "test")
DEFAULT_PARTNER_MODE = "enforce"
PARTNER_TLS_LEVELS = ("encrypt", "verify", "secure", "fingerprint", "dane-only")
INTERNET_TLS_LEVELS = ("none", "may", "encrypt", "dane", "verify", "secure")
NAME_CHECK_LEVELS = ("verify", "secure")  # the levels where Postfix accepts match= (names) and tafile=
DEFAULT_PARTNER_TLS_LEVEL = "secure"
DEFAULT_INTERNET_TLS_LEVEL = "may"
DEFAULT_MAILBOXES = ("postmaster",)
SMTP_PORT = 25
COST_RANGE = (1, 100)
PASSWORD_LENGTH = (12, 128)
# The one master.cf transport every partner's mail leaves through. Everything that differs between partners
# (nexthops, TLS policy and trust anchor, credentials) is keyed by nexthop in the maps, so one smtp clone
# serves all: per-partner clones made every postconf call O(partners) (0.5 s at 1000 partners).
PARTNER_TRANSPORT = "partner"

_PARTNER_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,30}")
# Allowance names become part of a main.cf restriction class name: no hyphen there.
_ALLOWANCE_NAME = re.compile(r"[a-z0-9][a-z0-9_]{0,30}")
_USERNAME = re.compile(r"[A-Za-z0-9._@-]{1,64}")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_ATOM = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LOCALPART = re.compile(rf"{_ATOM}(?:\.{_ATOM})*")
_FINGERPRINT_PLAIN = re.compile(r"[0-9A-Fa-f]{64}")
_FINGERPRINT_COLONS = re.compile(r"[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){31}")
_BRACKETED = re.compile(r"\[([^\[\]]+)\](?::([0-9]{1,5}))?")


class ModelError(ValueError):
    """The inventory model is invalid; ``errors`` lists every problem, one field path each."""

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


class _Report:
    """Collects 'field.path: message' lines."""

    def __init__(self):
        self.errors = []

    def scope(self, prefix):
        """Return err(path, message) that prefixes every path with ``prefix``."""
        return lambda path, message: self.errors.append(f"{prefix}{path}: {message}")


class _Partner:
    """A partner under validation: its error scope and the parts that passed, for the cross checks."""

    def __init__(self, index, label, err):
        self.index = index
        self.label = label
        self.err = err
        self.name = None
        self.mode = None
        self.domains = []  # [(index, normalised domain)]
        self.targets = []  # [(connector path, nexthop)] of fixed-host connectors
        self.inbound_username = None
        self.fingerprints = []  # [(path, normalised SHA-256 pin)] of inbound_certificate
        self.networks = []  # [(path, ipaddress network)] of inbound_networks
        self.allowed_senders = []  # [(path, sender pattern)]
        self.data = None


# ---------------------------------------------------------------- generic checks


def _default(raw, key, default):
    """raw[key], or ``default`` when the key is absent or null (never for other falsy values)."""
    value = raw.get(key)
    return default if value is None else value


def _join(path, key):
    return f"{path}.{key}" if path else str(key)


def _got(value):
    """Describe a wrong value for an error message (never used for secrets)."""
    if value is None:
        return "got nothing (null)"
    if isinstance(value, bool):
        return f"got boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"got string {value!r}"
    if isinstance(value, (int, float)):
        return f"got {value!r}"
    return f"got {_kind(value)}"


def _kind(value):
    """Name the type of a value without showing it."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, int):
        return "an integer"
    return f"a {type(value).__name__}"


def _mapping(raw, path, err, allowed):
    """Return ``raw`` if it is a mapping (reporting unknown keys), else None."""
    if not isinstance(raw, Mapping):
        err(path, f"must be a mapping, {_got(raw)}")
        return None
    for key in raw:
        if key not in allowed:
            err(_join(path, key), f"unknown key (expected one of: {', '.join(allowed)})")
    return raw


def _list(raw, path, err, nonempty=True):
    if not isinstance(raw, (list, tuple)):
        err(path, f"must be a list, {_got(raw)}")
        return None
    if nonempty and not raw:
        err(path, "must not be empty")
        return None
    return list(raw)


def _str(raw, path, err, secret=False):
    if isinstance(raw, str):
        return str(raw)
    err(path, f"must be a string, got {_kind(raw)}" if secret else f"must be a string, {_got(raw)}")
    return None


def _int(raw, path, err, low, high):
    if isinstance(raw, bool) or not isinstance(raw, int) or not low <= raw <= high:
        err(path, f"must be an integer from {low} to {high}, {_got(raw)}")
        return None
    return int(raw)


def _choice(raw, path, err, choices):
    value = _str(raw, path, err)
    if value is None:
        return None
    if value.lower() not in choices:
        err(path, f"must be one of {', '.join(choices)}, {_got(raw)}")
        return None
    return value.lower()


# ---------------------------------------------------------------- names and nexthops


def _dns_problem(name, min_labels):
    """Return why ``name`` (lowercase, no leading dot) is not a DNS name, or None."""
    if not name:
        return "it is empty"
    if name.endswith("."):
        return "it must not end with a dot"
    if len(name) > 253:
        return "it is longer than 253 characters"
    labels = name.split(".")
    for label in labels:
        if label == "*":
            return "wildcards are not supported (a leading dot means all subdomains)"
        if not _LABEL.fullmatch(label):
            return f"label {label!r} is not letters, digits and inner hyphens (at most 63)"
    if len(labels) < min_labels:
        return "it needs at least two labels (a fully qualified name)"
    if labels[-1].isdigit():
        return "the last label must not be numeric"
    return None


def _dns_name(raw, path, err, pattern_ok=False, min_labels=2):
    """Return the lowercased DNS name (a leading dot allowed when ``pattern_ok``), else None."""
    value = _str(raw, path, err)
    if value is None:
        return None
    name = value.lower()
    if name.startswith(".") and not pattern_ok:
        problem = "a leading dot (subdomain pattern) is not allowed here"
    else:
        problem = _dns_problem(name[1:] if pattern_ok and name.startswith(".") else name, min_labels)
    if problem:
        err(path, f"{value!r} is not a valid DNS name: {problem}")
        return None
    return name


def _ip(value):
    try:
        return ipaddress.ip_address(value).compressed
    except ValueError:
        return None


def _host(raw, path, err, min_labels=2):
    """Return a lowercased host name or a compressed IP address, else None."""
    value = _str(raw, path, err)
    if value is None:
        return None
    return _ip(value) or _dns_name(value, path, err, min_labels=min_labels)


def _bracket(host, port):
    return f"[{host}]:{port}"


def _nexthop(raw, path, err):
    """Validate a Postfix nexthop: '[host]:port', '[host]' or a bare domain (MX lookup)."""
    value = _str(raw, path, err)
    if value is None:
        return None
    match = _BRACKETED.fullmatch(value)
    if match:
        host = _host(match[1], path, err, min_labels=1)
        port = match[2]
        if port is not None and not 1 <= int(port) <= 65535:
            err(path, f"port must be from 1 to 65535, {_got(value)}")
            return None
        if host is None:
            return None
        return f"[{host}]" if port is None else _bracket(host, int(port))
    if _ip(value):
        err(path, f"write an IP address in brackets, as [{value}]:{SMTP_PORT}, {_got(value)}")
        return None
    if ":" in value or "[" in value:
        err(path, f"must be [host]:port (fixed host) or a bare domain (MX lookup), {_got(value)}")
        return None
    return _dns_name(value, path, err, min_labels=1)


def _canonical(nexthop):
    """Spell a nexthop so that '[h]' and '[h]:25' compare equal."""
    return f"{nexthop}:{SMTP_PORT}" if nexthop.startswith("[") and nexthop.endswith("]") else nexthop


# ---------------------------------------------------------------- this MTA


def _hostname(raw, err):
    if raw is None:
        err("partnermail_hostname", "is required")
        return None
    return _dns_name(raw, "partnermail_hostname", err)


def _unique_names(raw_items, path, err, check):
    """Run ``check(item, item_path)`` over a list; report duplicates; return [(index, value)]."""
    seen = {}
    for index, item in enumerate(raw_items):
        value = check(item, f"{path}[{index}]")
        if value is None:
            continue
        if value in seen:
            err(f"{path}[{index}]", f"duplicate {value!r} (also {path}[{seen[value]}])")
            continue
        seen[value] = index
    return [(index, value) for value, index in seen.items()]


def _own_domains(raw, err):
    path = "partnermail_domains"
    if raw is None:
        err(path, "is required")
        return []
    items = _list(raw, path, err)
    if items is None:
        return []
    return _unique_names(items, path, err, lambda item, where: _dns_name(item, where, err))


def _localpart(raw, path, err):
    value = _str(raw, path, err)
    if value is None:
        return None
    localpart = value.lower()
    if len(localpart) > 64 or not _LOCALPART.fullmatch(localpart):
        err(path, f"must be a mailbox local part (no '@', at most 64 characters), {_got(value)}")
        return None
    return localpart


def _sender(raw, path, err):
    """An envelope sender pattern: 'local@domain', 'domain' or '.domain' (its subdomains), lowercased."""
    value = _str(raw, path, err)
    if value is None:
        return None
    if "@" in value:
        local, _sep, domain = value.rpartition("@")
        if not local or not _LOCALPART.fullmatch(local.lower()) or len(local) > 64:
            err(path, f"{value!r} is not an address: the local part must be letters, digits and !#$%&'*+/=?^_`{{|}}~-"
                " (dots between them), at most 64 characters")
            return None
        name = _dns_name(domain, path, err)
        return None if name is None else f"{local.lower()}@{name}"
    return _dns_name(value, path, err, pattern_ok=True)


def _sender_domain(pattern):
    """The domain part of a sender pattern ('a@x' -> 'x', '.x' -> '.x', 'x' -> 'x')."""
    return pattern.rpartition("@")[2]


def covers(pattern, sender):
    """True when sender pattern ``pattern`` matches every sender that ``sender`` (also a pattern) matches."""
    if pattern == sender:
        return True
    if "@" in pattern:
        return False
    domain = _sender_domain(sender)
    if pattern.startswith("."):
        return domain.endswith(pattern)
    return "@" in sender and domain == pattern


def _senders(raw, path, err, nonempty):
    items = [] if raw is None and not nonempty else _list(raw, path, err, nonempty=nonempty)
    if items is None:
        return None
    checked = _unique_names(items, path, err, lambda item, where: _sender(item, where, err))
    return [(f"{path}[{index}]", value) for index, value in checked]


def _clients(raw, path, err, whose="the third party's"):
    """Client networks: addresses or CIDR prefixes, never everyone; [(path, ipaddress network)]."""
    items = _list(raw, path, err)
    if items is None:
        return None
    networks, seen = [], {}
    for index, item in enumerate(items):
        where = f"{path}[{index}]"
        value = _str(item, where, err)
        if value is None:
            continue
        try:
            network = ipaddress.ip_network(value, strict=True)
        except ValueError as exc:
            err(where, f"must be an IP address or a network such as 198.51.100.0/24 ({exc})")
            continue
        if network.prefixlen == 0:
            err(where, f"{value!r} is every address: name {whose} own networks")
            continue
        if network.compressed in seen:
            err(where, f"duplicate {network.compressed!r} (also {seen[network.compressed]})")
            continue
        seen[network.compressed] = where
        networks.append((where, network))
    return networks


def _allowance_name(raw, where, names, err):
    if raw is None:
        err(f"{where}.name", "is required")
    elif not isinstance(raw, str) or not _ALLOWANCE_NAME.fullmatch(raw):
        err(f"{where}.name", f"must match {_ALLOWANCE_NAME.pattern} (lowercase letters, digits and '_'), {_got(raw)}")
    elif raw in names:
        err(f"{where}.name", f"duplicate {raw!r} (also {names[raw]})")
    else:
        names[raw] = where
        return str(raw)
    return None


def _allowance(item, where, names, own, hostname, err):
    """One third-party allowance: {name, senders, clients}, or None."""
    if _mapping(item, where, err, ALLOWANCE_KEYS) is None:
        return None
    name = _allowance_name(item.get("name"), where, names, err)
    senders = None
    if item.get("senders") is None:
        err(f"{where}.senders", "is required")
    else:
        senders = _senders(item["senders"], f"{where}.senders", err, nonempty=True)
    for sender_path, sender in senders or ():
        domain = _sender_domain(sender)
        if domain not in own and domain != hostname:
            err(sender_path, f"{sender!r} is not one of our own domains ({', '.join(own)}) or an address in one: "
                "an allowance lets a third party send as us, nothing else")
    networks = None
    if item.get("clients") is None:
        err(f"{where}.clients", "is required")
    else:
        networks = _clients(item["clients"], f"{where}.clients", err)
    if not (name and senders and networks):
        return None
    return {"name": name, "senders": [sender for _where, sender in senders],
            "clients": [network.compressed for _where, network in networks]}


def _allowances(raw, own_domains, hostname, err):
    """partnermail_sender_allowances: third parties that may send as our own domains from their networks."""
    path = "partnermail_sender_allowances"
    items = [] if raw is None else _list(raw, path, err, nonempty=False)
    own = [name for _where, name in own_domains]
    names = {}
    checked = [_allowance(item, f"{path}[{index}]", names, own, hostname, err)
               for index, item in enumerate(items or ())]
    return [allowance for allowance in checked if allowance]


def _delivery(raw, err):
    path = "partnermail_delivery"
    raw = {} if raw is None else raw
    if _mapping(raw, path, err, ("mode", "mailboxes", "nexthop")) is None:
        return None
    mode = _choice(_default(raw, "mode", "virtual"), f"{path}.mode", err, tuple(DELIVERY_KEYS))
    if mode is None:
        return None
    for key in raw:
        if key not in DELIVERY_KEYS[mode] and key in ("mailboxes", "nexthop"):
            err(f"{path}.{key}", f"not allowed with mode {mode} (expected: {', '.join(DELIVERY_KEYS[mode])})")
    if mode == "relay":
        if raw.get("nexthop") is None:
            err(f"{path}.nexthop", "is required with mode relay")
            return None
        return {"mode": mode, "nexthop": _nexthop(raw["nexthop"], f"{path}.nexthop", err)}
    mailboxes = raw.get("mailboxes")
    items = list(DEFAULT_MAILBOXES) if mailboxes is None else _list(mailboxes, f"{path}.mailboxes", err)
    if items is None:
        return None
    checked = _unique_names(items, f"{path}.mailboxes", err, lambda item, where: _localpart(item, where, err))
    return {"mode": mode, "mailboxes": [value for _where, value in checked]}


def _internet(raw, err):
    path = "partnermail_internet"
    raw = {} if raw is None else raw
    if _mapping(raw, path, err, INTERNET_KEYS) is None:
        return None
    relayhost = _default(raw, "relayhost", "")
    if relayhost != "":
        relayhost = _nexthop(relayhost, f"{path}.relayhost", err)
    level = _choice(_default(raw, "tls_level", DEFAULT_INTERNET_TLS_LEVEL), f"{path}.tls_level", err,
                    INTERNET_TLS_LEVELS)
    return {"relayhost": relayhost, "tls_level": level}


# ---------------------------------------------------------------- one partner


def _partner_domains(raw, err):
    if raw is None:
        err("domains", "is required")
        return []
    items = _list(raw, "domains", err)
    if items is None:
        return []
    return _unique_names(items, "domains", err, lambda item, where: _dns_name(item, where, err, pattern_ok=True))


def _connector(raw, path, patterns, err):
    """Return {cost, via, host, port, path} for one connector, or None."""
    if _mapping(raw, path, err, CONNECTOR_KEYS) is None:
        return None
    cost = _int(raw.get("cost"), f"{path}.cost", err, *COST_RANGE)
    has_via, has_host = raw.get("via") is not None, raw.get("host") is not None
    if has_via == has_host:
        err(path, "needs exactly one of 'via: dns' (MX routing) or 'host' (a fixed smart host)"
            + (", not both" if has_via else ""))
        return None
    if has_via:
        return _dns_connector(raw, path, cost, patterns, err)
    host = _connector_host(raw["host"], f"{path}.host", err)
    port = SMTP_PORT if raw.get("port") is None else _int(raw["port"], f"{path}.port", err, 1, 65535)
    if None in (cost, host, port):
        return None
    return {"cost": cost, "via": None, "host": host, "port": port, "path": path}


def _connector_host(raw, path, err):
    if isinstance(raw, str) and not _ip(raw) and any(char in raw for char in "[]:"):
        err(path, f"give the bare host name or IP address (the port goes in 'port'), {_got(raw)}")
        return None
    return _host(raw, path, err)


def _dns_connector(raw, path, cost, patterns, err):
    ok = True
    if raw["via"] != "dns":
        err(f"{path}.via", f"must be 'dns' (or give 'host' instead), {_got(raw['via'])}")
        ok = False
    if "port" in raw:
        err(f"{path}.port", "not allowed with via: dns (MX routing always uses port 25); use a host connector")
        ok = False
    if patterns:
        err(f"{path}.via", f"via: dns cannot serve subdomain pattern {patterns[0]!r}: MX routing looks up the MX "
            "of an exact domain, so list exact domains or use a fixed host connector")
        ok = False
    if not ok or cost is None:
        return None
    return {"cost": cost, "via": "dns", "host": None, "port": SMTP_PORT, "path": path}


def _target(connector):
    """The nexthop a connector stands for: 'dns' for MX routing, else '[host]:port'."""
    return "dns" if connector["via"] == "dns" else _bracket(connector["host"], connector["port"])


def _connectors(raw, domains, err):
    if raw is None:
        err("connectors", "is required")
        return None
    items = _list(raw, "connectors", err)
    if items is None:
        return None
    patterns = [name for _where, name in domains if name.startswith(".")]
    checked = [_connector(item, f"connectors[{index}]", patterns, err) for index, item in enumerate(items)]
    costs, targets = {}, {}
    for connector in filter(None, checked):
        cost, target, path = connector["cost"], _target(connector), connector["path"]
        if cost in costs:
            err(f"{path}.cost", f"cost {cost} is already used by {costs[cost]}; costs must be unique in a partner")
        if target in targets:
            err(path, f"duplicate nexthop {target!r} (also {targets[target]})")
        costs.setdefault(cost, path)
        targets.setdefault(target, path)
    return None if None in checked else checked


def _by_cost(connectors):
    """Sort connectors by cost; equal costs keep their order (sorted() is stable)."""
    return sorted(connectors, key=lambda connector: connector["cost"])


def _routed(connectors, domains):
    """Attach per-domain nexthops to each connector (cost order) and derive routes and nexthops."""
    result = []
    for connector in _by_cost(connectors):
        target = _target(connector)
        nexthops = {domain: domain if target == "dns" else target for domain in domains}
        result.append({key: connector[key] for key in CONNECTOR_KEYS} | {"nexthops": nexthops})
    routes = {domain: [connector["nexthops"][domain] for connector in result] for domain in domains}
    nexthops = list(dict.fromkeys(c["nexthops"][domain] for c in result for domain in domains))
    return result, routes, nexthops


def _fingerprint(raw, path, err):
    value = _str(raw, path, err)
    if value is None:
        return None
    if _FINGERPRINT_COLONS.fullmatch(value):
        value = value.replace(":", "")
    elif not _FINGERPRINT_PLAIN.fullmatch(value):
        err(path, f"must be a SHA-256 fingerprint: 64 hex digits, bare or as 32 colon-separated pairs, {_got(raw)}")
        return None
    value = value.upper()
    return ":".join(value[i:i + 2] for i in range(0, 64, 2))


def _tls_level(raw, err):
    value = _str(raw, "tls.level", err)
    if value is None:
        return None
    level = value.lower()
    if level in ("none", "may"):
        err("tls.level", f"{value!r} is not allowed: partner mail never goes out in clear "
            f"(use one of {', '.join(PARTNER_TLS_LEVELS)})")
        return None
    if level not in PARTNER_TLS_LEVELS:
        err("tls.level", f"must be one of {', '.join(PARTNER_TLS_LEVELS)}, {_got(value)}")
        return None
    return level


def _match(raw, level, err):
    if raw is None or (isinstance(raw, (list, tuple)) and not raw):
        return []
    items = _list(raw, "tls.match", err)
    if items is None:
        return None
    if level == "fingerprint":
        err("tls.match", "not used at level fingerprint: list the certificate pins under tls.fingerprints")
    elif level is not None and level not in NAME_CHECK_LEVELS:
        err("tls.match", f"only applies to levels verify and secure (Postfix rejects match= at level {level})")
    checked = _unique_names(items, "tls.match", err,
                            lambda item, where: _dns_name(item, where, err, pattern_ok=True, min_labels=1))
    return [value for _where, value in checked]


def _ca_file(raw, level, err):
    if raw is None or raw == "":
        return None
    value = _str(raw, "tls.ca_file", err)
    if value is not None and level is not None and level not in NAME_CHECK_LEVELS:
        err("tls.ca_file", f"only applies to levels verify and secure (Postfix rejects tafile= at level {level})")
    return value


def _fingerprints(raw, level, err):
    items = [] if raw is None else _list(raw, "tls.fingerprints", err, nonempty=False)
    if items is None:
        return None
    if level == "fingerprint" and not items:
        err("tls.fingerprints", "must list at least one SHA-256 fingerprint at level fingerprint")
    elif level not in ("fingerprint", None) and items:
        err("tls.fingerprints", f"only used at level fingerprint, got {len(items)} at level {level}")
    checked = _unique_names(items, "tls.fingerprints", err, lambda item, where: _fingerprint(item, where, err))
    return [value for _where, value in checked]


def _tls(raw, err):
    raw = {} if raw is None else raw
    if _mapping(raw, "tls", err, TLS_KEYS) is None:
        return None
    level = _tls_level(_default(raw, "level", DEFAULT_PARTNER_TLS_LEVEL), err)
    return {
        "level": level,
        "match": _match(raw.get("match"), level, err),
        "ca_file": _ca_file(raw.get("ca_file"), level, err),
        "fingerprints": _fingerprints(raw.get("fingerprints"), level, err),
    }


def _password(raw, username, path, err):
    """Check a password without ever echoing it."""
    if raw is None:
        err(path, "is required")
        return None
    value = _str(raw, path, err, secret=True)
    if value is None:
        return None
    low, high = PASSWORD_LENGTH
    problems = []
    if not low <= len(value) <= high:
        problems.append(f"must be {low} to {high} characters long (it has {len(value)})")
    if any(char.isspace() or not char.isprintable() for char in value):
        problems.append("must not contain whitespace, newlines or control characters")
    if username is not None and value.casefold() == username.casefold():
        problems.append("must differ from the username")
    for problem in problems:
        err(path, problem)
    return None if problems else value


def _auth(raw, field, err):
    """A login (username, password); None when the partner declares none (each caller says whether it may)."""
    if raw is None:
        return None
    if _mapping(raw, field, err, AUTH_KEYS) is None:
        return None
    username = raw.get("username")
    if username is None:
        err(f"{field}.username", "is required")
    elif not isinstance(username, str) or not _USERNAME.fullmatch(username):
        err(f"{field}.username", f"must match {_USERNAME.pattern}, {_got(username)}")
        username = None
    password = _password(raw.get("password"), username, f"{field}.password", err)
    return {"username": None if username is None else str(username), "password": password}


def _inbound_certificate(raw, err):
    """inbound_certificate: {fingerprints: [SHA-256 pins of the partner's client certificate or public key]}.

    Several pins let the partner roll its key (or get a new certificate from its CA) without an outage: list the
    next one before it is used, remove the old one after.
    """
    if raw is None:
        return []
    if _mapping(raw, "inbound_certificate", err, INBOUND_CERTIFICATE_KEYS) is None:
        return None
    path = "inbound_certificate.fingerprints"
    if raw.get("fingerprints") is None:
        err(path, "is required: the SHA-256 fingerprints of the certificate (or public key) the partner's servers "
            "present when they send to us")
        return None
    items = _list(raw["fingerprints"], path, err)
    if items is None:
        return None
    checked = _unique_names(items, path, err, lambda item, where: _fingerprint(item, where, err))
    return [(f"{path}[{index}]", value) for index, value in checked]


def _inbound_identity(raw, partner, err):
    """The ways the partner proves itself when it sends to us; at least one is required."""
    inbound = _auth(raw.get("inbound_auth"), "inbound_auth", err)
    partner.inbound_username = inbound and inbound["username"]
    partner.fingerprints = _inbound_certificate(raw.get("inbound_certificate"), err) or []
    networks = raw.get("inbound_networks")
    partner.networks = ([] if networks is None
                        else _clients(networks, "inbound_networks", err, whose="the partner's") or [])
    if all(raw.get(key) is None for key in INBOUND_IDENTITIES):
        err("inbound_auth", "a partner must prove itself when it sends to us: declare at least one of "
            "inbound_auth (its SASL login), inbound_certificate (pins of its client certificate) or "
            "inbound_networks (its sending networks)")
    return {
        "inbound_auth": inbound,
        "inbound_certificate": ({"fingerprints": [pin for _where, pin in partner.fingerprints]}
                                if raw.get("inbound_certificate") is not None else None),
        "inbound_networks": [network.compressed for _where, network in partner.networks],
    }


def _partner(index, raw, report):
    """Validate one partner; return a _Partner (None when it is not even a mapping)."""
    where = f"partnermail_partners[{index}]"
    if not isinstance(raw, Mapping):
        report.scope("")(where, f"must be a mapping, {_got(raw)}")
        return None
    name = raw.get("name")
    label = f"{where} ({name})" if isinstance(name, str) and name and name.isprintable() else where
    partner = _Partner(index, label, report.scope(f"{label}: "))
    err = partner.err
    _mapping(raw, "", err, PARTNER_KEYS)
    if name is None:
        err("name", "is required")
    elif not isinstance(name, str) or not _PARTNER_NAME.fullmatch(name):
        err("name", f"must match {_PARTNER_NAME.pattern} (lowercase letters, digits, '_' and '-'), {_got(name)}")
    else:
        partner.name = str(name)
    partner.mode = _choice(_default(raw, "mode", DEFAULT_PARTNER_MODE), "mode", err, PARTNER_MODES)
    partner.domains = _partner_domains(raw.get("domains"), err)
    connectors = _connectors(raw.get("connectors"), partner.domains, err)
    partner.targets = [(c["path"], _target(c)) for c in connectors or () if c["via"] is None]
    identity = _inbound_identity(raw, partner, err)
    partner.allowed_senders = _senders(raw.get("allowed_senders"), "allowed_senders", err, nonempty=False) or []
    domains = [domain for _where, domain in partner.domains]
    routed = _routed(connectors, domains) if connectors else (None, None, None)
    partner.data = {
        "name": partner.name,
        "mode": partner.mode,
        "transport": PARTNER_TRANSPORT,
        "domains": domains,
        "connectors": routed[0],
        "routes": routed[1],
        "nexthops": routed[2],
        "tls": _tls(raw.get("tls"), err),
        "outbound_auth": _auth(raw.get("outbound_auth"), "outbound_auth", err),
        **identity,
        "allowed_senders": [sender for _where, sender in partner.allowed_senders],
    }
    return partner


# ---------------------------------------------------------------- cross checks


def _parents(name):
    """Proper parent domains of a name: 'a.b.c' -> 'b.c', 'c'."""
    labels = name.split(".")
    return [".".join(labels[i:]) for i in range(1, len(labels))]


def _conflict(entry, other):
    """Report a domain clash on the partner side, naming the other owner."""
    if entry[0] is None:
        entry, other = other, entry
    (partner, path, name), (owner, other_path, other_name) = entry, other
    whose = f"our own domain ({other_path})" if owner is None else f"{other_path} of {owner.label}"
    if name == other_name:
        partner.err(path, f"{name!r} is also {whose}")
    elif name.startswith(".") and other_name.endswith(name):
        partner.err(path, f"subdomain pattern {name!r} covers {other_name!r}, {whose}")
    else:
        partner.err(path, f"{name!r} lies under subdomain pattern {other_name!r}, {whose}")


def _check_domains(partners, own_domains):
    """No address may be claimed twice: by two partners, or by a partner and by us."""
    entries = [(None, f"partnermail_domains[{i}]", name) for i, name in own_domains]
    entries += [(p, f"domains[{i}]", name) for p in partners for i, name in p.domains]
    first, patterns = {}, {}
    for entry in entries:
        other = first.setdefault(entry[2], entry)
        if other is not entry and other[0] is not entry[0]:
            _conflict(entry, other)
        if entry[2].startswith("."):
            patterns.setdefault(entry[2][1:], entry)
    for entry in entries:
        for parent in _parents(entry[2].lstrip(".")):
            other = patterns.get(parent)
            if other is not None and other[0] is not entry[0]:
                _conflict(entry, other)


def _check_unique(partners, attribute, path, what, fold=str):
    seen = {}
    for partner in partners:
        value = getattr(partner, attribute)
        if value is None:
            continue
        other = seen.setdefault(fold(value), partner)
        if other is not partner:
            partner.err(path, f"{what} {value!r} is already used by {other.label}")


def _reserved_nexthops(internet, delivery):
    """Nexthops that other routes of this MTA already use."""
    reserved = {}
    if internet and internet["relayhost"]:
        reserved[_canonical(internet["relayhost"])] = "the Internet relayhost (partnermail_internet.relayhost)"
    if delivery and delivery.get("nexthop"):
        reserved[_canonical(delivery["nexthop"])] = "the mail store nexthop (partnermail_delivery.nexthop)"
    return reserved


def _check_nexthops(partners, internet, delivery):
    """TLS policy and SASL rows are keyed by nexthop: no sharing between partners or with other routes.

    Only enforced partners have such rows (see enforced()), so only their nexthops can clash; a partner in test
    mode is checked again when it is switched to enforce, before any host is changed.
    """
    owners = _reserved_nexthops(internet, delivery)
    for partner in partners:
        if partner.mode == "test":
            continue
        for _where, domain in partner.domains:
            if domain in owners:
                partner.err("domains", f"{domain!r} is also {owners[domain]}")
        for path, target in partner.targets:
            other = owners.get(_canonical(target))
            if other is not None:
                partner.err(f"{path}.host", f"nexthop {target!r} is also {other}: TLS policy and SASL rows "
                            "are keyed by nexthop, so each partner link needs its own")
        for path, target in partner.targets:
            owners.setdefault(_canonical(target), f"{path} of {partner.label}")


def enforced(partner):
    """True when Postfix enforces a normalised partner's link (mode enforce, the default), False in test mode.

    Only an enforced partner has transport, TLS policy and SASL password rows, and has its domains refused to
    clients that are not logged in; a partner in test mode is delivered and accepted as Internet mail, and its
    declared link is only probed. Both keep their sender-login binding and their inbound login.
    """
    return partner.get("mode", DEFAULT_PARTNER_MODE) != "test"


def mx_routed_nexthops(partners):
    """Bare-domain nexthops (via: dns) of the enforced ones of normalised partners, each to its partner's name.

    The SASL password map has a row keyed by each of them, and Postfix looks that map up by the server's host
    name before the nexthop: a server whose host name is one of these gets that partner's credentials. A partner
    in test mode has no rows in that map, so its domains are nobody's SASL key.
    """
    return {nexthop: partner["name"] for partner in partners if enforced(partner)
            for nexthop in partner["nexthops"] or () if not nexthop.startswith("[")}


def _check_sasl_host_keys(partners):
    """A fixed host must not be another partner's MX-routed domain (see mx_routed_nexthops).

    Between enforced partners only: a partner in test mode has no SASL rows, neither to look up nor to be found.
    """
    by_name = {partner.name: partner for partner in partners if partner.name}
    owners = mx_routed_nexthops([partner.data for partner in partners if partner.data and partner.name])
    for partner in partners:
        if partner.mode == "test":
            continue
        for path, target in partner.targets:
            host = target[1:target.rindex("]")]
            owner = by_name.get(owners.get(host))
            if owner is not None and owner is not partner:
                partner.err(f"{path}.host", f"{host!r} is also a domain of {owner.label} routed via dns: Postfix "
                            "looks up SASL credentials by host name before the nexthop, so this link would log in "
                            f"with {owner.label}'s credentials")


def _with_subdomains(name):
    """The claims a domain makes on senders: itself and, for an exact domain, its subdomains too."""
    return [name] if name.startswith(".") else [name, f".{name}"]


def _check_allowed_senders(partners, own_domains, hostname):
    """A partner's login may never send as us, nor as another partner (each owns its domains alone)."""
    claims = [(None, f"our own domain (partnermail_domains[{i}])", claim)
              for i, name in own_domains for claim in _with_subdomains(name)]
    if hostname:
        claims.append((None, "this MTA's own name (partnermail_hostname)", hostname))
    claims += [(p, f"domains[{i}] of {p.label}", claim)
               for p in partners for i, name in p.domains for claim in _with_subdomains(name)]
    for partner in partners:
        for path, sender in partner.allowed_senders:
            own = next((f"domains[{i}]" for i, name in partner.domains if covers(name, sender)), None)
            if own is not None:
                partner.err(path, f"{sender!r} is already the partner's own ({own})")
                continue
            for owner, whose, claimed in claims:
                if owner is partner:
                    continue
                if covers(claimed, sender) or covers(sender, claimed):
                    partner.err(path, f"{sender!r} overlaps {claimed.lstrip('.')!r}, {whose}: allowed_senders may "
                                "only add senders that neither we nor another partner own")
                    break


def _check_identities(partners):
    """No two partners prove themselves with the same certificate pin or from overlapping networks.

    Either would let one partner send as the other's domains. Two partners on one shared platform (two tenants of
    Exchange Online, say) present the same certificate and send from the same networks: the platform's identity
    alone proves neither, so such an overlap is refused, naming both partners.
    """
    pins = {}
    for partner in partners:
        for path, pin in partner.fingerprints:
            other = pins.setdefault(pin, (partner, path))
            if other[0] is not partner:
                partner.err(path, f"{pin} is also {other[1]} of {other[0].label}: a certificate identifies one "
                            "partner only (on a shared platform it proves the platform, not the partner)")
    seen = []
    for partner in partners:
        for path, network in partner.networks:
            for other, other_path, other_network in seen:
                if other is not partner and network.version == other_network.version \
                        and network.overlaps(other_network):
                    partner.err(path, f"{network.compressed} overlaps {other_network.compressed}, {other_path} of "
                                f"{other.label}: a network identifies one partner only (on a shared platform it "
                                "proves the platform, not the partner)")
                    break
            seen.append((partner, path, network))


def inbound_identities(partner):
    """The identity methods a normalised partner declared, in INBOUND_IDENTITIES order."""
    return [key for key in INBOUND_IDENTITIES if partner.get(key)]


def _cross_checks(partners, own_domains, internet, delivery, hostname=None):
    """Rules between partners and this MTA's other routes.

    Identity holds for every partner, test mode included (its sender-login rows and its inbound login stay), so
    names, domains, inbound logins and allowed senders are checked across all partners. The rows keyed by nexthop
    (TLS policy, SASL password) exist for enforced partners only, so nexthop clashes are checked among those.
    """
    _check_unique(partners, "name", "name", "partner name")
    _check_allowed_senders(partners, own_domains, hostname)
    _check_unique(partners, "inbound_username", "inbound_auth.username", "inbound username", fold=str.casefold)
    _check_identities(partners)
    _check_domains(partners, own_domains)
    _check_nexthops(partners, internet, delivery)
    _check_sasl_host_keys(partners)


# ---------------------------------------------------------------- entry point


def validate_model(hostvars_subset):
    """Validate one MTA's model and return it normalised; raise ModelError listing every problem.

    Keys not starting with ``partnermail_`` are ignored, so a caller may pass all of a host's vars;
    unknown ``partnermail_*`` keys are errors (typos must not pass silently).
    """
    if not isinstance(hostvars_subset, Mapping):
        raise ModelError([f"the model must be a mapping of host variables, {_got(hostvars_subset)}"])
    report = _Report()
    err = report.scope("")
    for key in hostvars_subset:
        if isinstance(key, str) and key.startswith("partnermail_") and key not in MODEL_KEYS:
            err(key, f"unknown variable (expected one of: {', '.join(MODEL_KEYS)})")
    hostname = _hostname(hostvars_subset.get("partnermail_hostname"), err)
    own_domains = _own_domains(hostvars_subset.get("partnermail_domains"), err)
    delivery = _delivery(hostvars_subset.get("partnermail_delivery"), err)
    internet = _internet(hostvars_subset.get("partnermail_internet"), err)
    report_dir = hostvars_subset.get("partnermail_report_dir")
    if report_dir is not None and (not isinstance(report_dir, str) or not report_dir.strip()):
        err("partnermail_report_dir", f"must be a non-empty path on the controller, {_got(report_dir)}")
    raw_partners = hostvars_subset.get("partnermail_partners")
    items = [] if raw_partners is None else _list(raw_partners, "partnermail_partners", err, nonempty=False) or []
    partners = [p for p in (_partner(i, item, report) for i, item in enumerate(items)) if p is not None]
    _cross_checks(partners, own_domains, internet, delivery, hostname)
    allowances = _allowances(hostvars_subset.get("partnermail_sender_allowances"), own_domains, hostname, err)
    if report.errors:
        raise ModelError(report.errors)
    return {
        "partnermail_hostname": hostname,
        "partnermail_domains": [name for _where, name in own_domains],
        "partnermail_delivery": delivery,
        "partnermail_internet": internet,
        "partnermail_partners": [partner.data for partner in partners],
        "partnermail_sender_allowances": allowances,
    }


# ---------------------------------------------------------------- test mode

_INTERNET_TLS = {"may": "opportunistic TLS (may)", "none": "no TLS (none)"}


def mode_warnings(model, mta):
    """One warning for each partner in test mode of a validated model, naming the MTA and the partner."""
    internet = model["partnermail_internet"]
    route = f"through the relayhost {internet['relayhost']}" if internet["relayhost"] else "to the MX hosts"
    level = internet["tls_level"]
    tls = _INTERNET_TLS.get(level, f"the Internet connector's TLS level {level}")
    return [
        f"{mta}: partner {partner['name']} is in test mode, NOT ENFORCED: its mail is delivered like Internet mail "
        f"({route}, {tls}, no authentication) and mail from its domains is accepted from clients that prove none "
        "of its identities (login, certificate, network); its declared link is only probed (the link report says "
        "whether it would hold). To enforce it, set 'mode: enforce' (or remove 'mode') in its partnermail_partners "
        "entry."
        for partner in model["partnermail_partners"] if not enforced(partner)
    ]
