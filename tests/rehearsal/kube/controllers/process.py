"""A container as a local process: started in its own session (process group) with its output
appended to a log file, stopped with SIGTERM to the group, then SIGKILL when the grace period
runs out. Exit statuses read as a container runtime reports them (128 + signal number)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path

LAUNCHER = Path(__file__).with_name("launch.py")


def exit_code(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else returncode


class ContainerProcess:
    def __init__(self, proc: asyncio.subprocess.Process, log_path: Path) -> None:
        self.proc = proc
        self.log_path = log_path

    @property
    def pid(self) -> int:
        return self.proc.pid

    @classmethod
    async def start(
        cls, argv: list[str], cwd: str, env: dict[str, str], log_path: Path
    ) -> ContainerProcess:
        """Raises OSError when the working directory or the launcher cannot be used."""
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab") as log:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-I", "-S", str(LAUNCHER), str(os.getpid()), *argv,
                cwd=cwd, env=env, stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log,
                start_new_session=True,
            )
        return cls(proc, log_path)

    async def wait(self) -> int:
        return exit_code(await self.proc.wait())

    def signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signum)

    async def stop(self, grace: float) -> int:
        """SIGTERM the process group, SIGKILL it after ``grace`` seconds; the exit code."""
        self.signal_group(signal.SIGTERM)
        try:
            await asyncio.wait_for(asyncio.shield(self.proc.wait()), max(grace, 0.0))
        except TimeoutError:
            self.signal_group(signal.SIGKILL)
        code = await self.wait()
        self.signal_group(signal.SIGKILL)
        return code
