"""Fixtures of the "dane" scenario's testinfra tests.

They share the default scenario's fixtures and mail helpers (../../tests/fixtures.py and mail.py).
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests"))

from fixtures import hosts, ipv4  # noqa: F401  (pytest finds fixtures by name in conftest)
