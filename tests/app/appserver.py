"""Start and stop the real service under uvicorn on a free loopback port (test equipment).

Reused by tests/observability and by anyone who needs a live house-price service::

    with AppServer(env={"MLMON_MODEL_PATH": str(path)}) as server:
        httpx.get(server.url + "/health")
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType

import httpx
import uvicorn
from uvicorn._types import ASGIApplication

from tests.processes import terminate

REPO_ROOT = Path(__file__).resolve().parents[2]
APP_DIR = REPO_ROOT / "app"
HOST = "127.0.0.1"
# uvicorn's options in the image's CMD (app/Dockerfile, checked by test_dockerfile): the service is
# tested and benchmarked as it is deployed.
SERVER_OPTIONS: tuple[str, ...] = ("--no-access-log", "--http", "httptools", "--loop", "uvloop")


def free_port() -> int:
    """A TCP port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``condition`` every 50 ms until it holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise TimeoutError(f"gave up after {timeout:.0f}s waiting for {what}")


class AppServer:
    """``uvicorn house_price.api:app`` as a child process, stopped on exit.

    ``factory`` serves another app instead: ``module:function`` returning one, importable from the
    repository (the benchmark's variants of the service in bench/ are served this way). ``wrapper``
    is a command the server runs under (the benchmark's valgrind).
    """

    def __init__(
        self,
        env: Mapping[str, str],
        port: int | None = None,
        factory: str | None = None,
        wrapper: Sequence[str] = (),
    ) -> None:
        self.port = port or free_port()
        self._wrapper = tuple(wrapper)
        self.url = f"http://{HOST}:{self.port}"
        self._target = ["--factory", factory] if factory else ["house_price.api:app"]
        pythonpath = [str(APP_DIR), str(REPO_ROOT)] if factory else [str(APP_DIR)]
        self._env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("MLMON_")},
            "PYTHONPATH": os.pathsep.join(pythonpath),
            **env,
        }
        self._process: subprocess.Popen[bytes] | None = None
        self._log_dir = Path(tempfile.mkdtemp(prefix="appserver-"))
        self._log_path = self._log_dir / "uvicorn.log"

    def start(self, ready_timeout: float = 30.0) -> "AppServer":
        """Start uvicorn and wait (bounded) until /ready answers 200."""
        with self._log_path.open("wb") as log:
            self._process = subprocess.Popen(
                [
                    *self._wrapper,
                    sys.executable,
                    "-m",
                    "uvicorn",
                    *self._target,
                    "--host",
                    HOST,
                    "--port",
                    str(self.port),
                    *SERVER_OPTIONS,
                ],
                cwd=APP_DIR,
                env=self._env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_until(self._ready, ready_timeout, f"{self.url}/ready")
        except (TimeoutError, RuntimeError) as error:
            output = self.output()
            self.stop()
            raise RuntimeError(f"the service did not become ready: {error}\n{output}") from error
        return self

    def _ready(self) -> bool:
        if self._process is not None and self._process.poll() is not None:
            raise RuntimeError(f"uvicorn exited with code {self._process.returncode}")
        try:
            return httpx.get(f"{self.url}/ready", timeout=1.0).status_code == 200
        except httpx.TransportError:
            return False

    @property
    def pid(self) -> int:
        """The server's process id (a ``wrapper`` such as valgrind runs the server in its own process)."""
        if self._process is None:
            raise RuntimeError("the server is not running")
        return self._process.pid

    def cpu_seconds(self) -> float:
        """CPU time (user and system, every thread) the process has used so far, from /proc (Linux)."""
        if self._process is None:
            raise RuntimeError("the server is not running")
        fields = Path(f"/proc/{self._process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        # utime and stime are fields 14 and 15 of proc(5); the split dropped the first two.
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mib(self) -> float:
        """The process's resident memory now, from /proc (Linux)."""
        if self._process is None:
            raise RuntimeError("the server is not running")
        status = Path(f"/proc/{self._process.pid}/status").read_text()
        kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
        return kib / 1024

    def output(self) -> str:
        """What the process has printed so far."""
        if not self._log_path.exists():
            return ""
        return self._log_path.read_text(errors="replace")

    def stop(self, grace: float = 10.0) -> str:
        """Terminate the process (kill it after ``grace`` seconds), remove its log; what it printed."""
        terminate(self._process, grace)
        printed = self.output()
        shutil.rmtree(self._log_dir, ignore_errors=True)
        return printed

    def __enter__(self) -> "AppServer":
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


class ThreadedServer:
    """A given app instance served by a real uvicorn in a background thread.

    For tests that need an app built in-process (for instance with a loader they control) but
    still want real HTTP on a real socket.
    """

    def __init__(self, app: ASGIApplication) -> None:
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        config = uvicorn.Config(app, host=HOST, port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="uvicorn", daemon=True)

    def __enter__(self) -> "ThreadedServer":
        self._thread.start()
        try:
            wait_until(lambda: self._server.started, 30, f"uvicorn on {self.url}")
        except TimeoutError:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=15)
