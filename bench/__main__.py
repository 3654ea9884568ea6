"""`make bench`: run the benchmarks and write bench/RESULTS.md with the machine's description."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from bench import app, site

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def machine() -> list[str]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    mem_kb = int(
        next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
    )
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    wrk_version = (wrk.stdout or wrk.stderr or "wrk").splitlines()[0]
    host = platform.node() or "this machine"
    return [
        "# Benchmark results",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {host}: {os.cpu_count()} cores "
        f"({cpu}), {mem_kb / 1024 / 1024:.0f} GiB, {platform.system()} {platform.release()}, Python "
        f"{platform.python_version()}, {wrk_version}. "
        "Figures are ratios measured side by side in one run; absolute numbers depend on the machine.",
        "",
    ]


def rehearsal_server() -> list[str]:
    run = subprocess.run(
        [sys.executable, "-m", "bench.rehearsal_server"],
        cwd=RESULTS.parents[1],
        capture_output=True,
        text=True,
        check=True,
    )
    return [
        "## Rehearsal API server (`bench/rehearsal_server.py`)",
        "",
        "Cold start, CRD registration and memory with 500 objects (goals: < 2 s to serve a new CRD kind from a",
        "cold start, < 200 MB).",
        "",
        "```",
        *run.stdout.splitlines(),
        "```",
        "",
    ]


def main() -> int:
    sections = machine() + app.report(app.measure()) + site.report(site.measure()) + rehearsal_server()
    RESULTS.write_text("\n".join(sections))
    sys.stdout.write("\n".join(sections) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
