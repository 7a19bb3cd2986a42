"""A tiny authoritative-looking DNS server on 127.0.0.1 for tests: answers from a few zone lines.

It plays a validating resolver: answers for names under a ``secure`` zone carry the AD bit when the
question asked for DNSSEC (DO or AD). Names under ``servfail`` get SERVFAIL, names under ``silent``
get no answer at all (a resolver that times out). Every question it saw is kept in ``queries``.
"""

import socket
import threading

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset


def _under(name, zones):
    return any(name.is_subdomain(zone) for zone in zones)


class FakeDnsServer:
    def __init__(self, records, secure=(), servfail=(), silent=()):
        """``records``: lines ``name type rdata`` (``mx1.b.test A 192.0.2.1``)."""
        self.rrsets = {}
        self.names = set()
        for line in records:
            owner, rdtype, rdata = line.split(None, 2)
            name = dns.name.from_text(owner)
            rdtype = dns.rdatatype.from_text(rdtype)
            rrset = self.rrsets.setdefault((name, rdtype), dns.rrset.RRset(name, 1, rdtype))
            rrset.add(dns.rrset.from_text(name, 300, "IN", rdtype, rdata)[0], 300)
            while name != dns.name.root:  # the owner and its ancestors exist (no NXDOMAIN below them)
                self.names.add(name)
                name = name.parent()
        self.secure = [dns.name.from_text(z) for z in secure]
        self.servfail = [dns.name.from_text(z) for z in servfail]
        self.silent = [dns.name.from_text(z) for z in silent]
        self.queries = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join(2)
        self.sock.close()

    def _serve(self):
        while not self._stop.is_set():
            try:
                wire, peer = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.message.from_wire(wire)
            self.queries.append(query)
            response = self.answer(query)
            if response is not None:
                self.sock.sendto(response.to_wire(), peer)

    def answer(self, query):
        question = query.question[0]
        name, rdtype = question.name, question.rdtype
        if _under(name, self.silent):
            return None
        response = dns.message.make_response(query)
        response.flags |= dns.flags.RA
        if _under(name, self.servfail):
            response.set_rcode(dns.rcode.SERVFAIL)
            return response
        cname = self.rrsets.get((name, dns.rdatatype.CNAME))
        if cname is not None and rdtype != dns.rdatatype.CNAME:
            response.answer.append(cname)
            name = cname[0].target
        if (name, rdtype) in self.rrsets:
            response.answer.append(self.rrsets[(name, rdtype)])
        elif name not in self.names:
            response.set_rcode(dns.rcode.NXDOMAIN)
        asked_dnssec = query.flags & dns.flags.AD or query.ednsflags & dns.flags.DO
        if asked_dnssec and _under(question.name, self.secure) and _under(name, self.secure):
            response.flags |= dns.flags.AD
        return response
