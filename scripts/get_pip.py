"""Stand-in for the pip bootstrap script ansible-test downloads (its host is out of reach here).

ansible-test creates each sanity venv without pip, then runs this file with pip-install arguments
(``pip==24.2``, ``--no-setuptools``...). The same result comes from the interpreter's bundled pip
(ensurepip) upgraded to the requested version from the package index. ensurepip runs in a child process:
in this one it would turn off pip's configuration (the index and certificate settings) for the install too.
"""

import subprocess
import sys

GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}

subprocess.run([sys.executable, "-m", "ensurepip", "--upgrade"], check=True, capture_output=True)
subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",
                *[arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]], check=True)
