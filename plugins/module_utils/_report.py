# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The link report: probe every connector of every partner with that link's policy, and tabulate the results.

Pure Python over the validated model; the probing itself is _smtp.probe and _dns.mx, injected so tests can
drive it without a network.

A partner in test mode is probed like any other, with its declared policy and credentials: that is what test mode
is for, to see whether the declared link would hold before it is enforced. Its rows carry ``mode: test`` and say
NOT ENFORCED in the result, and its failures are counted apart (``test_failures``), never in ``failures``.
"""

from concurrent.futures import ThreadPoolExecutor

from ansible_collections.partnermail.links.plugins.module_utils._dns import mx as dns_mx
from ansible_collections.partnermail.links.plugins.module_utils._model import enforced, mx_routed_nexthops
from ansible_collections.partnermail.links.plugins.module_utils._smtp import probe as smtp_probe
from ansible_collections.partnermail.links.plugins.module_utils._smtp import tls_check

# What each Postfix TLS level requires of the peer, in smtp_probe's terms.
REQUIRE = {
    "encrypt": ["tls", "tlsv1.2"],
    "verify": ["tlsv1.2", "verified"],
    "secure": ["tlsv1.2", "verified"],
    "fingerprint": ["tlsv1.2", "fingerprint"],
    "dane-only": ["tlsv1.2", "tlsa"],
}
# Probes at a time. Against distant servers a probe mostly waits (DNS, TCP, the peer's replies, its handshake), so
# this may be above the MTA's cores; against a peer on the same 2 cores (the bench) it is CPU-bound, and 8, 32 or 64
# took the same time: 14 s of a 49 s no-change site.yml run at 1000 links (issue 13).
DEFAULT_WORKERS = 8
COLUMNS = ("partner", "cost", "nexthop", "host", "policy", "verified", "tls", "peer_expires", "auth", "inbound",
           "result")
NOT_ENFORCED = "NOT ENFORCED (test mode)"


def targets(partners):
    """One probe target per distinct (partner, nexthop), cost-ordered: what Postfix would try."""
    seen, out = set(), []
    for partner in partners:
        for connector in partner["connectors"]:
            for domain, nexthop in connector["nexthops"].items():
                if (partner["name"], nexthop) in seen:
                    continue
                seen.add((partner["name"], nexthop))
                out.append({
                    "partner": partner["name"], "cost": connector["cost"], "nexthop": nexthop,
                    "mx_domain": domain if connector["via"] == "dns" else None,
                    "host": connector["host"], "port": connector["port"],
                })
    return out


def default_match(partner, nexthop_name, mx_host):
    """The names Postfix would accept: the configured match list, else its defaults for the level."""
    tls = partner["tls"]
    if tls["match"]:
        return list(tls["match"])
    if tls["level"] == "secure":
        return [nexthop_name, "." + nexthop_name]  # nexthop:dot-nexthop
    if tls["level"] == "verify":
        return [mx_host]  # hostname
    return []


def probe_spec(partner, target, host, server_name, tlsa, helo_name, timeout, client=None):
    """The probe of one host of a target with the partner's policy; ``client``: (chain, key) paths we present."""
    tls = partner["tls"]
    level = tls["level"]
    nexthop_name = target["mx_domain"] or target["host"]
    auth = partner["outbound_auth"] or {}
    return smtp_probe.ProbeSpec(
        host=host, port=target["port"], timeout=timeout, helo_name=helo_name, server_name=server_name,
        match=tuple(default_match(partner, nexthop_name, server_name)) if level in ("verify", "secure") else (),
        fingerprints=tuple(tls["fingerprints"]) if level == "fingerprint" else (),
        tlsa=tuple(tlsa) if level == "dane-only" else (),
        username=auth.get("username"), password=auth.get("password"),
        require=tuple(REQUIRE[level] + (["auth"] if auth else [])),
        client_chain=client[0] if client else None, client_key=client[1] if client else None,
    ).validate()


def _row(target, partner, host, result, problem=None):
    tls = result.get("tls") or {}
    peer = (result.get("chain") or [{}])[0]
    auth = result.get("auth") or {}
    missing = list(result.get("missing") or [])
    if problem:
        missing.insert(0, problem)
    return {
        "partner": target["partner"], "mode": "enforce" if enforced(partner) else "test",
        "cost": target["cost"], "nexthop": target["nexthop"],
        "host": f"{host}:{target['port']}", "policy": partner["tls"]["level"],
        "status": result.get("status", "unresolvable"),
        "verified": result.get("verified"),
        "protocol": tls.get("protocol"), "cipher": tls.get("cipher"),
        "peer_not_after": peer.get("not_after"),
        # None: we do not log in at this partner (no outbound_auth); False: we should and did not.
        "auth_ok": (auth.get("success") if auth.get("attempted") else False) if partner["outbound_auth"] else None,
        "inbound": inbound_summary(partner),
        "ok": not missing and result.get("status") == "ok",
        "problems": missing,
    }


def inbound_summary(partner):
    """How the partner proves itself when it sends to us, in a few words: 'login, 2 pins, 1 network'."""
    parts = []
    if partner.get("inbound_auth"):
        parts.append("login")
    pins = len((partner.get("inbound_certificate") or {}).get("fingerprints") or ())
    if pins:
        parts.append(f"{pins} pin" + ("s" if pins > 1 else ""))
    networks = len(partner.get("inbound_networks") or ())
    if networks:
        parts.append(f"{networks} network" + ("s" if networks > 1 else ""))
    return ", ".join(parts) or "-"


def _sasl_key_clash(partner, mx_host, sasl_keys):
    """Why the row fails when Postfix would send another partner's credentials to this MX host, else None.

    ``sasl_keys`` holds the enforced partners' keys only (mx_routed_nexthops()): for a partner in test mode the
    question is whether its link would hold once enforced, beside the partners enforced now.
    """
    owner = sasl_keys.get(mx_host)
    if owner is None or owner == partner["name"]:
        return None
    return (f"MX host {mx_host} is also partner {owner}'s SASL key: Postfix would log in to it with {owner}'s "
            "credentials (a fixed host connector for this partner avoids it)")


def _probe_target(partner, target, ca_content, helo_name, timeout, lookup, run_probe, sasl_keys=None, client=None):
    """Rows for one target: each MX host of a via-dns nexthop, or the fixed host."""
    if target["mx_domain"] is None:
        hosts = [(target["host"], target["host"], [])]
    else:
        info = lookup(target["mx_domain"])
        if not info["mx"]:
            return [_row(target, partner, target["mx_domain"], {"status": info["status"]}, info["message"])]
        # TLSA records only count when DANE applies to the host; dane-only without them cannot deliver (None).
        no_dane = None if partner["tls"]["level"] == "dane-only" else []
        hosts = [(mx["addresses"][0] if mx["addresses"] else mx["host"], mx["host"],
                  mx["tlsa"]["records"] if mx["dane"] else no_dane)
                 for mx in info["mx"]]
    rows = []
    for address, name, tlsa in hosts:
        if tlsa is None:
            rows.append(_row(target, partner, name, {"status": "no_dane"},
                             f"no DNSSEC-validated TLSA records for {name}: dane-only mail stays queued"))
            continue
        spec = probe_spec(partner, target, address, name, tlsa, helo_name, timeout, client)
        clash = _sasl_key_clash(partner, name, sasl_keys or {}) if target["mx_domain"] else None
        rows.append(_row(target, partner, name, run_probe(spec, ca_content), clash))
    return rows


def link_report(partners, ca_contents, helo_name, timeout, lookup, run_probe, workers=DEFAULT_WORKERS, client=None):
    """Probe every target concurrently; rows come back in model order. ``client``: our (chain, key) to present."""
    by_name = {partner["name"]: partner for partner in partners}
    plan = targets(partners)
    sasl_keys = mx_routed_nexthops(partners)

    def one(target):
        partner = by_name[target["partner"]]
        return _probe_target(partner, target, ca_contents.get(partner["name"]), helo_name, timeout, lookup,
                             run_probe, sasl_keys, client)

    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(plan) or 1))) as pool:
        return [row for rows in pool.map(one, plan) for row in rows]


def failure_counts(rows):
    """(failures, test_failures): rows that miss their policy, of enforced partners and of partners in test mode."""
    failed = [row for row in rows if not row["ok"]]
    tests = sum(1 for row in failed if row.get("mode") == "test")
    return len(failed) - tests, tests


def live_link_report(partners, ca_contents, helo_name, timeout, nameservers=(), workers=DEFAULT_WORKERS,
                     client=None):
    """link_report() over the network: real DNS (the system resolver, or ``nameservers``) and real probes,
    ``workers`` at a time, presenting ``client`` (our chain and key paths) to a server that asks for it."""
    resolver = dns_mx.make_resolver(dns_mx.ResolverSpec(nameservers=tuple(nameservers), timeout=timeout).validate())
    lookup_one = dns_mx.resolver_lookup(resolver)

    def lookup(domain):
        return dns_mx.mx_report(domain, lookup_one)

    def run_probe(spec, ca_content):
        anchors, source = tls_check.load_anchors(None, ca_content)
        return smtp_probe.probe(spec, anchors, source)

    return link_report(partners, ca_contents, helo_name, timeout, lookup, run_probe, workers, client)


def _yes_no(value):
    return {True: "yes", False: "NO", None: "-"}[value]


def result_text(row):
    """The result column: ok, or FAIL and why; for a partner in test mode, NOT ENFORCED and what would happen."""
    verdict = "ok" if row["ok"] else f"FAIL ({row['status']}): " + "; ".join(row["problems"])
    if row.get("mode") != "test":
        return verdict
    return f"{NOT_ENFORCED}: would hold" if row["ok"] else f"{NOT_ENFORCED}: would {verdict}"


def table_rows(rows):
    """The compact table as lists of strings (header first)."""
    out = [list(COLUMNS)]
    for row in rows:
        tls = f"{row['protocol']} {row['cipher']}" if row["protocol"] else "-"
        out.append([
            row["partner"], str(row["cost"]), row["nexthop"], row["host"], row["policy"], _yes_no(row["verified"]),
            tls, (row["peer_not_after"] or "-")[:10], _yes_no(row["auth_ok"]), row.get("inbound") or "-",
            result_text(row),
        ])
    return out


def text_table(rows):
    """Fixed-width lines for the console."""
    cells = table_rows(rows)
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS) - 1)]
    return ["  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=False)) + "  " + line[-1]
            for line in cells]


def markdown(reports):
    """The whole run as Markdown: {mta: {"rows": [...], "local": {...}}}."""
    lines = ["# partnermail link report", ""]
    for mta in sorted(reports):
        report = reports[mta]
        local = report.get("local") or {}
        lines += [f"## {mta}", ""]
        facts = []
        if local:
            facts += [
                f"- certificate expires: {local.get('not_after', '-')}",
                f"- SPKI SHA-256: `{local.get('spki_sha256', '-')}`",
                f"- TLSA record to publish: `_25._tcp.{mta}. IN TLSA {local.get('tlsa', '-')}`",
            ]
        testing = list(dict.fromkeys(row["partner"] for row in report.get("rows") or () if row.get("mode") == "test"))
        if testing:
            facts.append(f"- partners in test mode (NOT ENFORCED): {', '.join(testing)} - their mail goes out and "
                         "comes in as Internet mail; their rows say whether the declared policy would hold")
        lines += [*facts, ""] if facts else []
        cells = table_rows(report.get("rows") or [])
        lines.append("| " + " | ".join(cells[0]) + " |")
        lines.append("|" + "---|" * len(cells[0]))
        lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in line) + " |" for line in cells[1:]]
        if len(cells) == 1:
            lines.append("| (no partners) |" + " |" * (len(cells[0]) - 1))
        lines.append("")
    return "\n".join(lines)
