"""Start and stop the Grafana stand-in as a process (used by fixtures and tests).

:func:`running_grafana` runs ``python -m testbed.grafana_standin --port 0`` on loopback
with a random admin password in ``GF_SECURITY_ADMIN_PASSWORD`` and a request log in a
work directory, waits for the ready line, and on exit sends SIGTERM and waits.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import select
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from .requestlog import read

REPO_ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT_SECONDS = 20.0
STOP_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class GrafanaStandin:
    """A running Grafana stand-in and how to reach it."""

    url: str
    admin_user: str
    admin_password: str
    request_log: Path
    process: subprocess.Popen[str]

    @property
    def admin_auth(self) -> tuple[str, str]:
        return (self.admin_user, self.admin_password)

    def requests(self) -> list[dict[str, object]]:
        """Every request answered so far, oldest first."""
        return read(self.request_log)


def grafana_command(*extra_args: str) -> list[str]:
    return [sys.executable, "-m", "testbed.grafana_standin", "--host", "127.0.0.1",
            "--port", "0", *extra_args]


def grafana_environment(**settings: str) -> dict[str, str]:
    """The current environment without ``GF_*`` settings, plus ``settings``."""
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith("GF_")}
    environment.update(settings)
    return environment


@contextlib.contextmanager
def running_grafana(workdir: Path, extra_args: Sequence[str] = (), admin_user: str = "admin",
                    password_in_file: bool = False) -> Iterator[GrafanaStandin]:
    """Start a Grafana stand-in, yield it once it listens, stop it on exit.

    With ``password_in_file`` the password is passed as ``GF_SECURITY_ADMIN_PASSWORD__FILE``.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(12)
    request_log = workdir / "grafana-requests.jsonl"
    stderr_path = workdir / "grafana-stderr.log"
    settings = {"GF_SECURITY_ADMIN_USER": admin_user, "GF_SECURITY_ADMIN_PASSWORD": password}
    if password_in_file:
        password_file = workdir / "admin-password"
        password_file.write_text(password + "\n")
        del settings["GF_SECURITY_ADMIN_PASSWORD"]
        settings["GF_SECURITY_ADMIN_PASSWORD__FILE"] = str(password_file)
    with stderr_path.open("w") as stderr:
        process = subprocess.Popen(
            grafana_command("--request-log", str(request_log), *extra_args),
            cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=stderr, text=True,
            env=grafana_environment(**settings))
    try:
        url = _wait_until_ready(process, stderr_path)
        yield GrafanaStandin(url=url, admin_user=admin_user, admin_password=password,
                               request_log=request_log, process=process)
    finally:
        stop(process)


def _wait_until_ready(process: subprocess.Popen[str], stderr_path: Path) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while (remaining := deadline - time.monotonic()) > 0:
        readable, _, _ = select.select([process.stdout], [], [], remaining)
        if not readable:
            break
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"grafana stand-in exited early:\n{stderr_path.read_text()}")
        event = json.loads(line)
        if event.get("event") == "ready":
            return str(event["url"])
    raise RuntimeError(f"grafana stand-in not ready in {READY_TIMEOUT_SECONDS}s:\n"
                       f"{stderr_path.read_text()}")


def stop(process: subprocess.Popen[str]) -> int:
    """SIGTERM the process and wait for it; kill it only if it does not stop."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdout is not None:
        process.stdout.close()
    return process.returncode
