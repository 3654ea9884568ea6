"""Benchmark site.yml on a rehearsal cluster: first run vs idempotent rerun, and the rerun's write calls.

Starts a fresh rehearsal cluster, runs ``ansible-playbook site.yml`` twice with the same inventory and
reads the API server's request log for the writes (POST/PUT/PATCH/DELETE) the roles sent during the
rerun: those from the kubernetes.core modules (python client) and helm. The cluster's own controllers
and the operator stand-in keep writing status, as on a real cluster, and are not counted.
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.chain import rehearsal_chain

ROLE_AGENTS = ("OpenAPI-Generator", "Helm", "kubectl")
WRITES = ("POST", "PUT", "PATCH", "DELETE")


@dataclass
class SiteFigures:
    first_seconds: float
    rerun_seconds: float
    first_writes: int
    rerun_writes: int
    rerun_changed: int

    @property
    def ratio(self) -> float:
        return self.rerun_seconds / self.first_seconds


def _role_writes(log: Path, since: int) -> tuple[int, int]:
    lines = log.read_text().splitlines()
    writes = [
        r for r in map(json.loads, lines[since:]) if r["method"] in WRITES and r["user_agent"].startswith(ROLE_AGENTS)
    ]
    return len(writes), len(lines)


def measure() -> SiteFigures:
    with tempfile.TemporaryDirectory() as tmp, rehearsal_chain(Path(tmp)) as chain:
        log = chain.state / chain.hosts[0] / "requests.jsonl"
        mark = len(log.read_text().splitlines())
        started = time.perf_counter()
        first = chain.play()
        first_seconds = time.perf_counter() - started
        if first.returncode != 0:
            raise SystemExit(f"site.yml failed on the rehearsal cluster:\n{first.tail(60)}")
        first_writes, mark = _role_writes(log, mark)
        started = time.perf_counter()
        rerun = chain.play()
        rerun_seconds = time.perf_counter() - started
        rerun_writes, _ = _role_writes(log, mark)
    return SiteFigures(first_seconds, rerun_seconds, first_writes, rerun_writes, rerun.changed)


def report(fig: SiteFigures) -> list[str]:
    return [
        "## site.yml on the rehearsal cluster (`bench/site.py`)",
        "",
        "A fresh rehearsal cluster, `ansible-playbook site.yml` twice with the same inventory (the verify role, which",
        "sends the same warm-up load and panel queries both times, included).",
        "",
        "| measure | figure | goal |",
        "|---|---|---|",
        f"| first run | {fig.first_seconds:.1f} s, {fig.first_writes} write calls from the roles | |",
        f"| idempotent rerun | {fig.rerun_seconds:.1f} s, changed={fig.rerun_changed} | |",
        f"| rerun / first run wall time | **{fig.ratio:.2f}** | ≤ 0.5 |",
        f"| Kubernetes API write calls on the rerun | **{fig.rerun_writes}** | 0 |",
        "",
    ]
