"""The real Prometheus binary as a child process: start, wait until ready, reload, stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import subprocess
from pathlib import Path

import aiohttp

from .version import PROMETHEUS

log = logging.getLogger(__name__)

PROMTOOL = "/usr/bin/promtool"
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0


class ConfigRejected(ValueError):
    """promtool check config refused a configuration."""


def check_config(path: Path, promtool: str = PROMTOOL) -> None:
    """Run ``promtool check config`` on ``path``; raise :class:`ConfigRejected` if it fails."""
    done = subprocess.run([promtool, "check", "config", str(path)], capture_output=True,
                          text=True, timeout=60, check=False)
    if done.returncode != 0:
        raise ConfigRejected((done.stdout + done.stderr).strip())


class PrometheusProcess:
    """One ``prometheus`` server listening on ``address`` (host:port)."""

    def __init__(self, args: list[str], address: str, binary: str = PROMETHEUS,
                 log_file: Path | None = None) -> None:
        self.argv = [binary, *args, f"--web.listen-address={address}"]
        self.url = f"http://{address}"
        self._log_file = log_file
        self._proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        output = self._log_file.open("ab") if self._log_file else None
        try:
            self._proc = await asyncio.create_subprocess_exec(
                *self.argv, stdin=subprocess.DEVNULL, stdout=output, stderr=output)
        finally:
            if self._log_file:
                output.close()

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    async def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        """Poll ``/-/ready`` until it answers 200, the process dies, or ``timeout`` passes."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with aiohttp.ClientSession() as http:
            while loop.time() < deadline:
                if not self.running:
                    raise RuntimeError(f"prometheus exited with {self._proc and self._proc.returncode}")
                with contextlib.suppress(aiohttp.ClientError, OSError):
                    async with http.get(f"{self.url}/-/ready",
                                        timeout=aiohttp.ClientTimeout(total=2)) as resp:
                        if resp.status == 200:
                            return
                await asyncio.sleep(0.2)
        raise TimeoutError(f"prometheus at {self.url} not ready after {timeout}s")

    async def reload(self) -> None:
        async with aiohttp.ClientSession() as http, http.post(
                f"{self.url}/-/reload", timeout=aiohttp.ClientTimeout(total=30)) as resp:
            if resp.status != 200:
                raise RuntimeError(f"reload failed: {resp.status} {await resp.text()}")

    async def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.returncode is not None:
            return
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), STOP_TIMEOUT)
        except TimeoutError:
            proc.kill()
            await proc.wait()
