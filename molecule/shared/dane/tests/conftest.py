"""Fixtures of the "dane" scenario's testinfra tests.

They share the default scenario's fixtures and mail helpers (../../tests/fixtures.py and mail.py).
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests"))

from fixtures import hosts, ipv4

__all__ = ["hosts", "ipv4"]  # pytest finds fixtures by their name in conftest
