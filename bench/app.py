"""Benchmark the model service side by side: instrumented vs not, single vs batch, latency percentiles.

Everything runs on loopback on this machine, bounded in time: two real uvicorn processes (one with
MLMON_METRICS_ENABLED=false), Debian's `wrk` as the load generator. Rounds alternate between the two
servers so drift on a shared machine hits both alike; the figures are ratios measured in one run.
"""

from __future__ import annotations

import json
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.app.appserver import AppServer

REPO = Path(__file__).resolve().parents[1]
MODEL = REPO / "app" / "house_price" / "artifacts" / "model.joblib"
HOUSE = {"sqft": 1650, "bedrooms": 3, "bathrooms": 2, "location": "suburban", "year_built": 1998, "condition": "Good"}
ROUNDS = 3
SECONDS = 8
CONNECTIONS = 16
BATCH = 1000

LUA = """wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '%s'
"""


@dataclass
class AppFigures:
    rps_instrumented: list[float]
    rps_plain: list[float]
    p50_ms: float
    p99_ms: float
    batch_seconds: float
    singles_seconds: float

    @property
    def throughput_ratio(self) -> float:
        return statistics.median(self.rps_instrumented) / statistics.median(self.rps_plain)

    @property
    def batch_speedup(self) -> float:
        return self.singles_seconds / self.batch_seconds


def _wrk(url: str, script: Path, connections: int, seconds: int, latency: bool = False) -> str:
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(script), url]
    if latency:
        cmd.insert(1, "--latency")
    return subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=seconds + 30).stdout


def _rps(output: str) -> float:
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1])


def _percentile_ms(output: str, pct: str) -> float:
    value, unit = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)$", output, re.MULTILINE).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def _ensure_model() -> Path:
    if not MODEL.exists():
        subprocess.run(
            ["python", "-m", "house_price.train", "--out", str(MODEL)], cwd=REPO / "app", check=True
        )
    return MODEL


def measure() -> AppFigures:
    if shutil.which("wrk") is None:
        raise SystemExit("the benchmark needs wrk on loopback: apt-get install wrk")
    model = _ensure_model()
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "predict.lua"
        script.write_text(LUA % json.dumps(HOUSE))
        env = {"MLMON_MODEL_PATH": str(model)}
        with AppServer(env={**env, "MLMON_METRICS_ENABLED": "true"}) as instrumented, AppServer(
            env={**env, "MLMON_METRICS_ENABLED": "false"}
        ) as plain:
            for server in (instrumented, plain):
                _wrk(server.url + "/predict", script, CONNECTIONS, 2)
            rps_i, rps_p = [], []
            for _ in range(ROUNDS):
                rps_i.append(_rps(_wrk(instrumented.url + "/predict", script, CONNECTIONS, SECONDS)))
                rps_p.append(_rps(_wrk(plain.url + "/predict", script, CONNECTIONS, SECONDS)))
            latency = _wrk(instrumented.url + "/predict", script, 1, SECONDS, latency=True)
            with httpx.Client(base_url=instrumented.url, timeout=30) as client:
                batch_times, single_times = [], []
                for _ in range(ROUNDS):
                    start = time.perf_counter()
                    client.post("/batch-predict", json={"houses": [HOUSE] * BATCH}).raise_for_status()
                    batch_times.append(time.perf_counter() - start)
                    start = time.perf_counter()
                    for _ in range(BATCH):
                        client.post("/predict", json=HOUSE).raise_for_status()
                    single_times.append(time.perf_counter() - start)
    return AppFigures(
        rps_instrumented=rps_i,
        rps_plain=rps_p,
        p50_ms=_percentile_ms(latency, "50"),
        p99_ms=_percentile_ms(latency, "99"),
        batch_seconds=statistics.median(batch_times),
        singles_seconds=statistics.median(single_times),
    )


def report(fig: AppFigures) -> list[str]:
    """Markdown lines for bench/RESULTS.md."""
    return [
        "## Model service (`bench/app.py`)",
        "",
        f"Two real uvicorn processes side by side, wrk with {CONNECTIONS} connections, {ROUNDS} alternating "
        f"rounds of {SECONDS} s each.",
        "",
        "| measure | figure | goal |",
        "|---|---|---|",
        f"| /predict throughput, instrumented | {statistics.median(fig.rps_instrumented):.0f} req/s "
        f"(rounds {', '.join(f'{r:.0f}' for r in fig.rps_instrumented)}) | |",
        f"| /predict throughput, instrumentation off | {statistics.median(fig.rps_plain):.0f} req/s "
        f"(rounds {', '.join(f'{r:.0f}' for r in fig.rps_plain)}) | |",
        f"| throughput ratio instrumented / off | **{fig.throughput_ratio:.3f}** | ≥ 0.95 |",
        f"| single-request latency p50 / p99 (1 connection, instrumented) | {fig.p50_ms:.2f} ms / "
        f"**{fig.p99_ms:.2f} ms** | p99 ≤ 10 ms |",
        f"| {BATCH} rows: 1 /batch-predict vs {BATCH} /predict calls | {fig.batch_seconds * 1000:.0f} ms vs "
        f"{fig.singles_seconds * 1000:.0f} ms: **{fig.batch_speedup:.1f}x** | ≥ 20x |",
        "",
    ]
