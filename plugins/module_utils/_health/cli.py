"""The health check program: ``partnermail-health [--config FILE]``, run every minute by a systemd timer or cron.

One check pass (``check.run``), then each alert mail is handed to the local Postfix with ``sendmail -t`` (the
recipients are never in a partner's domain, so the mail never takes a broken partner link). Silent when all is
well; otherwise one line per problem on standard error. Exit status: 0 when the log and the queue were read,
1 when not (the metrics then say so too), 2 for an unusable configuration.

Partners in test mode are probed with the link report's probe (``_report``, ``_smtp``, ``_dns``), imported only
when there are such partners: they need cryptography and dnspython, the rest of the check only the standard
library.
"""

import argparse
import json
import subprocess
import sys

from . import alerts as _alerts
from . import check as _check

DEFAULT_CONFIG = "/etc/partnermail/health.json"
SENDMAIL = ("/usr/sbin/sendmail", "-t", "-oi")


def link_report_prober(partners, trust_contents, helo_name, timeout):
    """Probe the partners' connectors with their declared policy: the rows of the link report."""
    from ansible_collections.partnermail.links.plugins.module_utils import _report  # noqa: PLC0415  # pylint: disable=import-outside-toplevel

    return _report.live_link_report(partners, trust_contents, helo_name, timeout)


def send(message, sender, command=SENDMAIL):
    """Hand one message to the local MTA; the error text, or None when sendmail took it."""
    try:
        proc = subprocess.run([*command, "-f", sender], input=_alerts.message_bytes(message), capture_output=True,
                              check=False, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{command[0]}: {exc}"
    if proc.returncode != 0:
        return f"{command[0]} exited {proc.returncode}: {proc.stderr.decode('utf-8', 'replace').strip()}"
    return None


def main(argv=None, prober=link_report_prober, sendmail=SENDMAIL, stderr=None):
    stderr = stderr or sys.stderr
    parser = argparse.ArgumentParser(prog="partnermail-health", description=__doc__.split("\n", 1)[0])
    parser.add_argument("--config", default=DEFAULT_CONFIG, help=f"the check's JSON configuration ({DEFAULT_CONFIG})")
    parser.add_argument("--print-metrics", action="store_true", help="also print the metrics written")
    args = parser.parse_args(argv)
    try:
        with open(args.config, encoding="utf-8") as handle:
            config = _check.load_config(json.load(handle))
    except (OSError, ValueError) as exc:
        stderr.write(f"partnermail-health: {args.config}: {exc}\n")
        return 2
    result = _check.run(config, prober=prober)
    problems = list(result.errors)
    for message in result.messages:
        failure = send(message, config.alert_from, sendmail)
        if failure:
            problems.append(f"alert mail to {message['To']} ({message['Subject']}) not sent: {failure}")
    for problem in problems:
        stderr.write(f"partnermail-health: {problem}\n")
    if args.print_metrics:
        sys.stdout.write(result.metrics)
    return 0 if result.success else 1
