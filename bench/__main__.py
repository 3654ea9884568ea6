"""`make bench`: run the benchmarks and write bench/RESULTS.md with the machine's description."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from bench import app, build, instructions, runtimes, site

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
    wrk_version = "no wrk"
    if shutil.which("wrk"):
        wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
        wrk_version = (wrk.stdout or wrk.stderr or "wrk").splitlines()[0]
    host = platform.node() or "this machine"
    return [
        "# Benchmark results",
        "",
        f"Machine: {host}, {os.cpu_count()} cores "
        f"({cpu}), {mem_kb / 1024 / 1024:.0f} GiB, {platform.system()} {platform.release()}, Python "
        f"{platform.python_version()}, {wrk_version}. "
        "Each section says when it was measured; its figures are ratios measured side by side in one run, "
        "absolute numbers depend on the machine. `python -m bench [app|runtimes|site|build-cold ...]` "
        "reruns sections and keeps the others.",
        "",
    ]


SECTIONS = {
    "app": lambda: app.report(app.measure()),
    "runtimes": lambda: runtimes.report(runtimes.measure()),
    "site": lambda: site.report(site.measure()),
    "build-cold": lambda: build.report(build.parse(build.run_cold())),
    "instructions": lambda: instructions.report(instructions.measure()),
}
# `make bench` runs these; the cold build (half an hour) and the instruction counts (valgrind) only when named.
DEFAULT = ["app", "runtimes", "site"]


def _sections(text: str) -> dict[str, list[str]]:
    """The "## " sections of an existing RESULTS.md, by heading."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("## "):
            current = found.setdefault(line, [])
        if current is not None:
            current.append(line)
    return found


def main(argv: list[str]) -> int:
    """Rerun the named sections (default: all but the cold build), keep the others' last figures."""
    names = argv or DEFAULT
    unknown = [name for name in names if name not in SECTIONS]
    if unknown:
        raise SystemExit(f"unknown section(s) {unknown}: choose from {sorted(SECTIONS)}")
    kept = _sections(RESULTS.read_text()) if RESULTS.exists() else {}
    stamp = f"_Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC._"
    for name in names:
        lines = SECTIONS[name]()
        kept[lines[0]] = [lines[0], "", stamp, *lines[1:]]
    body = [line for heading in kept for line in kept[heading]]
    RESULTS.write_text("\n".join(machine() + body) + "\n")
    sys.stdout.write("\n".join(body) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
