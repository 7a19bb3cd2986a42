"""An execution environment that installs the collection gets its Python and system dependencies.

ansible-builder reads them from the collection's meta/execution-environment.yml only while it builds the image: the
build installs the collections of the definition, then runs the context's introspect script over them. Building
needs a container registry this machine cannot reach, so the test runs `ansible-builder create` and then the same
two build steps on this machine, from the context it wrote.
"""

import os
import shutil
import subprocess
import sys

import yaml

from .conftest import TARBALL
from .playbook_runner import BIN

DEFINITION = {
    "version": 3,
    "images": {"base_image": {"name": "quay.io/ansible/awx-ee:latest"}},
    "dependencies": {
        "ansible_core": {"package_pip": "ansible-core>=2.19,<2.20"},
        "ansible_runner": {"package_pip": "ansible-runner"},
        "galaxy": {"collections": [{"name": f"collections/{TARBALL}", "type": "file"}]},
    },
    "additional_build_files": [{"src": TARBALL, "dest": "collections"}],
}


def test_the_built_context_brings_our_python_and_system_dependencies(tmp_path, collection_tarball):
    shutil.copy(collection_tarball, tmp_path)
    (tmp_path / "execution-environment.yml").write_text(yaml.safe_dump(DEFINITION))
    subprocess.run([f"{BIN}/ansible-builder", "create", "-f", "execution-environment.yml", "-c", "context"],
                   cwd=tmp_path, check=True, capture_output=True)
    build = tmp_path / "context" / "_build"
    assert (build / "collections" / TARBALL).exists()
    assert yaml.safe_load((build / "requirements.yml").read_text())["collections"] == \
        DEFINITION["dependencies"]["galaxy"]["collections"]

    # The galaxy stage (WORKDIR /build: the context's _build), then the builder stage's introspection.
    # With the checkout on the collections path, ansible-galaxy would find the collection installed already.
    installed = tmp_path / "collections"
    subprocess.run([f"{BIN}/ansible-galaxy", "collection", "install", "--offline", "-r", "requirements.yml",
                    "-p", str(installed)], cwd=build, check=True, capture_output=True,
                   env=dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(installed)))
    assert (installed / "ansible_collections" / "partnermail" / "links" / "meta" / "execution-environment.yml").exists()
    pip, bindep = tmp_path / "requirements.txt", tmp_path / "bindep.txt"
    subprocess.run([sys.executable, str(build / "scripts" / "introspect.py"), "introspect", str(installed),
                    "--write-pip", str(pip), "--write-bindep", str(bindep)], check=True, capture_output=True)

    python = [line.split("#")[0].strip() for line in pip.read_text().splitlines()]
    assert python == ["cryptography>=38.0", "dnspython>=2.4,<3"], pip.read_text()  # never ansible-core itself
    system = bindep.read_text()
    for entry in ("openssh-clients [platform:rpm]  # from collection partnermail.links",
                  "openssh-client [platform:dpkg]  # from collection partnermail.links"):
        assert entry in system, system
