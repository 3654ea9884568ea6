"""Helpers for the real processes tests start (uvicorn, Prometheus)."""

from __future__ import annotations

import subprocess


def terminate(process: subprocess.Popen[bytes] | None, grace: float = 10.0) -> None:
    """SIGTERM a still-running process, SIGKILL it after ``grace`` seconds, and reap it."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=grace)
