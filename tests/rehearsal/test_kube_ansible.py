"""Column: rehearsal. ansible-playbook with kubernetes.core against the rehearsal apiserver.

Runs tests/rehearsal/playbooks/kube_contract.yml: ``k8s`` apply and server-side apply report
``changed`` once and ``ok`` on the second run, ``state: present`` of an existing object is ``ok``,
``k8s_info`` waits for a CRD to become Established and lists by label, and ``state: absent``
with ``wait`` sees the namespace go away.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.rehearsal.conftest import Kube

PLAYBOOK = Path(__file__).parent / "playbooks" / "kube_contract.yml"


def test_kubernetes_core_is_idempotent(kube: Kube) -> None:
    playbook = shutil.which("ansible-playbook") or str(Path(sys.executable).parent / "ansible-playbook")
    if not Path(playbook).exists():
        pytest.skip("ansible-playbook is not installed")
    done = subprocess.run(
        [playbook, str(PLAYBOOK)],
        env={**kube.cluster.env(), "ANSIBLE_NOCOLOR": "1", "ANSIBLE_LOCALHOST_WARNING": "false"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "failed=0" in done.stdout
