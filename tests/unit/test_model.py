"""Tables of invalid and valid inventories for module_utils/_model.py."""

import copy

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.partnermail.links.plugins.filter.model import FilterModule
from ansible_collections.partnermail.links.plugins.module_utils import _model
from ansible_collections.partnermail.links.plugins.module_utils._model import ModelError, _by_cost, validate_model

FP_PLAIN = "ab" * 32
FP_NORMAL = ":".join(["AB"] * 32)
FP_OTHER = ":".join(["0f"] * 32)

P0 = ("partnermail_partners", 0)
P1 = ("partnermail_partners", 1)
CONTOSO = "partnermail_partners[0] (contoso)"
FABRIKAM = "partnermail_partners[1] (fabrikam)"


def base():
    """A valid two-partner inventory; every case below breaks one thing in a fresh copy."""
    return copy.deepcopy({
        "partnermail_hostname": "mx.a.example",
        "partnermail_domains": ["a.example", "a2.example"],
        "partnermail_delivery": {"mode": "virtual", "mailboxes": ["postmaster", "alice"]},
        "partnermail_internet": {"relayhost": "", "tls_level": "may"},
        "partnermail_partners": [
            {
                "name": "contoso",
                "domains": ["contoso.example", "contoso.test"],
                "connectors": [{"cost": 1, "via": "dns"}, {"cost": 5, "host": "backup.contoso.example", "port": 587}],
                "tls": {"level": "secure", "match": ["contoso.example"], "ca_file": "trust/contoso-ca.pem"},
                "outbound_auth": {"username": "a-example", "password": "Out-To-Contoso-7Q"},
                "inbound_auth": {"username": "contoso", "password": "In-From-Contoso-7Q"},
            },
            {
                "name": "fabrikam",
                "domains": ["fabrikam.example", ".fabrikam.example"],
                "connectors": [{"cost": 10, "host": "mx.fabrikam.example"}],
                "tls": {"level": "fingerprint", "fingerprints": [FP_PLAIN]},
                "outbound_auth": {"username": "a-example", "password": "Out-To-Fabrikam-9Z"},
                "inbound_auth": {"username": "fabrikam", "password": "In-From-Fabrikam-9Z"},
            },
        ],
    })


def _node(inventory, path):
    for key in path:
        inventory = inventory[key]
    return inventory


def put(path, value):
    """Mutation: set the value at ``path`` (a tuple of keys and indices)."""
    return lambda inventory: _node(inventory, path[:-1]).__setitem__(path[-1], value)


def drop(path):
    return lambda inventory: _node(inventory, path[:-1]).pop(path[-1])


def add(path, value):
    return lambda inventory: _node(inventory, path).append(value)


def chain(*mutations):
    def mutate(inventory):
        for mutation in mutations:
            mutation(inventory)
    return mutate


def case(case_id, mutation, *expected):
    return pytest.param(mutation, expected, id=case_id)


INVALID = [
    # TLS levels
    case("tls-level-unknown", put((*P0, "tls", "level"), "secur"), CONTOSO, "tls.level", "must be one of"),
    case("tls-level-none", put((*P0, "tls", "level"), "none"), CONTOSO, "tls.level", "never goes out in clear"),
    case("tls-level-may", put((*P0, "tls", "level"), "may"), CONTOSO, "tls.level", "never goes out in clear"),
    case("tls-level-int", put((*P0, "tls", "level"), 3), CONTOSO, "tls.level", "must be a string, got 3"),
    # domains across partners and our own
    case("domain-dup-across-partners", add((*P1, "domains"), "contoso.example"),
         FABRIKAM, "domains[2]", "'contoso.example' is also domains[0] of " + CONTOSO),
    case("domain-dup-across-partners-case", add((*P1, "domains"), "CONTOSO.test"),
         FABRIKAM, "domains[2]", "'contoso.test'"),
    case("domain-is-own-domain", add((*P0, "domains"), "a.example"),
         CONTOSO, "domains[2]", "our own domain (partnermail_domains[0])"),
    case("domain-under-other-pattern", add((*P0, "domains"), "sales.fabrikam.example"),
         CONTOSO, "domains[2]", "lies under subdomain pattern '.fabrikam.example'", FABRIKAM),
    case("pattern-under-other-pattern",
         chain(put((*P0, "connectors"), [{"cost": 1, "host": "relay.contoso.example"}]),
               add((*P0, "domains"), ".eu.fabrikam.example")),
         CONTOSO, "domains[2]", "'.eu.fabrikam.example' lies under subdomain pattern '.fabrikam.example'"),
    case("pattern-covers-own-domain", add(("partnermail_domains",), "mail.fabrikam.example"),
         FABRIKAM, "domains[1]", "subdomain pattern '.fabrikam.example' covers 'mail.fabrikam.example', our own"),
    case("same-pattern-two-partners",
         chain(put((*P0, "connectors"), [{"cost": 1, "host": "relay.contoso.example"}]),
               add((*P0, "domains"), ".fabrikam.example")),
         "domains[", "'.fabrikam.example' is also"),
    case("domain-dup-in-partner", add((*P0, "domains"), "contoso.example"),
         CONTOSO, "domains[2]", "duplicate 'contoso.example'"),
    # connectors
    case("cost-zero", put((*P0, "connectors", 0, "cost"), 0),
         CONTOSO, "connectors[0].cost", "must be an integer from 1 to 100, got 0"),
    case("cost-101", put((*P0, "connectors", 1, "cost"), 101), CONTOSO, "connectors[1].cost", "got 101"),
    case("cost-string", put((*P0, "connectors", 0, "cost"), "1"),
         CONTOSO, "connectors[0].cost", "got string '1'"),
    case("cost-boolean", put((*P0, "connectors", 0, "cost"), True),
         CONTOSO, "connectors[0].cost", "got boolean true"),
    case("cost-missing", drop((*P1, "connectors", 0, "cost")), FABRIKAM, "connectors[0].cost", "got nothing"),
    case("cost-duplicate", put((*P0, "connectors", 1, "cost"), 1),
         CONTOSO, "connectors[1].cost", "cost 1 is already used by connectors[0]"),
    case("connector-neither", put((*P0, "connectors", 1), {"cost": 5}),
         CONTOSO, "connectors[1]", "needs exactly one of"),
    case("connector-both", put((*P0, "connectors", 1), {"cost": 5, "via": "dns", "host": "x.contoso.example"}),
         CONTOSO, "connectors[1]", "not both"),
    case("via-not-dns", put((*P0, "connectors", 0, "via"), "mx"), CONTOSO, "connectors[0].via", "must be 'dns'"),
    case("port-with-via-dns", put((*P0, "connectors", 0, "port"), 25),
         CONTOSO, "connectors[0].port", "not allowed with via: dns"),
    case("port-too-big", put((*P0, "connectors", 1, "port"), 65536),
         CONTOSO, "connectors[1].port", "from 1 to 65535, got 65536"),
    case("port-zero", put((*P1, "connectors", 0, "port"), 0), FABRIKAM, "connectors[0].port", "got 0"),
    case("port-string", put((*P0, "connectors", 1, "port"), "587"),
         CONTOSO, "connectors[1].port", "got string '587'"),
    case("host-with-port", put((*P0, "connectors", 1, "host"), "backup.contoso.example:587"),
         CONTOSO, "connectors[1].host", "the port goes in 'port'"),
    case("host-bad-name", put((*P0, "connectors", 1, "host"), "backup_mx.contoso.example"),
         CONTOSO, "connectors[1].host", "not a valid DNS name"),
    case("nexthop-duplicate-in-partner",
         add((*P0, "connectors"), {"cost": 7, "host": "BACKUP.contoso.example", "port": 587}),
         CONTOSO, "connectors[2]", "duplicate nexthop '[backup.contoso.example]:587'"),
    case("nexthop-shared-across-partners", put((*P0, "connectors", 1), {"cost": 5, "host": "mx.fabrikam.example"}),
         FABRIKAM, "connectors[0].host", "'[mx.fabrikam.example]:25' is also connectors[1] of " + CONTOSO),
    case("host-is-another-partners-mx-routed-domain", put((*P1, "connectors", 0, "host"), "Contoso.test"),
         FABRIKAM, "connectors[0].host", "'contoso.test' is also a domain of " + CONTOSO + " routed via dns",
         "with " + CONTOSO + "'s credentials"),
    case("nexthop-is-relayhost", put(("partnermail_internet", "relayhost"), "[backup.contoso.example]:587"),
         CONTOSO, "connectors[1].host", "the Internet relayhost"),
    case("connectors-empty", put((*P0, "connectors"), []), CONTOSO, "connectors", "must not be empty"),
    case("connectors-missing", drop((*P1, "connectors")), FABRIKAM, "connectors: is required"),
    case("via-dns-with-subdomain-pattern", add((*P0, "domains"), ".contoso.example"),
         CONTOSO, "connectors[0].via", "subdomain pattern '.contoso.example'", "exact domain"),
    # fingerprints, match, ca_file
    case("fingerprint-level-without-pins", put((*P1, "tls", "fingerprints"), []),
         FABRIKAM, "tls.fingerprints", "at least one"),
    case("fingerprint-level-pins-missing", drop((*P1, "tls", "fingerprints")),
         FABRIKAM, "tls.fingerprints", "at least one"),
    case("fingerprints-on-secure", put((*P0, "tls", "fingerprints"), [FP_PLAIN]),
         CONTOSO, "tls.fingerprints", "only used at level fingerprint"),
    case("fingerprint-short", put((*P1, "tls", "fingerprints"), ["AB:CD:EF"]),
         FABRIKAM, "tls.fingerprints[0]", "SHA-256", "'AB:CD:EF'"),
    case("fingerprint-sha1", put((*P1, "tls", "fingerprints"), ["a" * 40]), FABRIKAM, "tls.fingerprints[0]"),
    case("fingerprint-not-hex", put((*P1, "tls", "fingerprints"), ["g" * 64]), FABRIKAM, "tls.fingerprints[0]"),
    case("fingerprint-mixed-colons", put((*P1, "tls", "fingerprints"), ["ABCD:" + "ab" * 30]),
         FABRIKAM, "tls.fingerprints[0]"),
    case("fingerprint-duplicate", put((*P1, "tls", "fingerprints"), [FP_PLAIN, FP_NORMAL]),
         FABRIKAM, "tls.fingerprints[1]", "duplicate"),
    case("match-on-fingerprint-level", put((*P1, "tls", "match"), ["fabrikam.example"]),
         FABRIKAM, "tls.match", "tls.fingerprints"),
    case("match-on-encrypt-level", put((*P0, "tls", "level"), "encrypt"),
         CONTOSO, "tls.match", "only applies to levels verify and secure"),
    case("ca-file-on-dane-only", chain(put((*P0, "tls"), {"level": "dane-only", "ca_file": "x.pem"})),
         CONTOSO, "tls.ca_file", "only applies to levels verify and secure"),
    case("match-bad-name", put((*P0, "tls", "match"), ["contoso example"]), CONTOSO, "tls.match[0]"),
    case("match-not-list", put((*P0, "tls", "match"), "contoso.example"), CONTOSO, "tls.match", "must be a list"),
    # credentials
    case("outbound-password-missing", drop((*P0, "outbound_auth", "password")),
         CONTOSO, "outbound_auth.password", "is required"),
    case("inbound-password-missing", drop((*P1, "inbound_auth", "password")),
         FABRIKAM, "inbound_auth.password", "is required"),
    case("inbound-identity-missing", drop((*P1, "inbound_auth")),
         FABRIKAM, "inbound_auth: a partner must prove itself", "inbound_certificate", "inbound_networks"),
    case("inbound-auth-null", put((*P1, "inbound_auth"), None), FABRIKAM, "inbound_auth: a partner must prove"),
    case("inbound-auth-not-mapping", put((*P1, "inbound_auth"), "fabrikam"), FABRIKAM, "inbound_auth: must be a"),
    case("outbound-auth-not-mapping", put((*P0, "outbound_auth"), ["a-example"]),
         CONTOSO, "outbound_auth: must be a mapping"),
    # inbound identity by certificate pins and by networks
    case("inbound-certificate-not-mapping", put((*P0, "inbound_certificate"), [FP_PLAIN]),
         CONTOSO, "inbound_certificate: must be a mapping"),
    case("inbound-certificate-unknown-key", put((*P0, "inbound_certificate"), {"fingerprint": [FP_PLAIN]}),
         CONTOSO, "inbound_certificate.fingerprint: unknown key"),
    case("inbound-certificate-no-pins", put((*P0, "inbound_certificate"), {}),
         CONTOSO, "inbound_certificate.fingerprints: is required"),
    case("inbound-certificate-empty", put((*P0, "inbound_certificate"), {"fingerprints": []}),
         CONTOSO, "inbound_certificate.fingerprints", "must not be empty"),
    case("inbound-certificate-bad-pin", put((*P0, "inbound_certificate"), {"fingerprints": [FP_PLAIN, "ab" * 20]}),
         CONTOSO, "inbound_certificate.fingerprints[1]", "SHA-256 fingerprint"),
    case("inbound-certificate-duplicate", put((*P0, "inbound_certificate"), {"fingerprints": [FP_PLAIN, FP_NORMAL]}),
         CONTOSO, "inbound_certificate.fingerprints[1]", "duplicate"),
    case("inbound-certificate-shared",
         chain(put((*P0, "inbound_certificate"), {"fingerprints": [FP_OTHER]}),
               put((*P1, "inbound_certificate"), {"fingerprints": [FP_PLAIN, FP_OTHER.upper()]})),
         FABRIKAM, "inbound_certificate.fingerprints[1]", "inbound_certificate.fingerprints[0] of " + CONTOSO),
    case("inbound-networks-not-list", put((*P0, "inbound_networks"), "192.0.2.0/24"),
         CONTOSO, "inbound_networks", "must be a list"),
    case("inbound-networks-empty", put((*P0, "inbound_networks"), []), CONTOSO, "inbound_networks", "must not be"),
    case("inbound-networks-everyone", put((*P0, "inbound_networks"), ["0.0.0.0/0"]),
         CONTOSO, "inbound_networks[0]", "every address", "the partner's own networks"),
    case("inbound-networks-everyone-v6", put((*P0, "inbound_networks"), ["192.0.2.1", "::/0"]),
         CONTOSO, "inbound_networks[1]", "every address"),
    case("inbound-networks-host-bits", put((*P0, "inbound_networks"), ["192.0.2.1/24"]),
         CONTOSO, "inbound_networks[0]", "must be an IP address or a network"),
    case("inbound-networks-name", put((*P0, "inbound_networks"), ["mx.contoso.example"]),
         CONTOSO, "inbound_networks[0]", "must be an IP address or a network"),
    case("inbound-networks-integer", put((*P0, "inbound_networks"), [3232235777]),
         CONTOSO, "inbound_networks[0]", "must be a string"),
    case("inbound-networks-duplicate", put((*P0, "inbound_networks"), ["192.0.2.1", "192.0.2.1/32"]),
         CONTOSO, "inbound_networks[1]", "duplicate", "inbound_networks[0]"),
    case("inbound-networks-overlap",
         chain(put((*P0, "inbound_networks"), ["192.0.2.0/24"]), put((*P1, "inbound_networks"), ["192.0.2.77"])),
         FABRIKAM, "inbound_networks[0]", "192.0.2.77/32 overlaps 192.0.2.0/24, inbound_networks[0] of " + CONTOSO),
    case("inbound-networks-overlap-v6",
         chain(put((*P0, "inbound_networks"), ["2001:db8::/48"]), put((*P1, "inbound_networks"), ["2001:DB8::/32"])),
         FABRIKAM, "inbound_networks[0]", "overlaps 2001:db8::/48", CONTOSO),
    case("inbound-networks-overlap-test-mode",
         chain(put((*P0, "inbound_networks"), ["192.0.2.0/24"]), put((*P1, "mode"), "test"),
               put((*P1, "inbound_networks"), ["192.0.2.0/25"])),
         FABRIKAM, "inbound_networks[0]", "overlaps", CONTOSO),
    case("password-short", put((*P0, "outbound_auth", "password"), "Sh0rt-Pw-9"),
         CONTOSO, "outbound_auth.password", "12 to 128 characters"),
    case("password-long", put((*P0, "inbound_auth", "password"), "L" * 129),
         CONTOSO, "inbound_auth.password", "12 to 128 characters"),
    case("password-whitespace", put((*P0, "inbound_auth", "password"), "Has Space-In-It-42"),
         CONTOSO, "inbound_auth.password", "whitespace"),
    case("password-newline", put((*P0, "inbound_auth", "password"), "Has-Newline-42\nX"),
         CONTOSO, "inbound_auth.password", "newlines"),
    case("password-equals-username",
         put((*P1, "inbound_auth"), {"username": "Fabrikam-Link-User", "password": "fabrikam-link-user"}),
         FABRIKAM, "inbound_auth.password", "must differ from the username"),
    case("password-integer", put((*P0, "inbound_auth", "password"), 123456789012345),
         CONTOSO, "inbound_auth.password", "must be a string, got an integer"),
    case("username-bad", put((*P0, "inbound_auth", "username"), "contoso user"),
         CONTOSO, "inbound_auth.username", "must match"),
    case("username-missing", drop((*P0, "outbound_auth", "username")), CONTOSO, "outbound_auth.username"),
    case("inbound-username-duplicate", put((*P1, "inbound_auth", "username"), "contoso"),
         FABRIKAM, "inbound_auth.username", "already used by " + CONTOSO),
    case("inbound-username-duplicate-case", put((*P1, "inbound_auth", "username"), "Contoso"),
         FABRIKAM, "inbound_auth.username", "already used"),
    # domain syntax
    case("domain-underscore", put((*P0, "domains", 0), "contoso_mail.example"),
         CONTOSO, "domains[0]", "not a valid DNS name"),
    case("domain-leading-hyphen", put((*P0, "domains", 0), "-contoso.example"), CONTOSO, "domains[0]"),
    case("domain-empty-label", put((*P0, "domains", 0), "contoso..example"), CONTOSO, "domains[0]", "label ''"),
    case("domain-trailing-dot", put((*P0, "domains", 0), "contoso.example."), CONTOSO, "domains[0]", "end with a dot"),
    case("domain-wildcard", put((*P1, "domains", 1), "*.fabrikam.example"), FABRIKAM, "domains[1]", "wildcards"),
    case("domain-single-label", put((*P0, "domains", 0), "contoso"), CONTOSO, "domains[0]", "two labels"),
    case("domain-label-too-long", put((*P0, "domains", 0), "c" * 64 + ".example"), CONTOSO, "domains[0]"),
    case("domain-too-long", put((*P0, "domains", 0), ".".join(["c" * 60] * 5)), CONTOSO, "domains[0]", "253"),
    case("domain-unicode", put((*P0, "domains", 0), "bücher.example"), CONTOSO, "domains[0]"),
    case("domain-numeric-tld", put((*P0, "domains", 0), "192.0.2.1"), CONTOSO, "domains[0]", "numeric"),
    case("domain-not-string", put((*P0, "domains", 0), 42), CONTOSO, "domains[0]", "must be a string, got 42"),
    case("domains-not-list", put((*P0, "domains"), "contoso.example"), CONTOSO, "domains", "must be a list"),
    case("domains-empty", put((*P0, "domains"), []), CONTOSO, "domains", "must not be empty"),
    # partner names and keys
    case("name-uppercase", put((*P0, "name"), "Contoso"), "partnermail_partners[0] (Contoso): name", "must match"),
    case("name-too-long", put((*P0, "name"), "c" * 32), "partnermail_partners[0]", "name", "must match"),
    case("name-dot", put((*P0, "name"), "contoso.example"), "partnermail_partners[0]", "name"),
    case("name-missing", drop((*P1, "name")), "partnermail_partners[1]: name: is required"),
    case("name-duplicate", put((*P1, "name"), "contoso"),
         "partnermail_partners[1] (contoso): name", "already used by " + CONTOSO),
    case("unknown-key-partner", put((*P0, "domain"), ["x.example"]), CONTOSO, "domain: unknown key"),
    case("unknown-key-tls", put((*P0, "tls", "levle"), "secure"), CONTOSO, "tls.levle: unknown key"),
    case("unknown-key-connector", put((*P0, "connectors", 1, "prot"), 25), CONTOSO, "connectors[1].prot: unknown key"),
    case("unknown-key-auth", put((*P0, "outbound_auth", "user"), "x"), CONTOSO, "outbound_auth.user: unknown key"),
    case("partner-not-mapping", add(("partnermail_partners",), "globex"), "partnermail_partners[2]", "mapping"),
    case("tls-not-mapping", put((*P0, "tls"), "secure"), CONTOSO, "tls", "must be a mapping"),
    # mode
    case("mode-unknown", put((*P0, "mode"), "audit"),
         CONTOSO, "mode: must be one of enforce, test, got string 'audit'"),
    case("mode-boolean", put((*P1, "mode"), False), FABRIKAM, "mode: must be a string, got boolean false"),
    case("mode-list", put((*P0, "mode"), ["test"]), CONTOSO, "mode: must be a string, got a list"),
    case("mode-empty", put((*P0, "mode"), ""), CONTOSO, "mode: must be one of enforce, test, got string ''"),
    # identity holds in test mode too: domains, logins and allowed senders stay unique across all partners
    case("test-mode-domain-dup", chain(put((*P1, "mode"), "test"), add((*P1, "domains"), "contoso.example")),
         FABRIKAM, "domains[2]", "'contoso.example' is also domains[0] of " + CONTOSO),
    case("test-mode-own-domain", chain(put((*P0, "mode"), "test"), add((*P0, "domains"), "a.example")),
         CONTOSO, "domains[2]", "our own domain"),
    case("test-mode-inbound-username-dup",
         chain(put((*P1, "mode"), "test"), put((*P1, "inbound_auth", "username"), "contoso")),
         FABRIKAM, "inbound_auth.username", "already used by " + CONTOSO),
    case("test-mode-allowed-sender-other-partner",
         chain(put((*P1, "mode"), "test"), put((*P0, "allowed_senders"), ["boss@eu.fabrikam.example"])),
         CONTOSO, "allowed_senders[0]", "of " + FABRIKAM),
    case("test-mode-name-dup", chain(put((*P1, "mode"), "test"), put((*P1, "name"), "contoso")),
         "partnermail_partners[1] (contoso): name", "already used by " + CONTOSO),
    case("test-mode-bad-link-still-refused", chain(put((*P0, "mode"), "test"), put((*P0, "tls", "level"), "may")),
         CONTOSO, "tls.level", "never goes out in clear"),
    # this MTA
    case("hostname-bad", put(("partnermail_hostname",), "mx_a.example"), "partnermail_hostname", "not a valid"),
    case("hostname-short", put(("partnermail_hostname",), "mx"), "partnermail_hostname", "two labels"),
    case("hostname-missing", drop(("partnermail_hostname",)), "partnermail_hostname: is required"),
    case("own-domains-empty", put(("partnermail_domains",), []), "partnermail_domains", "must not be empty"),
    case("own-domains-missing", drop(("partnermail_domains",)), "partnermail_domains: is required"),
    case("own-domain-duplicate", add(("partnermail_domains",), "A.example"),
         "partnermail_domains[2]", "duplicate 'a.example'"),
    case("own-domain-pattern", add(("partnermail_domains",), ".a.example"), "partnermail_domains[2]", "leading dot"),
    case("unknown-variable", put(("partnermail_partner",), []), "partnermail_partner: unknown variable"),
    case("internet-tls-level", put(("partnermail_internet", "tls_level"), "maybe"),
         "partnermail_internet.tls_level", "must be one of"),
    case("internet-relayhost-bare-ip", put(("partnermail_internet", "relayhost"), "192.0.2.1"),
         "partnermail_internet.relayhost", "in brackets"),
    case("internet-relayhost-host-port", put(("partnermail_internet", "relayhost"), "smtp.example:587"),
         "partnermail_internet.relayhost", "[host]:port"),
    case("internet-unknown-key", put(("partnermail_internet", "relay_host"), "x"), "partnermail_internet.relay_host"),
    case("delivery-mode", put(("partnermail_delivery", "mode"), "lmtp"), "partnermail_delivery.mode"),
    case("delivery-relay-no-nexthop", put(("partnermail_delivery",), {"mode": "relay"}),
         "partnermail_delivery.nexthop", "is required"),
    case("delivery-relay-bad-port", put(("partnermail_delivery",), {"mode": "relay", "nexthop": "[m.internal]:99999"}),
         "partnermail_delivery.nexthop", "65535"),
    case("delivery-relay-with-mailboxes", put(("partnermail_delivery", "mode"), "relay"),
         "partnermail_delivery.mailboxes", "not allowed with mode relay"),
    case("delivery-bad-mailbox", put(("partnermail_delivery", "mailboxes"), ["alice@a.example"]),
         "partnermail_delivery.mailboxes[0]", "local part"),
    case("partners-not-list", put(("partnermail_partners",), {"name": "contoso"}), "partnermail_partners", "list"),
    # senders a partner's login may use besides its domains (allowed_senders)
    case("allowed-sender-own-domain", put((*P0, "allowed_senders"), ["a.example"]),
         CONTOSO, "allowed_senders[0]", "overlaps 'a.example', our own domain"),
    case("allowed-sender-own-address", put((*P0, "allowed_senders"), ["ceo@a2.example"]),
         CONTOSO, "allowed_senders[0]", "overlaps 'a2.example', our own domain"),
    case("allowed-sender-own-subdomain", put((*P0, "allowed_senders"), [".eu.a.example"]),
         CONTOSO, "allowed_senders[0]", "our own domain"),
    case("allowed-sender-our-hostname", put((*P0, "allowed_senders"), ["root@mx.a.example"]),
         CONTOSO, "allowed_senders[0]", "our own domain"),
    case("allowed-sender-other-partner", put((*P0, "allowed_senders"), ["boss@eu.fabrikam.example"]),
         CONTOSO, "allowed_senders[0]", "of " + FABRIKAM),
    case("allowed-sender-other-partner-domain", put((*P1, "allowed_senders"), ["contoso.test"]),
         FABRIKAM, "allowed_senders[0]", "of " + CONTOSO),
    case("allowed-sender-covers-other-partner", put((*P0, "allowed_senders"), [".example"]),
         CONTOSO, "allowed_senders[0]", "not a valid DNS name"),
    case("allowed-sender-already-own", put((*P0, "allowed_senders"), ["x@contoso.test"]),
         CONTOSO, "allowed_senders[0]", "already the partner's own (domains[1])"),
    case("allowed-sender-not-list", put((*P0, "allowed_senders"), "fwd.example"),
         CONTOSO, "allowed_senders", "must be a list"),
    case("allowed-sender-bad-address", put((*P0, "allowed_senders"), ["a b@fwd.example"]),
         CONTOSO, "allowed_senders[0]", "is not an address"),
    case("allowed-sender-bad-domain", put((*P0, "allowed_senders"), ["fwd_example"]),
         CONTOSO, "allowed_senders[0]", "not a valid DNS name"),
    case("allowed-sender-duplicate", put((*P0, "allowed_senders"), ["fwd.example", "FWD.example"]),
         CONTOSO, "allowed_senders[1]", "duplicate 'fwd.example'"),
    # third parties that may send as us (partnermail_sender_allowances)
    case("allowance-not-list", put(("partnermail_sender_allowances",), {"name": "news"}),
         "partnermail_sender_allowances", "must be a list"),
    case("allowance-unknown-key", put(("partnermail_sender_allowances",), [
         {"name": "news", "senders": ["a.example"], "clients": ["198.51.100.7"], "client": "x"}]),
         "partnermail_sender_allowances[0].client", "unknown key"),
    case("allowance-name-missing", put(("partnermail_sender_allowances",), [
         {"senders": ["a.example"], "clients": ["198.51.100.7"]}]),
         "partnermail_sender_allowances[0].name", "is required"),
    case("allowance-name-hyphen", put(("partnermail_sender_allowances",), [
         {"name": "news-letter", "senders": ["a.example"], "clients": ["198.51.100.7"]}]),
         "partnermail_sender_allowances[0].name", "must match"),
    case("allowance-name-duplicate", put(("partnermail_sender_allowances",), [
         {"name": "news", "senders": ["a.example"], "clients": ["198.51.100.7"]},
         {"name": "news", "senders": ["a2.example"], "clients": ["198.51.100.8"]}]),
         "partnermail_sender_allowances[1].name", "duplicate 'news'"),
    case("allowance-sender-foreign", put(("partnermail_sender_allowances",), [
         {"name": "news", "senders": ["news@contoso.example"], "clients": ["198.51.100.7"]}]),
         "partnermail_sender_allowances[0].senders[0]", "is not one of our own domains"),
    case("allowance-sender-pattern", put(("partnermail_sender_allowances",), [
         {"name": "news", "senders": [".a.example"], "clients": ["198.51.100.7"]}]),
         "partnermail_sender_allowances[0].senders[0]", "is not one of our own domains"),
    case("allowance-senders-missing", put(("partnermail_sender_allowances",), [
         {"name": "news", "clients": ["198.51.100.7"]}]),
         "partnermail_sender_allowances[0].senders", "is required"),
    case("allowance-senders-empty", put(("partnermail_sender_allowances",), [
         {"name": "news", "senders": [], "clients": ["198.51.100.7"]}]),
         "partnermail_sender_allowances[0].senders", "must not be empty"),
    case("allowance-clients-missing", put(("partnermail_sender_allowances",), [
         {"name": "news", "senders": ["a.example"]}]),
         "partnermail_sender_allowances[0].clients", "is required"),
    case("allowance-clients-everyone", put(("partnermail_sender_allowances",), [
         {"name": "news", "senders": ["a.example"], "clients": ["0.0.0.0/0"]}]),
         "partnermail_sender_allowances[0].clients[0]", "is every address"),
    case("allowance-clients-everyone-v6", put(("partnermail_sender_allowances",), [
         {"name": "news", "senders": ["a.example"], "clients": ["::/0"]}]),
         "partnermail_sender_allowances[0].clients[0]", "is every address"),
    case("allowance-clients-host-bits", put(("partnermail_sender_allowances",), [
         {"name": "news", "senders": ["a.example"], "clients": ["198.51.100.7/24"]}]),
         "partnermail_sender_allowances[0].clients[0]", "has host bits set"),
    case("allowance-clients-name", put(("partnermail_sender_allowances",), [
         {"name": "news", "senders": ["a.example"], "clients": ["smtp.news.example"]}]),
         "partnermail_sender_allowances[0].clients[0]", "must be an IP address or a network"),
    case("allowance-clients-duplicate", put(("partnermail_sender_allowances",), [
         {"name": "news", "senders": ["a.example"], "clients": ["198.51.100.7", "198.51.100.7/32"]}]),
         "partnermail_sender_allowances[0].clients[1]", "duplicate '198.51.100.7/32'"),
]


def _passwords(node):
    """Every password value in an inventory, as text."""
    if isinstance(node, dict):
        found = [str(value) for key, value in node.items() if key == "password" and value is not None]
        return found + [p for value in node.values() for p in _passwords(value)]
    if isinstance(node, list):
        return [p for value in node for p in _passwords(value)]
    return []


def _rejected(inventory):
    with pytest.raises(ModelError) as info:
        validate_model(inventory)
    return info.value


def test_invalid_table_is_big_enough():
    assert len(INVALID) >= 30


def test_base_inventory_is_valid():
    validate_model(base())


@pytest.mark.parametrize("mutation, expected", INVALID)
def test_invalid_inventory_is_rejected(mutation, expected):
    inventory = base()
    mutation(inventory)
    error = _rejected(inventory)
    message = str(error)
    assert message == "\n".join(error.errors)
    assert any(all(part in line for part in expected) for line in error.errors), message
    for password in _passwords(inventory):
        assert password not in message


def test_all_errors_are_collected():
    inventory = base()
    inventory["partnermail_hostname"] = "bad_host"
    inventory["partnermail_partners"][0]["connectors"][0]["cost"] = 0
    inventory["partnermail_partners"][1]["tls"]["level"] = "none"
    error = _rejected(inventory)
    assert len(error.errors) == 3
    assert error.errors[0].startswith("partnermail_hostname: ")
    assert error.errors[1] == f"{CONTOSO}: connectors[0].cost: must be an integer from 1 to 100, got 0"
    assert error.errors[2].startswith(f"{FABRIKAM}: tls.level: ")


@pytest.mark.parametrize("value", ["not a mapping", None, ["partnermail_hostname"]])
def test_model_must_be_a_mapping(value):
    assert "must be a mapping" in str(_rejected(value))


# ---------------------------------------------------------------- valid inventories


def _minimal(**partner):
    partner = {
        "name": "contoso",
        "domains": ["contoso.example"],
        "connectors": [{"cost": 1, "via": "dns"}],
        "outbound_auth": {"username": "a-example", "password": "Out-To-Contoso-7Q"},
        "inbound_auth": {"username": "contoso", "password": "In-From-Contoso-7Q"},
    } | partner
    return {"partnermail_hostname": "mx.a.example", "partnermail_domains": ["a.example"],
            "partnermail_partners": [partner]}


def test_worked_partner_is_normalised():
    model = validate_model(base())
    assert model["partnermail_partners"][0] == {
        "name": "contoso",
        "mode": "enforce",
        "transport": "partner",
        "domains": ["contoso.example", "contoso.test"],
        "connectors": [
            {"cost": 1, "via": "dns", "host": None, "port": 25,
             "nexthops": {"contoso.example": "contoso.example", "contoso.test": "contoso.test"}},
            {"cost": 5, "via": None, "host": "backup.contoso.example", "port": 587,
             "nexthops": {"contoso.example": "[backup.contoso.example]:587",
                          "contoso.test": "[backup.contoso.example]:587"}},
        ],
        "routes": {
            "contoso.example": ["contoso.example", "[backup.contoso.example]:587"],
            "contoso.test": ["contoso.test", "[backup.contoso.example]:587"],
        },
        "nexthops": ["contoso.example", "contoso.test", "[backup.contoso.example]:587"],
        "tls": {"level": "secure", "match": ["contoso.example"], "ca_file": "trust/contoso-ca.pem",
                "fingerprints": []},
        "outbound_auth": {"username": "a-example", "password": "Out-To-Contoso-7Q"},
        "inbound_auth": {"username": "contoso", "password": "In-From-Contoso-7Q"},
        "inbound_certificate": None,
        "inbound_networks": [],
        "allowed_senders": [],
    }
    assert _model.inbound_identities(model["partnermail_partners"][0]) == ["inbound_auth"]


def test_partner_on_a_certificate_platform_is_normalised():
    """No login either way: it proves itself by its client certificate (two pins, for a key roll) or network."""
    inventory = _minimal(inbound_certificate={"fingerprints": [FP_PLAIN, FP_OTHER]},
                         inbound_networks=["192.0.2.7", "2001:DB8:7::/48"])
    del inventory["partnermail_partners"][0]["outbound_auth"]
    del inventory["partnermail_partners"][0]["inbound_auth"]
    partner = validate_model(inventory)["partnermail_partners"][0]
    assert partner["outbound_auth"] is None
    assert partner["inbound_auth"] is None
    assert partner["inbound_certificate"] == {"fingerprints": [FP_NORMAL, FP_OTHER.upper()]}
    assert partner["inbound_networks"] == ["192.0.2.7/32", "2001:db8:7::/48"]
    assert _model.inbound_identities(partner) == ["inbound_certificate", "inbound_networks"]


def test_two_partners_may_each_have_their_own_networks_and_pins():
    inventory = base()
    inventory["partnermail_partners"][0] |= {
        "inbound_networks": ["192.0.2.0/25"], "inbound_certificate": {"fingerprints": [FP_PLAIN]}}
    inventory["partnermail_partners"][1] |= {
        "inbound_networks": ["192.0.2.128/25", "2001:db8::/32"], "inbound_certificate": {"fingerprints": [FP_OTHER]}}
    partners = validate_model(inventory)["partnermail_partners"]
    assert [p["inbound_networks"] for p in partners] == [["192.0.2.0/25"], ["192.0.2.128/25", "2001:db8::/32"]]


def test_sender_allowances_are_normalised():
    inventory = base() | {"partnermail_sender_allowances": [
        {"name": "news", "senders": ["News@A.example", "a2.example"], "clients": ["198.51.100.7", "2001:DB8::/32"]}]}
    inventory["partnermail_partners"][0]["allowed_senders"] = ["Fwd.Example", "x@elsewhere.example", ".srs.example"]
    model = validate_model(inventory)
    assert model["partnermail_sender_allowances"] == [
        {"name": "news", "senders": ["news@a.example", "a2.example"], "clients": ["198.51.100.7/32", "2001:db8::/32"]}]
    assert model["partnermail_partners"][0]["allowed_senders"] == ["fwd.example", "x@elsewhere.example", ".srs.example"]
    assert validate_model(base())["partnermail_sender_allowances"] == []


def test_top_level_defaults_are_filled():
    model = validate_model(_minimal())
    assert model["partnermail_delivery"] == {"mode": "virtual", "mailboxes": ["postmaster"]}
    assert model["partnermail_internet"] == {"relayhost": "", "tls_level": "may"}
    assert validate_model(_minimal() | {"partnermail_partners": None})["partnermail_partners"] == []
    assert validate_model({"partnermail_hostname": "mx.a.example", "partnermail_domains": ["a.example"]})[
        "partnermail_partners"] == []


def test_partner_defaults_are_filled():
    inventory = _minimal(connectors=[{"cost": 3, "host": "mx.contoso.example"}])
    partner = validate_model(inventory)["partnermail_partners"][0]
    assert partner["tls"] == {"level": "secure", "match": [], "ca_file": None, "fingerprints": []}
    assert partner["connectors"][0]["port"] == 25
    assert partner["nexthops"] == ["[mx.contoso.example]:25"]


def test_empty_optional_tls_lists_are_accepted():
    tls = {"level": "verify", "match": [], "ca_file": "", "fingerprints": []}
    assert validate_model(_minimal(tls=tls))["partnermail_partners"][0]["tls"] == {
        "level": "verify", "match": [], "ca_file": None, "fingerprints": []}


def test_names_are_lowercased():
    inventory = _minimal(domains=["Contoso.EXAMPLE"], connectors=[{"cost": 2, "host": "MX.Contoso.Example"}],
                         tls={"level": "SECURE", "match": ["Contoso.Example", ".Contoso.Example"]})
    inventory["partnermail_hostname"] = "MX.A.Example"
    inventory["partnermail_domains"] = ["A.Example"]
    model = validate_model(inventory)
    partner = model["partnermail_partners"][0]
    assert model["partnermail_hostname"] == "mx.a.example"
    assert model["partnermail_domains"] == ["a.example"]
    assert partner["domains"] == ["contoso.example"]
    assert partner["routes"] == {"contoso.example": ["[mx.contoso.example]:25"]}
    assert partner["tls"]["level"] == "secure"
    assert partner["tls"]["match"] == ["contoso.example", ".contoso.example"]


def test_connectors_are_sorted_by_cost():
    connectors = [{"cost": 9, "host": "c.contoso.example"}, {"cost": 2, "host": "a.contoso.example", "port": 2525},
                  {"cost": 5, "via": "dns"}]
    partner = validate_model(_minimal(connectors=connectors))["partnermail_partners"][0]
    assert [c["cost"] for c in partner["connectors"]] == [2, 5, 9]
    assert partner["routes"]["contoso.example"] == [
        "[a.contoso.example]:2525", "contoso.example", "[c.contoso.example]:25"]


def test_equal_costs_keep_their_order():
    """Costs are unique within a partner after validation; the sort itself is stable all the same."""
    connectors = [{"cost": 5, "id": "first"}, {"cost": 1, "id": "cheap"}, {"cost": 5, "id": "second"}]
    assert [c["id"] for c in _by_cost(connectors)] == ["cheap", "first", "second"]


@pytest.mark.parametrize("given", [FP_PLAIN, FP_PLAIN.upper(), ":".join(["ab"] * 32), FP_NORMAL])
def test_fingerprints_are_normalised(given):
    tls = {"level": "fingerprint", "fingerprints": [given, FP_OTHER]}
    partner = validate_model(_minimal(tls=tls))["partnermail_partners"][0]
    assert partner["tls"]["fingerprints"] == [FP_NORMAL, FP_OTHER.upper()]


def test_subdomain_pattern_with_fixed_hosts():
    connectors = [{"cost": 1, "host": "192.0.2.7", "port": 2525}, {"cost": 2, "host": "2001:DB8::7"}]
    inventory = _minimal(domains=["contoso.example", ".contoso.example"], connectors=connectors)
    partner = validate_model(inventory)["partnermail_partners"][0]
    assert partner["routes"][".contoso.example"] == ["[192.0.2.7]:2525", "[2001:db8::7]:25"]
    assert partner["nexthops"] == ["[192.0.2.7]:2525", "[2001:db8::7]:25"]


def test_apex_and_subdomains_may_belong_to_different_partners():
    inventory = _minimal()
    other = copy.deepcopy(inventory["partnermail_partners"][0]) | {
        "name": "contoso-eu", "domains": [".contoso.example"],
        "connectors": [{"cost": 1, "host": "eu.contoso.example"}],
        "inbound_auth": {"username": "contoso-eu", "password": "In-From-Contoso-EU"}}
    inventory["partnermail_partners"].append(other)
    assert len(validate_model(inventory)["partnermail_partners"]) == 2


def test_a_partner_may_name_its_own_mx_routed_domain_as_host():
    """The SASL host-name lookup would find the partner's own row: its own credentials, nothing leaks."""
    inventory = base()
    inventory["partnermail_partners"][0]["connectors"][1]["host"] = "contoso.test"
    partner = validate_model(inventory)["partnermail_partners"][0]
    assert "[contoso.test]:587" in partner["nexthops"]


def test_relay_delivery_and_relayhost_are_normalised():
    inventory = _minimal()
    inventory["partnermail_delivery"] = {"mode": "relay", "nexthop": "[MailStore.Internal]:25"}
    inventory["partnermail_internet"] = {"relayhost": "[SMTP.example]:587", "tls_level": "encrypt"}
    model = validate_model(inventory)
    assert model["partnermail_delivery"] == {"mode": "relay", "nexthop": "[mailstore.internal]:25"}
    assert model["partnermail_internet"] == {"relayhost": "[smtp.example]:587", "tls_level": "encrypt"}


def test_mailboxes_are_lowercased():
    inventory = _minimal()
    inventory["partnermail_delivery"] = {"mailboxes": ["Postmaster", "alice.smith"]}
    assert validate_model(inventory)["partnermail_delivery"] == {
        "mode": "virtual", "mailboxes": ["postmaster", "alice.smith"]}


def test_other_host_variables_are_ignored():
    inventory = _minimal() | {"ansible_host": "10.0.0.1", "pki_ca_dir": "/x", "groups": {"all": []}}
    assert set(validate_model(inventory)) == {
        "partnermail_hostname", "partnermail_domains", "partnermail_delivery", "partnermail_internet",
        "partnermail_partners", "partnermail_sender_allowances"}


def test_input_is_not_modified():
    inventory = base()
    before = copy.deepcopy(inventory)
    validate_model(inventory)
    assert inventory == before


def test_filter_turns_model_error_into_filter_error():
    filters = FilterModule().filters()
    inventory = base()
    inventory["partnermail_partners"][0]["connectors"][0]["cost"] = 0
    with pytest.raises(AnsibleFilterError) as info:
        filters["validate_model"](inventory)
    assert f"{CONTOSO}: connectors[0].cost: must be an integer from 1 to 100, got 0" in str(info.value)
    assert filters["validate_model"](base()) == validate_model(base())


# ---------------------------------------------------------------- test mode


@pytest.mark.parametrize("given, normalised", [(None, "enforce"), ("enforce", "enforce"), ("test", "test"),
                                               ("TEST", "test"), ("Enforce", "enforce")])
def test_mode_is_normalised(given, normalised):
    inventory = base()
    inventory["partnermail_partners"][0]["mode"] = given
    assert [p["mode"] for p in validate_model(inventory)["partnermail_partners"]] == [normalised, "enforce"]


def test_every_partner_carries_its_mode():
    inventory = base()
    del inventory["partnermail_partners"][0]["tls"]
    assert all(partner["mode"] == "enforce" for partner in validate_model(inventory)["partnermail_partners"])
    assert "mode" in _model.PARTNER_KEYS and _model.PARTNER_MODES == ("enforce", "test")


# Clashes of rows keyed by nexthop (TLS policy, SASL password): only enforced partners have such rows. Each case is
# refused with both partners enforced, and accepted once the partner named (contoso P0, fabrikam P1) is in test mode.
def clash(case_id, mutation, tested, *expected):
    return pytest.param(mutation, tested, expected, id=case_id)


ROW_CLASHES = [
    clash("shared-nexthop-first-in-test", put((*P0, "connectors", 1), {"cost": 5, "host": "mx.fabrikam.example"}), P0,
          FABRIKAM, "connectors[0].host", "is also connectors[1] of " + CONTOSO),
    clash("shared-nexthop-second-in-test", put((*P0, "connectors", 1), {"cost": 5, "host": "mx.fabrikam.example"}),
          P1, FABRIKAM, "connectors[0].host", "is also connectors[1] of " + CONTOSO),
    clash("sasl-host-key-owner-in-test", put((*P1, "connectors", 0, "host"), "contoso.test"), P0,
          FABRIKAM, "connectors[0].host", "routed via dns"),
    clash("sasl-host-key-user-in-test", put((*P1, "connectors", 0, "host"), "contoso.test"), P1,
          FABRIKAM, "connectors[0].host", "routed via dns"),
    clash("relayhost", put(("partnermail_internet", "relayhost"), "[backup.contoso.example]:587"), P0,
          CONTOSO, "connectors[1].host", "the Internet relayhost"),
    clash("mail-store-nexthop", put(("partnermail_delivery",), {"mode": "relay", "nexthop": "contoso.test"}), P0,
          CONTOSO, "domains", "'contoso.test' is also the mail store nexthop"),
]


@pytest.mark.parametrize("mutation, tested, expected", ROW_CLASHES)
def test_nexthop_clashes_only_matter_between_enforced_partners(mutation, tested, expected):
    inventory = base()
    mutation(inventory)
    errors = _rejected(copy.deepcopy(inventory)).errors
    assert any(all(part in line for part in expected) for line in errors), errors
    _node(inventory, tested)["mode"] = "test"
    validate_model(inventory)


def test_mx_routed_nexthops_are_the_enforced_partners_sasl_keys():
    inventory = base()
    inventory["partnermail_partners"][1]["connectors"].append({"cost": 20, "via": "dns"})
    inventory["partnermail_partners"][1]["domains"] = ["fabrikam.example"]
    partners = validate_model(inventory)["partnermail_partners"]
    assert _model.mx_routed_nexthops(partners) == {
        "contoso.example": "contoso", "contoso.test": "contoso", "fabrikam.example": "fabrikam"}
    partners[0]["mode"] = "test"
    assert _model.mx_routed_nexthops(partners) == {"fabrikam.example": "fabrikam"}


@pytest.mark.parametrize("internet, modes, expected", [
    ({}, ("enforce", "enforce"), []),
    ({}, ("test", "enforce"), [("contoso", "to the MX hosts, opportunistic TLS (may), no authentication")]),
    ({"relayhost": "[smtp.example]:587"}, ("test", "test"),
     [("contoso", "through the relayhost [smtp.example]:587, opportunistic TLS (may)"), ("fabrikam", "relayhost")]),
    ({"tls_level": "encrypt"}, ("enforce", "test"), [("fabrikam", "the Internet connector's TLS level encrypt")]),
    ({"tls_level": "none"}, ("enforce", "test"), [("fabrikam", "no TLS (none), no authentication")]),
])
def test_mode_warnings_name_the_mta_and_each_partner_in_test_mode(internet, modes, expected):
    inventory = base()
    inventory["partnermail_internet"] |= internet
    for partner, mode in zip(inventory["partnermail_partners"], modes, strict=True):
        partner["mode"] = mode
    warnings = _model.mode_warnings(validate_model(inventory), "mx-a")
    assert len(warnings) == len(expected), warnings
    for warning, (partner, how) in zip(warnings, expected, strict=True):
        assert warning.startswith(f"mx-a: partner {partner} is in test mode, NOT ENFORCED: "), warning
        assert how in warning, warning
        assert "set 'mode: enforce' (or remove 'mode')" in warning, warning
        for password in _passwords(inventory):
            assert password not in warning
    assert FilterModule().filters()["mode_warnings"](validate_model(inventory), "mx-a") == warnings
