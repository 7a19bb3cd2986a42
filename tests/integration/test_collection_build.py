"""The collection builds with ansible-galaxy, installs from the tarball and its modules work from there."""

import json
import os
import subprocess
import sys
import tarfile

BIN = os.path.dirname(sys.executable)


def test_built_tarball_installs_and_works(tmp_path, collection_tarball):
    tarball = collection_tarball
    with tarfile.open(tarball) as tar:
        names = tar.getnames()
    for shipped in ("plugins/modules/certificate.py", "roles/postfix/tasks/main.yml", "playbooks/site.yml",
                    "meta/runtime.yml", "LICENSE", "README.md", "changelogs/changelog.yaml", "CHANGELOG.rst",
                    "requirements.txt",
                    "examples/inventory/hosts.yml", "meta/execution-environment.yml", "bindep.txt",
                    "roles/health/files/partnermail-alerts.yml"):
        assert shipped in names, shipped
    development = (".venv", ".collections", ".git/", "tests", "bench", "scripts", "molecule", "Makefile",
                   "requirements-test.txt", "ruff.toml", ".ansible-lint", ".yamllint", ".ci", ".cache")
    assert not [n for n in names if n.split("/")[0] in development], names

    install = tmp_path / "installed"
    # Only the tarball may provide the collection: with the checkout on the collections path, ansible-galaxy
    # would find it "already installed" and install nothing.
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(install), ANSIBLE_LOCALHOST_WARNING="false",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
    subprocess.run([f"{BIN}/ansible-galaxy", "collection", "install", "--offline", "--force", "-p", str(install),
                    str(tarball)], check=True, capture_output=True, env=env)
    assert (install / "ansible_collections" / "partnermail" / "links" / "MANIFEST.json").exists()
    key = tmp_path / "mta.key"
    proc = subprocess.run(
        [f"{BIN}/ansible", "localhost", "-i", "localhost,", "-c", "local", "-m", "partnermail.links.private_key",
         "-a", json.dumps({"path": str(key)}), "-e", json.dumps({"ansible_python_interpreter": sys.executable}),
         "-o"],
        env=env, capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "CHANGED" in proc.stdout and str(install) in subprocess.run(
        [f"{BIN}/ansible-doc", "--list_files", "partnermail.links"], env=env, capture_output=True, text=True,
        check=False).stdout
    assert key.exists()
