"""Fixtures of the default scenario's testinfra tests (shared with the dane scenario through fixtures.py)."""

from fixtures import hosts, ipv4

__all__ = ["hosts", "ipv4"]  # pytest finds fixtures by their name in conftest
