"""A user's controller: a venv with nothing but requirements.txt, and the collection from its tarball.

site.yml runs there with the example inventory, its MTAs pointed at a closed loopback port: the validation play
must pass and the run stop at the first connection. A library missing from that venv is hidden from it by a
package of the same name that fails to import, as a missing one does; the failure must then name it.
"""

import os
import shutil
import subprocess
import venv

import pytest

from .playbook_runner import ROOT

UNREACHABLE = ["-e", "ansible_connection=ssh", "-e", "ansible_host=127.0.0.1", "-e", "ansible_port=1"]
PROVISION_PLAY = "PLAY [Provision the partner links]"
VALIDATION_TASK = "TASK [partnermail.links.model : Check the partnermail inventory model of this MTA]"


@pytest.fixture(scope="session")
def controller(tmp_path_factory, collection_tarball):
    """(venv bin directory, collections path) of a controller set up as the README tells a user."""
    base = tmp_path_factory.mktemp("controller")
    env_dir = base / "venv"
    venv.create(env_dir, with_pip=True, system_site_packages=False)
    bin_dir = env_dir / "bin"
    subprocess.run([bin_dir / "pip", "install", "--quiet", "-r", os.path.join(ROOT, "requirements.txt")],
                   check=True, capture_output=True)
    collections = base / "collections"
    subprocess.run([bin_dir / "ansible-galaxy", "collection", "install", "--offline", "-p", str(collections),
                    str(collection_tarball)], check=True, capture_output=True, env=_env(collections))
    return bin_dir, collections


def _env(collections, hidden=None, **extra):
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("ANSIBLE_", "PYTHON", "VIRTUAL_ENV"))}
    env.update(ANSIBLE_COLLECTIONS_PATH=str(collections), ANSIBLE_NOCOLOR="1", ANSIBLE_HOST_KEY_CHECKING="false",
               ANSIBLE_TIMEOUT="3", ANSIBLE_RETRY_FILES_ENABLED="false", ANSIBLE_LOCALHOST_WARNING="false",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="false", **extra)
    if hidden:
        env["PYTHONPATH"] = str(hidden)
    return env


def _hide(tmp_path, package):
    """A directory that, first on PYTHONPATH, makes ``import package`` fail as if it were not installed."""
    shadow = tmp_path / "hidden" / package
    shadow.mkdir(parents=True)
    message = f"No module named {package!r} (hidden by the test)"
    (shadow / "__init__.py").write_text(f"raise ImportError({message!r})\n")
    return shadow.parent


def _site(controller, tmp_path, hidden=None):
    bin_dir, collections = controller
    inventory = tmp_path / "examples" / "inventory"
    shutil.copytree(os.path.join(ROOT, "examples", "inventory"), inventory)
    proc = subprocess.run([bin_dir / "ansible-playbook", "-i", str(inventory), "partnermail.links.site", *UNREACHABLE],
                          cwd=tmp_path, capture_output=True, text=True, check=False, env=_env(collections, hidden))
    return proc.returncode, proc.stdout + proc.stderr


def _recap(output):
    """{host: {counter: value}} of the PLAY RECAP."""
    recap = output.split("PLAY RECAP")[-1]
    hosts = {}
    for line in recap.splitlines():
        if " : ok=" in line:
            host, counters = line.split(" : ", 1)
            hosts[host.strip()] = {k: int(v) for k, v in (pair.split("=") for pair in counters.split())}
    return hosts


def test_site_yml_validates_the_example_inventory_with_only_requirements_txt(controller, tmp_path):
    rc, output = _site(controller, tmp_path)
    assert rc != 0, output
    assert VALIDATION_TASK in output and PROVISION_PLAY in output, output
    recap = _recap(output)
    assert set(recap) == {"mx.a.test", "mx.b.test"}, output
    assert all(host["unreachable"] == 1 and host["failed"] == 0 and host["changed"] == 0
               for host in recap.values()), output


def test_without_cryptography_site_yml_names_it_before_contacting_a_host(controller, tmp_path):
    rc, output = _site(controller, tmp_path, hidden=_hide(tmp_path, "cryptography"))
    assert rc != 0
    assert "has no Python library cryptography" in output and "cryptography >= 38.0" in output, output
    assert PROVISION_PLAY not in output, output
    assert all(host["unreachable"] == 0 for host in _recap(output).values()), output


def test_without_dnspython_a_dns_module_on_the_controller_names_it(controller, tmp_path):
    bin_dir, collections = controller
    proc = subprocess.run(
        [bin_dir / "ansible", "localhost", "-i", "localhost,", "-c", "local", "-m", "partnermail.links.mx_info",
         "-a", "domain=b.test", "-e", f"ansible_python_interpreter={bin_dir / 'python'}"],
        capture_output=True, text=True, check=False,
        env=_env(collections, _hide(tmp_path, "dns")))
    assert proc.returncode != 0
    assert "Failed to import the required Python library (dnspython >= 2.3)" in proc.stdout, proc.stdout + proc.stderr
