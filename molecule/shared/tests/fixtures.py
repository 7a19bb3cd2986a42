"""The fixtures every molecule scenario's testinfra tests use (each scenario's conftest.py imports them).

The tests run on the controller (``molecule verify`` -> verify.yml -> pytest) and reach each platform by its
molecule name through testinfra's ansible backend (``--ansible-inventory``).
"""

from __future__ import annotations

import functools

import pytest
import testinfra


@pytest.fixture(scope="session")
def hosts(pytestconfig):
    """Return a function name -> testinfra Host for the molecule platforms (ns, mx-a, ...)."""
    inventory = pytestconfig.getoption("ansible_inventory")
    if not inventory:
        pytest.fail("run with --ansible-inventory=<molecule inventory> (see molecule/shared/verify.yml)")

    @functools.cache
    def get(name: str):
        return testinfra.get_host(f"ansible://{name}", ansible_inventory=inventory)

    return get


@pytest.fixture(scope="session")
def ipv4(hosts):
    """Return a function name -> the platform's address on the test network (read on the host)."""

    @functools.cache
    def get(name: str) -> str:
        return hosts(name).check_output("ip -4 -o addr show dev eth0").split()[3].split("/")[0]

    return get
