"""Fixtures of the default scenario's testinfra tests (shared with the dane scenario through fixtures.py)."""

from fixtures import hosts, ipv4

__all__ = ["hosts", "ipv4"]  # pytest finds fixtures by their name in conftest


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "before_converge: runs in the side_effect step, on the hand-configured mx-a before converge")
