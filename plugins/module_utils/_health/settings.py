"""The health role's variables -> errors naming the variable, and the check's configuration (``check.load_config``).

Runs on the controller (the filters ``health_errors`` and ``health_config``), over the validated model and a
mapping of the role's settings::

    {"enabled": true, "interval_minutes": 1, "alert_threshold_minutes": 60, "alert_to": null,
     "textfile_dir": "/var/lib/prometheus/node-exporter", "node_exporter": false,
     "probe_interval_minutes": 15, "probe_timeout": 10, "log_file": "/var/log/mail.log",
     "state_dir": "/var/lib/partnermail-health", "certificate_file": "/etc/partnermail/tls/mta-chain.pem",
     "trust_dir": "/etc/postfix/partnermail/trust"}

``alert_to`` null means the postmaster of the MTA's first domain; [] means no alert mail (metrics only). No
address may be in a partner's domains: alert mail must never depend on a partner link, the thing it reports on.
"""

import os
import re

from .logparse import requirement
from .partners import PartnerIndex, domain_map

NODE_EXPORTER_TEXTFILE_DIR = "/var/lib/prometheus/node-exporter"  # Debian's prometheus-node-exporter default
TEXTFILE_NAME = "partnermail.prom"
_ADDRESS = re.compile(r"^[^@\s\"<>,;]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")

# setting -> (role variable, lowest, highest) for the whole numbers
_NUMBERS = {
    "interval_minutes": ("health_interval_minutes", 1, 59),
    "alert_threshold_minutes": ("health_alert_threshold_minutes", 1, 7 * 24 * 60),
    "probe_interval_minutes": ("health_probe_interval_minutes", 1, 24 * 60),
    "probe_timeout": ("health_probe_timeout", 1, 60),
}
_PATHS = {"textfile_dir": "health_textfile_dir", "log_file": "health_log_file", "state_dir": "health_state_dir",
          "certificate_file": "health_certificate_file", "trust_dir": "health_trust_dir"}


_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


def _flag(value):
    """A boolean, from a bool or one of Ansible's boolean words (what ``-e name=false`` gives); None otherwise."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    return None


def _whole(value):
    """A whole number, from an int or a string of digits (``-e name=5``); None otherwise."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def normalise(settings):
    """The settings with flags and numbers given as strings (extra vars) turned into their values."""
    out = dict(settings)
    for key in ("enabled", "node_exporter"):
        flag = _flag(out.get(key))
        out[key] = out.get(key) if flag is None else flag
    for key in _NUMBERS:
        number = _whole(out.get(key))
        out[key] = out.get(key) if number is None else number
    return out


def alert_recipients(model, settings):
    """The alert mail's recipients: ``alert_to``, or the postmaster of the first domain when it is None."""
    recipients = settings.get("alert_to")
    if recipients is None:
        return [f"postmaster@{model['partnermail_domains'][0]}"]
    return list(recipients)


def settings_errors(model, settings):
    """Why the settings cannot be used, one message per problem, each naming the role variable; [] when fine."""
    settings = normalise(settings)
    errors = []
    if not isinstance(settings.get("enabled"), bool):
        errors.append("health_enabled: must be true or false")
    if not isinstance(settings.get("node_exporter"), bool):
        errors.append("health_node_exporter: must be true or false")
    for key, (name, low, high) in _NUMBERS.items():
        value = settings.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            errors.append(f"{name}: must be a whole number from {low} to {high}, got {value!r}")
    for key, name in _PATHS.items():
        value = settings.get(key)
        if not isinstance(value, str) or not os.path.isabs(value) or os.path.normpath(value) != value.rstrip("/"):
            errors.append(f"{name}: must be an absolute path, got {value!r}")
    if (settings.get("node_exporter") is True and isinstance(settings.get("textfile_dir"), str)
            and settings["textfile_dir"].rstrip("/") != NODE_EXPORTER_TEXTFILE_DIR):
        errors.append(f"health_textfile_dir: the node exporter the role installs (health_node_exporter) reads "
                      f"{NODE_EXPORTER_TEXTFILE_DIR}, Debian's default; got {settings['textfile_dir']!r}")
    recipients = settings.get("alert_to")
    if recipients is not None and (not isinstance(recipients, list)
                                   or not all(isinstance(item, str) for item in recipients)):
        errors.append("health_alert_to: must be a list of mail addresses (null: the postmaster of the first domain)")
        return errors
    index = PartnerIndex(domain_map(model.get("partnermail_partners") or []))
    for position, address in enumerate(alert_recipients(model, settings)):
        if not _ADDRESS.match(address):
            errors.append(f"health_alert_to[{position}]: {address!r} is not a mail address")
            continue
        partner = index.partner_for_address(address)
        if partner is not None:
            errors.append(f"health_alert_to[{position}]: {address} is in the domains of partner {partner}: alert "
                          f"mail would take the partner link it reports on; use an address of ours")
    return errors


def build_config(model, settings):
    """The check's configuration (see ``check``) for this MTA."""
    settings = normalise(settings)
    partners = model["partnermail_partners"]
    hostname = model["partnermail_hostname"]
    trust_dir = settings["trust_dir"]
    certificates = [{"certificate": "own", "path": settings["certificate_file"]}]
    certificates += [{"certificate": "trust_anchor", "partner": partner["name"],
                      "path": os.path.join(trust_dir, f"{partner['name']}.pem")}
                     for partner in partners if partner["tls"].get("ca_file")]
    # The probe logs in with the outbound credentials; the partner's inbound password (hashed on the MTA in
    # Dovecot's file) has no business in this file.
    testing = [{key: value for key, value in partner.items() if key != "inbound_auth"}
               for partner in partners if partner.get("mode") == "test"]
    return {
        "log_path": settings["log_file"],
        "state_dir": settings["state_dir"],
        "textfile_path": os.path.join(settings["textfile_dir"], TEXTFILE_NAME),
        "partner_domains": domain_map(partners),
        "transport": partners[0].get("transport", "partner") if partners else "partner",
        # What each enforced partner's deliveries must have had: a verified certificate, or any TLS at level encrypt.
        "tls_requirements": {partner["name"]: requirement(partner["tls"]["level"])
                             for partner in partners if partner.get("mode") != "test"},
        "certificates": certificates,
        "alert": {
            "threshold_seconds": settings["alert_threshold_minutes"] * 60,
            "to": alert_recipients(model, settings),
            "from": f"partnermail-health@{hostname}",
            "hostname": hostname,
        },
        "log_start": "beginning",
        "policy_probe": {
            "partners": testing,
            "interval_seconds": settings["probe_interval_minutes"] * 60,
            "timeout": settings["probe_timeout"],
            "helo_name": hostname,
            "trust_dir": trust_dir,
        },
    }
