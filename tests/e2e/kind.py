"""The whole chain on a real kind cluster, driven as a user drives it: site.yml, the inventory, the env.

Column: kind. ``make test`` builds the node image and every image first (``make images``); where no
Docker engine answers, kind runs through its podman provider and the inventory is
``-i inventory/local -i inventory/offline``, exactly what ``make deploy`` uses. The cluster is kind's
``mlmon`` (its NodePorts 30100/30200/30300 are fixed on the host, so one at a time): a cluster of that
name left by an earlier run is deleted first.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.playbook_runner import BIN, REPO, PlaybookRun, playbook_env, run_playbook

CLUSTER = "mlmon"
NODE = f"{CLUSTER}-control-plane"
AUDIT_LOG = "/var/log/kubernetes/audit/kube-apiserver.log"
# The clients the roles write through: kubernetes.core (the Python client), helm, kubectl.
ROLE_CLIENTS = ("OpenAPI-Generator", "Helm", "kubectl")


def docker_engine() -> bool:
    """Whether a Docker engine answers, as the Makefile decides between the two inventories."""
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, check=False).returncode == 0


ENGINE = "docker" if docker_engine() else "podman"
INVENTORY = ("-i", "inventory/local") if ENGINE == "docker" else ("-i", "inventory/local", "-i", "inventory/offline")
ENGINE_ENV = {} if ENGINE == "docker" else {"CONTAINERS_CONF": str(REPO / "roles/kind_cluster/files/containers.conf")}


def engine(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ENGINE, *args], env={**os.environ, **ENGINE_ENV}, capture_output=True, text=True, check=check
    )


def kind(*args: str) -> subprocess.CompletedProcess[str]:
    env = playbook_env({**ENGINE_ENV, "KIND_EXPERIMENTAL_PROVIDER": ENGINE})
    return subprocess.run([str(BIN / "kind"), *args], env=env, capture_output=True, text=True, check=False)


def delete_cluster() -> None:
    if CLUSTER in kind("get", "clusters").stdout.split():
        kind("delete", "cluster", "--name", CLUSTER)


@dataclass
class KindChain:
    """A kind cluster created by site.yml, its kubeconfig outside the user's ~/.kube, the user's env."""

    state: Path
    password: str = field(default_factory=lambda: "e2e-" + secrets.token_hex(8))
    model_url: str = "http://127.0.0.1:30100"

    @property
    def kubeconfig(self) -> Path:
        return self.state / "kubeconfig"

    def env(self) -> dict[str, str]:
        return {
            "MLMON_GRAFANA_ADMIN_PASSWORD": self.password,
            "MLMON_KIND_AUDIT_LOG": "true",
            "MLMON_REPO_DIR": str(REPO),
        }

    def play(self, playbook: str = "site.yml", *args: str, extra_vars: dict | None = None) -> PlaybookRun:
        variables = {"mlmon_kubeconfig": str(self.kubeconfig), **(extra_vars or {})}
        return run_playbook(playbook, *INVENTORY, *args, extra_vars=variables, env=self.env(), timeout=1500)

    def kubectl(self, *args: str) -> str:
        return subprocess.run(
            [str(BIN / "kubectl"), "--kubeconfig", str(self.kubeconfig), *args],
            env={"PATH": str(BIN), "HOME": str(self.state)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    def audit(self) -> list[dict]:
        """Every write the API server logged (the cluster's audit policy logs writes only)."""
        log = engine("exec", NODE, "cat", AUDIT_LOG).stdout
        return [json.loads(line) for line in log.splitlines()]


def role_writes(events: list[dict]) -> list[str]:
    """The writes the roles sent: by the admin user, through kubernetes.core, helm or kubectl."""
    return [
        f"{event['verb']} {event['objectRef'].get('resource')}/{event['objectRef'].get('name')} ({event['userAgent']})"
        for event in events
        if event["user"]["username"] == "kubernetes-admin" and event.get("userAgent", "").startswith(ROLE_CLIENTS)
    ]


@contextmanager
def kind_chain(tmp: Path) -> Iterator[KindChain]:
    """A fresh kind cluster for the module's tests; deleted afterwards whatever they did."""
    delete_cluster()
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        yield KindChain(state=tmp)
    finally:
        delete_cluster()
