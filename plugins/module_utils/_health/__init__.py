"""Per-partner health of the partner mail links: the pure-Python core the health check program runs on the MTA.

Standard library only (Python 3.11 and 3.13, the MTAs' releases), and relative imports only inside the package,
so that the same files work as ``ansible_collections.partnermail.links.plugins.module_utils._health`` and as a
plain ``_health`` directory copied next to the check program. ``check.run()`` is the entry point; the other
modules are its parts:

- ``logreader``: reads only the lines Postfix appended since the last run (survives rotation and truncation);
- ``classify``: one reason class for a Postfix deferral text;
- ``partners``: recipient address -> partner name (transport(5) domain matching);
- ``logparse``: the partner transport's delivery lines -> per-partner last delivery, last deferral, counters;
- ``queue``: ``postqueue -j`` -> per-partner queued messages, oldest age, reason;
- ``certs``: notAfter of the certificates in a PEM file (a minimal DER reader);
- ``metrics``: Prometheus text exposition for the node exporter's textfile collector;
- ``alerts``: one "stuck" mail when an incident starts, one "recovered" mail when it ends;
- ``files``: atomic writes of the state and the metrics file.
"""
