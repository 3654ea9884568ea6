"""`molecule test -s <role>` for every role scenario, exactly as the README tells users to run it.

Column: kind (molecule's create step creates the kind cluster as site.yml does and
destroy deletes it; where no Docker engine answers, kind's podman provider with the images `make
images` built, MLMON_IMAGES=offline). The full sequence: destroy, syntax, create, prepare, converge,
idempotence, verify, destroy.
"""

from __future__ import annotations

import re
import secrets
import subprocess

import pytest

from tests.e2e.kind import ENGINE
from tests.playbook_runner import BIN, REPO, playbook_env

pytestmark = pytest.mark.timeout(1500)
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def molecule(*args: str) -> subprocess.CompletedProcess[str]:
    env = playbook_env(
        {
            "MLMON_IMAGES": "registry" if ENGINE == "docker" else "offline",
            "MLMON_GRAFANA_ADMIN_PASSWORD": "mol-" + secrets.token_hex(8),
        }
    )
    env.pop("ANSIBLE_CONFIG")  # molecule writes its own, from .config/molecule/config.yml
    return subprocess.run(
        [str(BIN / "molecule"), *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=1480, check=False
    )


@pytest.mark.parametrize(
    "scenario", ["kind_cluster", "prometheus_stack", "model_deployment", "service_monitor", "grafana_dashboards"]
)
def test_scenario_converges_is_idempotent_and_verifies(scenario: str) -> None:
    run = molecule("test", "-s", scenario)
    output = ANSI.sub("", run.stdout + run.stderr)
    assert run.returncode == 0, "\n".join(output.splitlines()[-80:])
    for step in ("converge", "idempotence", "verify"):
        # molecule writes "➜" on a UTF-8 console and ">" otherwise.
        done = re.compile(rf"{scenario} (?:➜|>) {step}: Executed: Successful")
        assert done.search(output), f"{step} did not run successfully"
