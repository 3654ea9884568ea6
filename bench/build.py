"""Benchmark `images/build.sh` from cold caches: every Go module downloaded and compiled, every Debian
rootfs bootstrapped, every image built, in caches of its own (MLMON_CACHE, GOCACHE, GOMODCACHE and a
separate podman image store under one temporary directory), so the warm caches stay as they are.

``python -m bench.build [--log FILE]``: runs the cold build (about half an hour on 2 cores) and prints
its section of RESULTS.md; with ``--log`` it reads the log of such a run instead of running one.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.playbook_runner import REPO

STEP = re.compile(r"^\[(?:images|node) [0-9:]+\] (?P<name>.+?):? (?:built|assembled) in (?P<seconds>\d+) s$")
TOTAL = re.compile(r"^\[images [0-9:]+\] done in (?P<seconds>\d+) s$")


@dataclass
class BuildFigures:
    total_seconds: int
    steps: list[tuple[str, int]]


def parse(log: str) -> BuildFigures:
    steps = [(m["name"], int(m["seconds"])) for m in map(STEP.match, log.splitlines()) if m]
    totals = [int(m["seconds"]) for m in map(TOTAL.match, log.splitlines()) if m]
    if not totals:
        raise SystemExit("the build log has no 'done in' line: the build did not finish")
    return BuildFigures(totals[-1], steps)


def run_cold() -> str:
    with tempfile.TemporaryDirectory(prefix="mlmon-cold-") as tmp:
        root = Path(tmp)
        storage = root / "storage.conf"
        storage.write_text(
            f'[storage]\ndriver = "overlay"\ngraphroot = "{root}/podman-root"\nrunroot = "{root}/podman-run"\n'
        )
        env = {
            **os.environ,
            "MLMON_CACHE": str(root / "cache"),
            "GOCACHE": str(root / "gocache"),
            "GOMODCACHE": str(root / "gomod"),
            "CONTAINERS_STORAGE_CONF": str(storage),
        }
        try:
            run = subprocess.run(
                ["bash", "images/build.sh"], cwd=REPO, env=env, capture_output=True, text=True, check=True
            )
        finally:
            subprocess.run(["chmod", "-R", "u+w", tmp], check=False)
        return run.stderr + run.stdout


def report(fig: BuildFigures) -> list[str]:
    rows = [f"| {name} | {seconds} s |" for name, seconds in fig.steps]
    return [
        "## Image build from cold caches (`bench/build.py`)",
        "",
        "`images/build.sh` with empty caches of its own: Go modules downloaded and compiled, Debian rootfs",
        "trees bootstrapped, every image built and the node assembled. A warm rerun builds nothing (next",
        "section).",
        "",
        f"**Total: {fig.total_seconds} s ({fig.total_seconds / 60:.1f} min).**",
        "",
        "| step | wall time |",
        "|---|---|",
        *rows,
        "",
    ]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.build")
    parser.add_argument("--log", type=Path, help="read the log of a cold build instead of running one")
    args = parser.parse_args(argv)
    log = args.log.read_text() if args.log else run_cold()
    sys.stdout.write("\n".join(report(parse(log))) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
