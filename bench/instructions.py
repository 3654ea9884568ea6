"""Instructions per /predict request, counted by callgrind: the figure the throughput rates are too noisy for.

On this shared 2-core VM the same code's instrumented ÷ off throughput ratio moved from 0.900 to
0.930 eleven minutes apart (bench/RESULTS.md, 2026-12-07). Valgrind's callgrind counts instructions,
which do not depend on what else the machine runs (only on which requests happen to bin the drift
counts or start a young collection, a fraction of a percent). Each variant of the service runs as a
real uvicorn server (the image's options) under callgrind, which counts only what the event loop's
thread runs inside ``uv_run`` (every request, not the start-up before the loop), in user space (the
kernel's socket work is the same for every variant and not counted). Each is run twice, with
SHORT_SECONDS and LONG_SECONDS of single-connection wrk on POST /predict: the difference between the
two counts over the difference between the requests served is one request, what the loop did
besides (start-up, /ready polls, shut-down) cancelling out.

Needs valgrind and wrk; the section is not in `make bench`'s default (``python -m bench instructions``).
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from bench.app import CONSTANT_FACTORY, HOUSE, LUA, _requests, _wrk, ensure_model
from tests.app.appserver import AppServer

SHORT_SECONDS = 5
LONG_SECONDS = 20
READY_SECONDS = 300  # start-up under valgrind is some 50 times slower
STOP_SECONDS = 120  # and so is shut-down, after which callgrind prints its count
VARIANTS = ("full", "off", "constant")


@dataclass
class Count:
    requests: int
    instructions: int


def _serve_and_count(variant: str, seconds: int, model: Path, script: Path) -> Count:
    env = {
        "PYTHONHASHSEED": "0",
        "MLMON_MODEL_PATH": str(model),
        "MLMON_METRICS_ENABLED": "false" if variant == "off" else "true",
    }
    with tempfile.TemporaryDirectory() as tmp:
        valgrind = [
            "valgrind",
            "--tool=callgrind",
            "--toggle-collect=uv_run",
            "--cache-sim=no",
            f"--callgrind-out-file={tmp}/callgrind.out",
        ]
        factory = CONSTANT_FACTORY if variant == "constant" else None
        server = AppServer(env=env, factory=factory, wrapper=valgrind).start(ready_timeout=READY_SECONDS)
        try:
            wrk = _wrk(server.url + "/predict", script, 1, seconds)
        finally:
            printed = server.stop(grace=STOP_SECONDS)
    requests = _requests(wrk)  # refuses a run with failed requests
    collected = re.search(r"Collected : (\d+)", printed)
    if collected is None:
        raise RuntimeError(f"callgrind counted nothing for {variant}:\n{printed}")
    return Count(requests, int(collected[1]))


def measure() -> dict[str, tuple[Count, Count]]:
    """(short run, long run) per variant, two servers at a time (one per core)."""
    if shutil.which("valgrind") is None or shutil.which("wrk") is None:
        raise SystemExit("this section needs valgrind and wrk: apt-get install valgrind wrk")
    model = ensure_model()
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "predict.lua"
        script.write_text(LUA % json.dumps(HOUSE))
        with ThreadPoolExecutor(max_workers=2) as pool:
            runs = {
                (variant, seconds): pool.submit(_serve_and_count, variant, seconds, model, script)
                for variant in VARIANTS
                for seconds in (SHORT_SECONDS, LONG_SECONDS)
            }
            return {
                variant: (runs[variant, SHORT_SECONDS].result(), runs[variant, LONG_SECONDS].result())
                for variant in VARIANTS
            }


def per_request(short: Count, long: Count) -> float:
    return (long.instructions - short.instructions) / (long.requests - short.requests)


def report(counts: dict[str, tuple[Count, Count]]) -> list[str]:
    each = {variant: per_request(*runs) for variant, runs in counts.items()}
    rows = [
        f"| {variant} | {short.requests} / {long.requests} | {each[variant]:,.0f} |"
        for variant, (short, long) in counts.items()
    ]
    return [
        "## Instructions per /predict request (`bench/instructions.py`)",
        "",
        "Real uvicorn servers under valgrind's callgrind, the event loop's thread from `uv_run` down, user "
        f"space; single-connection wrk for {SHORT_SECONDS} s and {LONG_SECONDS} s on each, one request the "
        "difference of the counts over the difference of the requests. Instructions do not depend on what else "
        "the machine runs, where the throughput rates above move by several hundredths from run to run.",
        "",
        "| server | requests served (short / long run) | instructions per request |",
        "|---|---|---|",
        *rows,
        "",
        f"Instrumented ÷ off: **{each['off'] / each['full']:.3f}**; full ÷ constant model: "
        f"**{each['constant'] / each['full']:.3f}** (both as throughput would be if the CPU time of a request "
        "followed its instructions).",
        "",
    ]
