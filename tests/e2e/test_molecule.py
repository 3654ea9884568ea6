"""`molecule test -s <role>` for every role scenario, exactly as the README tells users to run it.

Column: rehearsal (MLMON_CLUSTER=rehearsal: molecule's create step starts the rehearsal cluster; the
roles run through the real ansible-playbook, helm and kubernetes.core). The same scenarios run on kind
with MLMON_CLUSTER=kind for users with Docker; that path is not run here. kind_cluster's scenario needs
Docker, so only its syntax is checked.
"""

from __future__ import annotations

import re
import secrets
import subprocess

import pytest

from tests.playbook_runner import BIN, REPO, playbook_env

pytestmark = pytest.mark.timeout(900)
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def molecule(*args: str) -> subprocess.CompletedProcess[str]:
    env = playbook_env({"MLMON_CLUSTER": "rehearsal", "MLMON_GRAFANA_ADMIN_PASSWORD": "mol-" + secrets.token_hex(8)})
    env.pop("ANSIBLE_CONFIG")  # molecule writes its own, from .config/molecule/config.yml
    return subprocess.run(
        [str(BIN / "molecule"), *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=880, check=False
    )


@pytest.mark.parametrize("scenario", ["prometheus_stack", "model_deployment", "service_monitor", "grafana_dashboards"])
def test_scenario_converges_is_idempotent_and_verifies(scenario: str) -> None:
    run = molecule("test", "-s", scenario)
    output = ANSI.sub("", run.stdout + run.stderr)
    assert run.returncode == 0, "\n".join(output.splitlines()[-80:])
    for step in ("converge", "idempotence", "verify"):
        # molecule writes "➜" on a UTF-8 console and ">" otherwise.
        done = re.compile(rf"{scenario} (?:➜|>) {step}: Executed: Successful")
        assert done.search(output), f"{step} did not run successfully"


def test_kind_cluster_scenario_is_syntactically_valid() -> None:
    run = molecule("syntax", "-s", "kind_cluster")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
