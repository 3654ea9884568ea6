"""A container as a local process: started in its own session (process group) with its stdout
and stderr copied into a CRI-format log file (podlogs.py), stopped with SIGTERM to the group, then
SIGKILL when the grace period runs out. Exit statuses read as a container runtime reports them
(128 + signal number). When the main process exits the rest of its group is killed and its output
is drained into the log (for at most :data:`DRAIN_SECONDS`, in case a process that left the group
keeps the pipes open) before ``wait`` returns."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path

from .podlogs import LogWriter

DRAIN_SECONDS = 2.0
LAUNCHER = Path(__file__).with_name("launch.py")


def exit_code(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else returncode


class ContainerProcess:
    def __init__(self, proc: asyncio.subprocess.Process, log_path: Path, writer: LogWriter) -> None:
        self.proc = proc
        self.log_path = log_path
        self._writer = writer
        assert proc.stdout is not None and proc.stderr is not None
        self._copies = [
            asyncio.create_task(writer.copy(proc.stdout, "stdout")),
            asyncio.create_task(writer.copy(proc.stderr, "stderr")),
        ]
        self._drained: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    @classmethod
    async def start(
        cls, argv: list[str], cwd: str, env: dict[str, str], log_path: Path
    ) -> ContainerProcess:
        """Raises OSError when the working directory or the launcher cannot be used."""
        writer = LogWriter(log_path)
        try:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-I", "-S", str(LAUNCHER), str(os.getpid()), *argv,
                cwd=cwd, env=env, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE, start_new_session=True,
            )
        except OSError:
            writer.close()
            raise
        return cls(proc, log_path, writer)

    async def _drain(self) -> None:
        _, late = await asyncio.wait(self._copies, timeout=DRAIN_SECONDS)
        self.close()
        if late:
            await asyncio.gather(*late, return_exceptions=True)

    def close(self) -> None:
        """Stop copying output and close the log (the process is gone or being abandoned)."""
        for task in self._copies:
            task.cancel()
        self._writer.close()

    async def wait(self) -> int:
        """The exit code, once the output is in the log. What else ran in the container (its
        process group) is killed with it, as the processes of a container's PID namespace are."""
        code = exit_code(await self.proc.wait())
        self.signal_group(signal.SIGKILL)
        if self._drained is None:
            self._drained = asyncio.ensure_future(self._drain())
        await asyncio.shield(self._drained)
        return code

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
        return await self.wait()
