"""The whole chain on rehearsal clusters: start them, write an inventory for them, run playbooks, load them.

Column: rehearsal. The clusters are the project's rehearsal servers (tests/rehearsal/); everything
that runs against them is real: ansible-playbook, helm, the kubernetes.core modules, the app's
uvicorn processes and Debian's Prometheus.
"""

from __future__ import annotations

import secrets
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import yaml

from tests.playbook_runner import REPO, PlaybookRun, run_playbook
from tests.rehearsal import service

HOUSE = {"sqft": 1650, "bedrooms": 3, "bathrooms": 2, "location": "suburban", "year_built": 1998, "condition": "Good"}


@dataclass
class Chain:
    """Rehearsal clusters, an inventory naming them, and the environment a user would have."""

    state: Path
    inventory: Path
    first: int
    count: int
    password: str = field(default_factory=lambda: "e2e-" + secrets.token_hex(8))

    @property
    def hosts(self) -> list[str]:
        return [f"rehearsal-{i}" for i in range(self.first, self.first + self.count)]

    def node(self, host: str) -> str:
        return f"127.0.{host.removeprefix('rehearsal-')}.1"

    def model_url(self, host: str | None = None) -> str:
        return f"http://{self.node(host or self.hosts[0])}:30100"

    def env(self) -> dict[str, str]:
        return {
            "MLMON_GRAFANA_ADMIN_PASSWORD": self.password,
            "MLMON_REHEARSAL_DIR": str(self.state),
            "MLMON_REPO_DIR": str(REPO),
            "KUBECONFIG": str(self.state / "kubeconfig"),
        }

    def play(self, playbook: str = "site.yml", *args: str, extra_vars: dict | None = None) -> PlaybookRun:
        return run_playbook(playbook, *args, inventory=self.inventory, extra_vars=extra_vars, env=self.env())


@contextmanager
def rehearsal_chain(tmp: Path, count: int = 1) -> Iterator[Chain]:
    """Start ``count`` rehearsal clusters and write an inventory with one host per cluster."""
    first = service.free_indices(count)
    state = tmp / "rehearsal"
    inventory = tmp / "inventory"
    inventory.mkdir(parents=True)
    shutil.copytree(REPO / "inventory" / "rehearsal" / "group_vars", inventory / "group_vars")
    hosts = {f"rehearsal-{i}": {} for i in range(first, first + count)}
    (inventory / "hosts.yml").write_text(
        yaml.safe_dump({"all": {"children": {"clusters": {"hosts": hosts}, "kind_clusters": {"hosts": {}}}}})
    )
    if service.start(state, index=first, clusters=count, kubelet_config=service.KUBELET_CONFIG) != 0:
        raise RuntimeError(f"the rehearsal clusters did not start: {(state / 'rehearsal.log').read_text()}")
    try:
        yield Chain(state=state, inventory=inventory / "hosts.yml", first=first, count=count)
    finally:
        service.stop(state)


class PredictLoad:
    """A bounded client loop hitting /predict through the NodePort; counts answers that are not 200."""

    def __init__(self, url: str, max_seconds: float = 300.0) -> None:
        self.url = url
        self.max_seconds = max_seconds
        self.ok = 0
        self.failures: list[str] = []
        self.versions: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        deadline = time.monotonic() + self.max_seconds
        with httpx.Client(timeout=10) as client:
            while not self._stop.is_set() and time.monotonic() < deadline:
                try:
                    answer = client.post(self.url + "/predict", json=HOUSE)
                except httpx.HTTPError as error:
                    self.failures.append(f"{type(error).__name__}: {error}")
                    continue
                if answer.status_code == 200:
                    self.ok += 1
                    self.versions.add(answer.json()["model_version"])
                else:
                    self.failures.append(f"HTTP {answer.status_code}: {answer.text[:200]}")
                time.sleep(0.02)

    def wait_for_version(self, version: str, timeout: float = 60.0) -> None:
        """Keep the load running until an answer comes from ``version`` (bounded).

        The load reuses one keep-alive connection, as real clients do, and kube-proxy balances
        connections, not requests: the switch shows once the old pod closes it, after its preStop wait.
        """
        deadline = time.monotonic() + timeout
        while version not in self.versions and time.monotonic() < deadline:
            time.sleep(0.2)

    def __enter__(self) -> PredictLoad:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
