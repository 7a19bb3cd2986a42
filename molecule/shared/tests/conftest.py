"""Fixtures of the default scenario's testinfra tests (shared with the dane scenario through fixtures.py)."""

import os
import time

from fixtures import hosts, ipv4

__all__ = ["hosts", "ipv4"]  # pytest finds fixtures by their name in conftest

# verify.yml runs pytest through Ansible's command module, which shows the output only when pytest ends. With
# PARTNERMAIL_PYTEST_PROGRESS naming a file, each test's outcome and time are appended to it as they happen, and
# scripts/molecule.sh prints that file while molecule runs: a CI log cut off by its time limit shows how far the
# tests got and what took the time.
PROGRESS = os.environ.get("PARTNERMAIL_PYTEST_PROGRESS", "")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "before_converge: runs in the side_effect step, on the hand-configured mx-a before converge")


def pytest_runtest_logreport(report):
    if not PROGRESS or not (report.when == "call" or report.outcome != "passed"):
        return
    with open(PROGRESS, "a", encoding="utf-8") as stream:
        stream.write(f"pytest {time.strftime('%H:%M:%S')} {report.outcome:7} {report.duration:6.1f}s "
                     f"{report.nodeid} ({report.when})\n")
