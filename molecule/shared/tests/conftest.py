"""Fixtures of the default scenario's testinfra tests (shared with the dane scenario through fixtures.py)."""

from fixtures import hosts, ipv4  # noqa: F401  (pytest finds fixtures by name in conftest)
