"""Which partner a recipient address belongs to, as transport(5) decides it.

The mapping is {domain: partner name}: ``b.test`` is that domain only, ``.b.test`` its subdomains (Postfix's
default ``parent_domain_matches_subdomains`` does not include transport_maps). An exact entry wins over a
subdomain entry, and a nearer parent over a farther one.
"""


class PartnerIndex:
    def __init__(self, domains):
        self._domains = {}
        for domain, partner in domains.items():
            self._domains[str(domain).lower().rstrip(".")] = str(partner)
        self._cache = {}

    @property
    def partners(self):
        """The partner names, sorted."""
        return sorted(set(self._domains.values()))

    def partner_for_domain(self, domain):
        domain = domain.lower().rstrip(".")
        found = self._cache.get(domain, False)
        if found is not False:
            return found
        found = self._domains.get(domain)
        labels = domain.split(".")
        for start in range(1, len(labels)):
            if found is not None:
                break
            found = self._domains.get("." + ".".join(labels[start:]))
        if len(self._cache) < 100_000:
            self._cache[domain] = found
        return found

    def partner_for_address(self, address):
        """The partner of ``user@domain``, or None (no '@', or a domain no partner has)."""
        local, at, domain = address.rpartition("@")
        if not at or not local or not domain:
            return None
        return self.partner_for_domain(domain)


def domain_map(partners):
    """{domain: partner name} from the validated model's ``partnermail_partners`` (what the config wants)."""
    return {domain: partner["name"] for partner in partners for domain in partner["domains"]}
