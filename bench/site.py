"""Benchmark the kind path: the image build when warm, `kind create cluster`, site.yml first run and rerun,
and the memory the node and the stack hold.

On a fresh kind cluster (tests/e2e/kind.py, the same inventory `make deploy` uses) it times the
kind_cluster play alone (kind create cluster and loading the images built here), then site.yml's first
run and an idempotent rerun, whose writes it reads from the API server's audit log (those of the
roles' clients: kubernetes.core, helm, kubectl). Memory: the node container's cgroup and, inside the
node, the working set of the monitoring namespace's containers (crictl stats), after the rerun.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from tests.e2e.kind import ENGINE, NODE, engine, kind_chain, role_writes
from tests.playbook_runner import REPO

MIB = 1024 * 1024


@dataclass
class KindFigures:
    warm_build_seconds: float
    create_seconds: float
    first_seconds: float
    rerun_seconds: float
    first_writes: int
    rerun_writes: int
    rerun_changed: int
    node_mib: float
    monitoring_mib: float
    model_mib: float

    @property
    def ratio(self) -> float:
        return self.rerun_seconds / self.first_seconds


T = TypeVar("T")


def _timed(run: Callable[[], T]) -> tuple[float, T]:
    started = time.perf_counter()
    result = run()
    return time.perf_counter() - started, result


def _node_memory_mib() -> float:
    stats = json.loads(engine("stats", "--no-stream", "--format", "json", NODE).stdout)
    usage = stats[0]["mem_usage"] if ENGINE == "podman" else stats[0]["MemUsage"]
    value, unit = usage.split("/")[0].strip()[:-2], usage.split("/")[0].strip()[-2:]
    return float(value) * {"kB": 1 / 1024, "MB": 1, "GB": 1024, "iB": 1}.get(unit, 1)


def _namespace_memory_mib(namespace: str) -> float:
    stats = json.loads(engine("exec", NODE, "crictl", "stats", "--output", "json").stdout)["stats"]
    return (
        sum(
            int(item.get("memory", {}).get("workingSetBytes", {}).get("value", 0))
            for item in stats
            if item["attributes"]["labels"].get("io.kubernetes.pod.namespace") == namespace
        )
        / MIB
    )


def measure() -> KindFigures:
    build_seconds, _ = _timed(lambda: subprocess.run(["bash", "images/build.sh"], cwd=REPO, check=True))
    with tempfile.TemporaryDirectory() as tmp, kind_chain(Path(tmp)) as chain:
        create_seconds, created = _timed(lambda: chain.play("site.yml", "--tags", "kind_cluster"))
        if created.returncode != 0:
            raise SystemExit(f"kind_cluster failed:\n{created.tail(60)}")
        mark = len(chain.audit())
        first_seconds, first = _timed(chain.play)
        if first.returncode != 0:
            raise SystemExit(f"site.yml failed on kind:\n{first.tail(60)}")
        events = chain.audit()
        first_writes, mark = len(role_writes(events[mark:])), len(events)
        rerun_seconds, rerun = _timed(chain.play)
        rerun_writes = len(role_writes(chain.audit()[mark:]))
        node = _node_memory_mib()
        monitoring, model = _namespace_memory_mib("monitoring"), _namespace_memory_mib("house-price")
    return KindFigures(
        build_seconds,
        create_seconds,
        first_seconds,
        rerun_seconds,
        first_writes,
        rerun_writes,
        rerun.changed,
        node,
        monitoring,
        model,
    )


def report(fig: KindFigures) -> list[str]:
    return [
        "## kind: build, cluster, site.yml (`bench/site.py`)",
        "",
        f"Container engine: {ENGINE}. `images/build.sh` with warm caches, then a fresh kind cluster: the",
        "kind_cluster play alone (`kind create cluster` and loading the images built here), then",
        "`ansible-playbook site.yml` twice with the same inventory (verify's warm-up load and panel queries",
        "included both times). Writes are read from the API server's audit log.",
        "",
        "| measure | figure | goal |",
        "|---|---|---|",
        f"| `images/build.sh`, warm caches (nothing to build) | {fig.warm_build_seconds:.1f} s | |",
        f"| kind_cluster play: kind create cluster + image load | {fig.create_seconds:.1f} s | |",
        f"| site.yml first run (cluster exists) | {fig.first_seconds:.1f} s, {fig.first_writes} role writes | |",
        f"| idempotent rerun | {fig.rerun_seconds:.1f} s, changed={fig.rerun_changed} | |",
        f"| rerun / first run wall time | **{fig.ratio:.2f}** | ≤ 0.5 |",
        f"| Kubernetes API writes from the roles on the rerun | **{fig.rerun_writes}** | 0 |",
        f"| node container memory (whole cluster) | {fig.node_mib:.0f} MiB | |",
        f"| monitoring namespace, working set | {fig.monitoring_mib:.0f} MiB | |",
        f"| house-price namespace (2 model pods), working set | {fig.model_mib:.0f} MiB | |",
        "",
    ]
