"""pytest fixture ``rehearsal_cluster``: the rehearsal Kubernetes API in a subprocess.

It runs ``python -m tests.rehearsal up`` (one cluster at the first free index that
``service.free_indices`` finds, any free port), waits for its ``ready`` line and yields a :class:`RehearsalCluster`
with the kubeconfig, context, URL, token and request log; at the end of the session it sends
SIGTERM and waits for the process (and so every pod process) to exit. ``start_cluster`` is the
same thing as a context manager, for tests that need a cluster with other settings.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.rehearsal.service import EXIT_INDEX_TAKEN, free_indices

REPO = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0
# Another session may claim the index found free before this cluster does: pick again, a few times.
INDEX_ATTEMPTS = 5
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


@dataclass
class RehearsalCluster:
    kubeconfig: Path
    context: str
    url: str
    token: str
    request_log: Path
    ca_file: Path
    state_dir: Path
    info: dict[str, Any]

    def env(self) -> dict[str, str]:
        """Environment for kubectl/helm/ansible: this kubeconfig, caches kept in the state dir."""
        home = self.state_dir / "home"
        home.mkdir(exist_ok=True)
        return {
            **os.environ,
            "KUBECONFIG": str(self.kubeconfig),
            "HOME": str(home),
            "KUBECACHEDIR": str(home / "kube-cache"),
            "HELM_CACHE_HOME": str(home / "helm-cache"),
            "HELM_CONFIG_HOME": str(home / "helm-config"),
            "HELM_DATA_HOME": str(home / "helm-data"),
        }

    def requests(self) -> list[dict[str, Any]]:
        if not self.request_log.exists():
            return []
        return [json.loads(line) for line in self.request_log.read_text().splitlines() if line.strip()]

    def mark(self) -> int:
        """A position in the request log; pass it to ``writes`` to see only later requests."""
        return len(self.requests())

    def writes(self, since: int = 0, user_agent: str = "") -> list[dict[str, Any]]:
        return [
            r
            for r in self.requests()[since:]
            if r["method"] in WRITE_METHODS and r["user_agent"].startswith(user_agent)
        ]


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=STOP_TIMEOUT)


class IndexTakenError(RuntimeError):
    """The cluster exited because another one claimed its index first."""


def _read_ready(proc: subprocess.Popen[str]) -> dict[str, Any]:
    assert proc.stdout is not None
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            if proc.returncode == EXIT_INDEX_TAKEN:
                raise IndexTakenError("another rehearsal cluster claimed the index")
            raise RuntimeError(f"rehearsal cluster exited with {proc.returncode}")
        ready, _, _ = select.select([proc.stdout], [], [], 0.5)
        if ready:
            line = proc.stdout.readline()
            if line.strip().startswith("{"):
                event = json.loads(line)
                if event.get("event") == "ready":
                    return event
    raise RuntimeError("rehearsal cluster did not become ready")


def _launch(state_dir: Path, extra: tuple[str, ...], log: Any) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    """Start one cluster at a free index (again at another when it is claimed under our feet)."""
    for _ in range(INDEX_ATTEMPTS):
        index = free_indices(1)
        command = [
            sys.executable, "-m", "tests.rehearsal", "up", "--clusters", "1", "--state-dir", str(state_dir),
            "--index-offset", str(index - 1), *extra,
        ]
        proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=log, text=True)
        try:
            return proc, _read_ready(proc)
        except IndexTakenError:
            assert proc.stdout is not None
            proc.stdout.close()
            continue
        except BaseException:
            _stop(proc)
            raise
    raise RuntimeError(f"no free rehearsal cluster index after {INDEX_ATTEMPTS} attempts")


@contextlib.contextmanager
def start_cluster(state_dir: Path, *extra: str) -> Iterator[RehearsalCluster]:
    """Run one rehearsal cluster, at the first free index, until the block ends."""
    state_dir.mkdir(parents=True, exist_ok=True)
    with (state_dir / "cluster.log").open("w") as log:
        proc, ready = _launch(state_dir, extra, log)
        try:
            name, info = next(iter(ready["clusters"].items()))
            yield RehearsalCluster(
                kubeconfig=Path(ready["kubeconfig"]),
                context=info["context"],
                url=info["url"],
                token=info["token"],
                request_log=Path(info["request_log"]),
                ca_file=Path(info["ca_file"]),
                state_dir=state_dir,
                info={"name": name, **info},
            )
        finally:
            _stop(proc)


@pytest.fixture(scope="session")
def rehearsal_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RehearsalCluster]:
    """A rehearsal Kubernetes cluster shared by the session (tests use their own namespaces)."""
    with start_cluster(tmp_path_factory.mktemp("rehearsal-cluster"), "--bookmark-interval", "1") as cluster:
        yield cluster
