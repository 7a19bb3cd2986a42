# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A domain's mail exchangers as a sending MTA sees them: MX hosts by preference, their addresses,
their DANE TLSA records (``_25._tcp.<host>``), and whether each answer was DNSSEC-validated.

The backend asks a validating resolver (queries carry the DO and AD flags) and trusts the AD bit of
its answers; it validates nothing itself. What the DNS says about a domain (it does not exist, has
no MX, has a null MX, the resolver failed or was silent) is reported as a status, never raised:
only bad input raises DnsError.
"""

import ipaddress
import re
from dataclasses import dataclass

from ansible_collections.partnermail.links.plugins.module_utils._dns.errors import DnsError

try:
    import dns.exception
    import dns.flags
    import dns.name
    import dns.resolver
except ImportError:  # pragma: no cover - the module reports the missing library
    pass

STATUSES = ("ok", "nxdomain", "no_mx_implicit", "null_mx", "servfail", "timeout")
# Statuses of a single question; "nodata" means the name exists without records of that type.
ANSWER_STATUSES = ("ok", "nodata", "nxdomain", "servfail", "timeout")
DANE_USAGES = (2, 3)  # DANE-TA and DANE-EE; RFC 7672 makes PKIX-TA/PKIX-EE unusable for SMTP
DEFAULT_TIMEOUT = 5.0
MAX_TIMEOUT = 300.0

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


@dataclass(frozen=True)
class Answer:
    """The outcome of one question: status, the records (dnspython rdata), the AD bit, and a message."""

    status: str
    records: tuple = ()
    dnssec: bool = False
    message: str = ""


def validate_domain(domain, option="domain"):
    """The domain in lower-case A-label form without a trailing dot; DnsError naming ``option`` otherwise."""
    if not isinstance(domain, str) or not domain.strip():
        raise DnsError(option, f"must be a non-empty domain name, got {domain!r}")
    name = domain.strip().rstrip(".").lower()
    if not name.isascii():
        try:
            name = name.encode("idna").decode("ascii")
        except UnicodeError:
            raise DnsError(option, f"{domain!r} is not a valid internationalised domain name") from None
    if len(name) > 253:
        raise DnsError(option, f"{domain!r} is longer than 253 characters")
    bad = [label for label in name.split(".") if not _LABEL.match(label)]
    if bad:
        raise DnsError(
            option, f"{domain!r} is not a valid domain name (label {bad[0]!r}: letters, digits and inner hyphens only)"
        )
    return name


@dataclass(frozen=True)
class ResolverSpec:
    """Where to send the questions: listed nameservers, or the system resolver when none are listed."""

    nameservers: tuple = ()
    port: int = 53
    timeout: float = DEFAULT_TIMEOUT

    def validate(self):
        servers = []
        for server in self.nameservers:
            try:
                servers.append(str(ipaddress.ip_address(str(server).strip())))
            except ValueError:
                raise DnsError("nameservers", f"{server!r} is not an IP address") from None
        if isinstance(self.port, bool) or not isinstance(self.port, int) or not 0 < self.port < 65536:
            raise DnsError("port", f"must be an integer between 1 and 65535, got {self.port!r}")
        if isinstance(self.timeout, bool) or not isinstance(self.timeout, (int, float)):
            raise DnsError("timeout", f"must be a number of seconds, got {self.timeout!r}")
        if not 0 < self.timeout <= MAX_TIMEOUT:
            raise DnsError("timeout", f"must be more than 0 and at most {MAX_TIMEOUT:g} seconds, got {self.timeout}")
        return ResolverSpec(tuple(servers), self.port, float(self.timeout))


def make_resolver(spec):
    """A dnspython resolver for a validated spec that asks for DNSSEC status (DO and AD) and caches nothing."""
    if spec.nameservers:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = list(spec.nameservers)
    else:
        try:
            resolver = dns.resolver.Resolver()
        except dns.resolver.NoResolverConfiguration:
            raise DnsError("nameservers", "no system resolver (/etc/resolv.conf) is configured: list nameservers") \
                from None
    resolver.port = spec.port
    resolver.timeout = spec.timeout  # one attempt at one server
    resolver.lifetime = spec.timeout  # one question, over every server and retry
    resolver.use_edns(0, dns.flags.DO, 1232)
    resolver.flags = dns.flags.RD | dns.flags.AD
    resolver.cache = None
    return resolver


def _ad(response):
    return response is not None and bool(response.flags & dns.flags.AD)


def resolver_lookup(resolver):
    """A ``lookup(name, rdtype) -> Answer`` function that asks ``resolver``; it never raises for DNS outcomes."""

    def lookup(name, rdtype):
        qname = dns.name.from_text(name)
        try:
            answer = resolver.resolve(qname, rdtype, raise_on_no_answer=False, search=False)
        except dns.resolver.NXDOMAIN as exc:
            response = next(iter(exc.responses().values()), None)
            return Answer("nxdomain", (), _ad(response), f"{name} does not exist (NXDOMAIN)")
        except dns.exception.Timeout:
            return Answer("timeout", (), False, f"no answer to {name} {rdtype} within {resolver.lifetime:g} s")
        except dns.resolver.NoNameservers as exc:
            return Answer("servfail", (), False, f"the resolver failed to answer {name} {rdtype}: {exc}")
        except dns.exception.DNSException as exc:
            return Answer("servfail", (), False, f"the resolver gave no usable answer to {name} {rdtype}: {exc}")
        records = tuple(answer.rrset) if answer.rrset is not None else ()
        if not records:
            return Answer("nodata", (), _ad(answer.response), f"{name} has no {rdtype} records")
        return Answer("ok", records, _ad(answer.response))

    return lookup


def _name(name):
    """Lower case without the final dot; the root (a null MX) is the empty string."""
    return "" if name == dns.name.root else name.to_text(omit_final_dot=True).lower()


def _texts(answer, rdtype):
    """The records of an answer as the strings we return."""
    if rdtype in ("A", "AAAA"):
        return sorted({str(ipaddress.ip_address(record.address)) for record in answer.records},
                      key=ipaddress.ip_address)
    if rdtype == "TLSA":
        return sorted({f"{r.usage} {r.selector} {r.mtype} {r.cert.hex()}" for r in answer.records})
    raise ValueError(rdtype)


def _question(answer, rdtype):
    return {"status": answer.status, "records": _texts(answer, rdtype), "dnssec": answer.dnssec,
            "message": answer.message}


def host_report(preference, host, lookup, mx_secure, implicit=False):
    """Addresses and TLSA records of one MX host, and whether DANE applies to it (RFC 7672 section 2.2)."""
    a, aaaa = _question(lookup(host, "A"), "A"), _question(lookup(host, "AAAA"), "AAAA")
    tlsa = _question(lookup(f"_25._tcp.{host}", "TLSA"), "TLSA")
    answered = [q for q in (a, aaaa) if q["records"]]
    addresses_secure = bool(answered) and all(q["dnssec"] for q in answered)
    usable = [r for r in tlsa["records"] if int(r.split()[0]) in DANE_USAGES]
    return {
        "preference": preference,
        "host": host,
        "implicit": implicit,
        "addresses": a["records"] + aaaa["records"],
        "a": a,
        "aaaa": aaaa,
        "tlsa": tlsa,
        "dnssec": bool(mx_secure and addresses_secure and tlsa["dnssec"]),
        "dane": bool(mx_secure and addresses_secure and tlsa["status"] == "ok" and tlsa["dnssec"] and usable),
    }


def mx_report(domain, lookup):
    """Everything mx_info returns about a validated ``domain``, asking ``lookup`` (see resolver_lookup)."""
    answer = lookup(domain, "MX")
    report = {"domain": domain, "status": answer.status, "message": answer.message, "dnssec": answer.dnssec,
              "mx": []}
    if answer.status in ("nxdomain", "servfail", "timeout"):
        return report
    if answer.status == "nodata":
        report.update(status="no_mx_implicit",
                      message=f"{domain} has no MX records: mail goes to the domain itself (implicit MX, RFC 5321)")
        report["mx"] = [host_report(0, domain, lookup, answer.dnssec, implicit=True)]
        if not report["mx"][0]["addresses"]:
            report["message"] += "; it has no addresses either, so mail to it cannot be delivered"
        return report
    exchanges = sorted({(record.preference, _name(record.exchange)) for record in answer.records})
    hosts = [(preference, host) for preference, host in exchanges if host]
    if not hosts:
        report.update(status="null_mx", message=f"{domain} accepts no mail (null MX, RFC 7505)")
        return report
    report["message"] = f"{domain} has {len(hosts)} MX host{'s' if len(hosts) > 1 else ''}"
    if len(hosts) < len(exchanges):
        report["message"] += "; a null MX record mixed with other MX records was ignored (RFC 7505 forbids the mix)"
    report["mx"] = [host_report(preference, host, lookup, answer.dnssec) for preference, host in hosts]
    return report


def mx_info(domain, spec):
    """Validate the input, ask the resolver, return the report. Raises DnsError on bad input only."""
    domain = validate_domain(domain)
    spec = spec.validate()
    return mx_report(domain, resolver_lookup(make_resolver(spec)))
