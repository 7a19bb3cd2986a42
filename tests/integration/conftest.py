"""Fixtures shared by the integration tests."""

import subprocess

import pytest

from .playbook_runner import BIN, ROOT

TARBALL = "partnermail-links-0.1.0.tar.gz"


@pytest.fixture(scope="session")
def collection_tarball(tmp_path_factory):
    """The collection as `ansible-galaxy collection build` makes it from this checkout, built once per run."""
    out = tmp_path_factory.mktemp("build")
    subprocess.run([f"{BIN}/ansible-galaxy", "collection", "build", "--force", "--output-path", str(out), ROOT],
                   check=True, capture_output=True)
    return out / TARBALL
