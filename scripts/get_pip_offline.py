"""ansible-test's pip bootstrap, for machines that cannot reach ci-files.testing.ansible.com.

ansible-test bootstraps pip into each of its virtual environments with a ``get-pip.py`` it downloads from
that host, or takes from ``~/.ansible/test/cache/get_pip_<version>.py``; scripts/ansible_sanity.sh puts
this file there. Written by hand because no package ships such a script: it gets pip from the
interpreter's own ensurepip, then installs the packages ansible-test asks for (pip at its pinned version)
from the package index. get-pip's own ``--no-setuptools``/``--no-wheel`` are dropped: ensurepip installs
neither wheel nor anything ansible-test later relies on.
"""

import ensurepip
import os
import subprocess
import sys

BUNDLE = "/etc/ssl/certs/ca-certificates.crt"

ensurepip.bootstrap(upgrade=True)
args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
# ansible-test runs this with a clean environment: name the system's CA bundle (a proxy's CA is in it).
cert = ["--cert", BUNDLE] if os.path.exists(BUNDLE) else []
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", *cert, *args]))
