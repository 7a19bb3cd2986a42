# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""First-run safety: what replacing a server's own main.cf and master.cf would lose.

The postfix role runs one read-only probe on the MTA (the takeover_probe module), which
prints, in sections, the state of each file (absent, written by us, or somebody else's) and ``postconf -n`` /
``postconf -M`` of the current files, of the package's master.cf and of the files we would write, so both sides are
in Postfix's own canonical form. ``findings()`` turns that output into, per file: its state, the admin's settings
(what differs from the package's default) and the ones our files would drop or change. Pure Python; the tables of
package defaults are role vars.
"""

import re

FILES = ("main.cf", "master.cf")
COPY_SUFFIX = ".before-partnermail"
_SECTION = re.compile(r"^== (.+)$")


def _sections(text):
    sections, states, current = {}, {}, None
    for line in text.splitlines():
        match = _SECTION.match(line)
        if match:
            words = match.group(1).split()
            if words[0] == "state" and len(words) == 3:
                states[words[1]] = words[2]
                current = None
            else:
                current = match.group(1)
                sections[current] = []
        elif current is not None and line.strip():
            sections[current].append(line)
    return states, sections


def _params(lines):
    params = {}
    for line in lines:
        name, _sep, value = line.partition("=")
        params[name.strip()] = " ".join(value.split())
    return params


def _services(lines):
    services = {}
    for line in lines:
        words = line.split()
        if len(words) >= 8:
            services[f"{words[0]}/{words[1]}"] = " ".join(words)
    return services


def _is_package_default(name, value, package):
    """True when a main.cf parameter has the value the package writes (None in the table: any value)."""
    if name not in package:
        return False
    wanted = package[name]
    return wanted is None or " ".join(str(wanted).split()) == value


def _losses(admin, ours, describe):
    """The admin's entries our file drops or replaces, in key order; describe(key, theirs, ours or None)."""
    return [describe(key, admin[key], ours.get(key)) for key in sorted(admin) if ours.get(key) != admin[key]]


def _param_loss(name, theirs, ours):
    return f"{name} = {theirs} (dropped)" if ours is None else f"{name} = {theirs} (ours: {ours})"


def _service_loss(key, theirs, ours):
    return f"{key} (dropped): {theirs}" if ours is None else f"{key} (replaced by ours): {theirs}"


def _destinations(value, hostname):
    """The names a mydestination value delivers locally, $myhostname expanded (tables are kept as written)."""
    names = {word.lower() for word in re.split(r"[\s,]+", value or "") if word}
    for spelling in ("$myhostname", "${myhostname}", "$(myhostname)"):
        if spelling in names:
            names.discard(spelling)
            names.add((hostname or "").lower())
    names.discard("")
    return names


def _host_specific_losses(current, ours, package):
    """What our file changes of the parameters the installer writes per host (None in the table).

    They are no setting of the admin's (a fresh install has them too, so they never ask for consent), but replacing
    them can still lose something: the name the server gives itself, and the domains delivered to local users.
    """
    losses = []
    for name in sorted(k for k in current if k in package and package[k] is None):
        theirs, mine = current[name], ours.get(name)
        if mine == theirs:
            continue
        if name == "mydestination":
            ended = (_destinations(theirs, current.get("myhostname"))
                     - _destinations(mine, ours.get("myhostname", current.get("myhostname"))))
            if ended:
                losses.append(f"{_param_loss(name, theirs, mine)}: local delivery ends for {', '.join(sorted(ended))}")
        else:
            losses.append(_param_loss(name, theirs, mine))
    return losses


def findings(probe_output, package_main_cf):
    """{file: {state, admin: [...], lost: [...]}} from the probe's output; package_main_cf = {param: value|None}."""
    states, sections = _sections(probe_output)
    current_n = _params(sections.get("current -n", []))
    ours_n = _params(sections.get("ours -n", []))
    admin_n = {k: v for k, v in current_n.items()
               if k != "config_directory" and not _is_package_default(k, v, package_main_cf)}
    lost_n = sorted(_losses(admin_n, ours_n, _param_loss) + _host_specific_losses(current_n, ours_n, package_main_cf))
    current_m = _services(sections.get("current -M", []))
    dist_m = set(_services(sections.get("dist -M", [])).values())
    ours_m = _services(sections.get("ours -M", []))
    admin_m = {key: line for key, line in current_m.items() if line not in dist_m}
    lost_m = _losses(admin_m, ours_m, _service_loss)
    return {
        "main.cf": {"state": states.get("main.cf", "absent"), "admin": sorted(admin_n), "lost": lost_n},
        "master.cf": {"state": states.get("master.cf", "absent"), "admin": sorted(admin_m), "lost": lost_m},
    }


def needs_consent(found):
    """The files that are somebody else's and not the package's own: replacing them needs postfix_take_over."""
    return [name for name in FILES if found[name]["state"] == "foreign" and found[name]["admin"]]


def foreign(found):
    """The files we did not write that exist (each is copied aside, once, before it is replaced)."""
    return [name for name in FILES if found[name]["state"] == "foreign"]


def refusal(host, found):
    """The message of a refused first run: the host, each file, and what replacing it would lose."""
    lines = [f"{host}: partnermail.links did not write these files and they are not the package's own; nothing was "
             "changed. Express what you need as postfix_main_cf_extra / postfix_restrictions_extra / "
             "postfix_master_cf_extra, then set postfix_take_over: true (a copy of each file is kept as "
             f"<file>{COPY_SUFFIX})."]
    for name in needs_consent(found):
        lost = found[name]["lost"]
        kept = "every setting of it is expressed in the inventory" if not lost else "would lose:"
        lines.append(f"/etc/postfix/{name}: {kept}")
        lines.extend(f"  {item}" for item in lost)
    return lines


def summary(probe_output, package_main_cf, host):
    """Everything the postfix role decides on: {files, needs_consent, foreign, refusal}."""
    found = findings(probe_output, package_main_cf)
    return {
        "files": found,
        "needs_consent": needs_consent(found),
        "foreign": foreign(found),
        "refusal": refusal(host, found),
    }
