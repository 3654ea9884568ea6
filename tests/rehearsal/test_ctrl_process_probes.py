"""Column: rehearsal (real processes and sockets). Containers as local processes: output to the
CRI log file, SIGTERM then SIGKILL after the grace period, the whole process group stopped, and
nothing surviving the kubelet's death; probes against real servers, with the kubelet's
messages and thresholds."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from aiohttp import web

from tests.rehearsal.kube.controllers.podlogs import LogOptions, read_log
from tests.rehearsal.kube.controllers.probes import ProbeWorker, Target, run_probe
from tests.rehearsal.kube.controllers.process import ContainerProcess

PY = sys.executable


def alive(pid: int) -> bool:
    """Running (a zombie has finished)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def wait_gone(pid: int, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return False


def test_output_goes_to_the_log_and_sigterm_stops_the_process(tmp_path: Path) -> None:
    async def scenario() -> tuple[int, str]:
        log = tmp_path / "c" / "0.log"
        script = "import sys,time; print('hello', flush=True); print('oops', file=sys.stderr, " \
                 "flush=True); time.sleep(60)"
        proc = await ContainerProcess.start([PY, "-c", script], str(tmp_path), {}, log)
        for _ in range(200):
            if "oops" in log.read_text():
                break
            await asyncio.sleep(0.02)
        return await proc.stop(5), log.read_text()

    code, text = asyncio.run(scenario())
    assert code == 128 + signal.SIGTERM
    streams = {line.split(" ")[1]: line.split(" ", 3)[3] for line in text.splitlines()}
    assert streams == {"stdout": "hello", "stderr": "oops"}


def test_a_process_ignoring_sigterm_is_killed_after_the_grace_period(tmp_path: Path) -> None:
    script = textwrap.dedent("""
        import signal, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("ready", flush=True)
        time.sleep(60)
    """)

    async def scenario() -> int:
        log = tmp_path / "0.log"
        proc = await ContainerProcess.start([PY, "-c", script], str(tmp_path), {}, log)
        for _ in range(200):
            if "ready" in log.read_text():
                break
            await asyncio.sleep(0.02)
        return await proc.stop(0.3)

    assert asyncio.run(scenario()) == 128 + signal.SIGKILL


def test_stopping_a_container_stops_its_children(tmp_path: Path) -> None:
    script = textwrap.dedent(f"""
        import subprocess, time
        child = subprocess.Popen([{PY!r}, "-c", "import time; time.sleep(60)"])
        print(child.pid, flush=True)
        time.sleep(60)
    """)

    async def scenario() -> int:
        log = tmp_path / "0.log"
        proc = await ContainerProcess.start([PY, "-c", script], str(tmp_path), {}, log)
        for _ in range(250):
            if log.read_text().strip():
                break
            await asyncio.sleep(0.02)
        child = int(read_log(log, LogOptions()).split()[0])
        await proc.stop(5)
        return child

    child = asyncio.run(scenario())
    assert wait_gone(child)


def test_pod_processes_die_with_the_kubelet(tmp_path: Path) -> None:
    """The kubelet process is SIGKILLed: its container processes must not outlive it."""
    kubelet = textwrap.dedent(f"""
        import asyncio
        from pathlib import Path
        from tests.rehearsal.kube.controllers.process import ContainerProcess
        async def main():
            proc = await ContainerProcess.start([{PY!r}, "-c", "import time; time.sleep(60)"],
                                                "/", {{}}, Path({str(tmp_path / "0.log")!r}))
            print(proc.pid, flush=True)
            await asyncio.sleep(60)
        asyncio.run(main())
    """)
    parent = subprocess.Popen([PY, "-c", kubelet], stdout=subprocess.PIPE, text=True,
                              cwd=Path(__file__).resolve().parents[2])
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    assert alive(child)
    parent.kill()
    parent.wait(10)
    assert wait_gone(child)


def test_an_executable_that_does_not_exist_exits_with_128(tmp_path: Path) -> None:
    async def scenario() -> int:
        proc = await ContainerProcess.start(["no-such-binary-xyz"], str(tmp_path), {"PATH": "/bin"},
                                            tmp_path / "0.log")
        return await proc.wait()

    assert asyncio.run(scenario()) == 128
    assert "exec no-such-binary-xyz" in (tmp_path / "0.log").read_text()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def http_server(routes: web.RouteTableDef) -> AsyncIterator[int]:
    app = web.Application()
    app.add_routes(routes)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield port
    finally:
        await runner.cleanup()


def target(port: int, tmp_path: Path | None = None) -> Target:
    return Target("127.0.0.1", {"http": port}, str(tmp_path or "/"), {"PATH": os.environ["PATH"]})


def test_http_probe_results_and_messages() -> None:
    routes = web.RouteTableDef()
    seen: list[str] = []

    @routes.get("/ok")
    async def ok(request: web.Request) -> web.Response:
        seen.append(request.headers["User-Agent"])
        return web.Response(text="fine")

    @routes.get("/down")
    async def down(_request: web.Request) -> web.Response:
        return web.Response(status=503)

    @routes.get("/slow")
    async def slow(_request: web.Request) -> web.Response:
        await asyncio.sleep(3)
        return web.Response()

    async def scenario() -> list[tuple[bool, str]]:
        async with http_server(routes) as port:
            closed = free_port()
            return [
                await run_probe({"httpGet": {"path": "/ok", "port": "http"}}, target(port)),
                await run_probe({"httpGet": {"path": "/down", "port": port}}, target(port)),
                await run_probe({"httpGet": {"path": "/slow", "port": port}, "timeoutSeconds": 1},
                                target(port)),
                await run_probe({"httpGet": {"path": "/ok", "port": closed}}, target(port)),
                await run_probe({"httpGet": {"path": "/ok", "port": "metrics"}}, target(port)),
            ]

    results = asyncio.run(scenario())
    assert results[0] == (True, "")
    assert seen == ["kube-probe/1.33"]
    assert results[1] == (False, "HTTP probe failed with statuscode: 503")
    assert results[2][0] is False and "context deadline exceeded" in results[2][1]
    assert results[3][0] is False
    assert results[3][1].endswith("connect: connection refused")
    assert results[3][1].startswith('Get "http://127.0.0.1:')
    assert results[4] == (False, "couldn't find port: metrics in container")


def test_tcp_and_exec_probes(tmp_path: Path) -> None:
    async def scenario() -> list[tuple[bool, str]]:
        async with http_server(web.RouteTableDef()) as port:
            return [
                await run_probe({"tcpSocket": {"port": port}}, target(port)),
                await run_probe({"tcpSocket": {"port": free_port()}}, target(port)),
                await run_probe({"exec": {"command": ["true"]}}, target(port, tmp_path)),
                await run_probe({"exec": {"command": ["sh", "-c", "echo nope; exit 1"]}},
                                target(port, tmp_path)),
                await run_probe({"grpc": {"port": port}}, target(port)),
            ]

    tcp_ok, tcp_refused, exec_ok, exec_failed, grpc = asyncio.run(scenario())
    assert tcp_ok == (True, "")
    assert tcp_refused[0] is False and tcp_refused[1].endswith("connect: connection refused")
    assert exec_ok[0] is True
    assert exec_failed == (False, "nope\n")
    assert grpc == (False, "grpc probes are not supported by the rehearsal kubelet")


def test_probe_worker_settles_after_its_thresholds() -> None:
    """successThreshold 2, failureThreshold 2: the result only changes after two equal answers
    in a row; every failed attempt is reported for the Unhealthy event."""
    answers = iter([200, 200, 200, 503, 200, 503, 503, 503])
    routes = web.RouteTableDef()

    @routes.get("/ready")
    async def ready(_request: web.Request) -> web.Response:
        return web.Response(status=next(answers, 503))

    async def scenario() -> tuple[list[bool], list[str]]:
        settled: list[bool] = []
        failures: list[str] = []
        done = asyncio.Event()

        def on_settled(_kind: str, ok: bool) -> None:
            settled.append(ok)
            if not ok:
                done.set()

        async with http_server(routes) as port:
            spec = {"httpGet": {"path": "/ready", "port": port}, "periodSeconds": 0.05,
                    "successThreshold": 2, "failureThreshold": 2}
            worker = ProbeWorker("readiness", spec, target(port),
                                 lambda _k, m: failures.append(m), on_settled)
            task = asyncio.create_task(worker.run())
            await asyncio.wait_for(done.wait(), 10)
            task.cancel()
        return settled, failures

    settled, failures = asyncio.run(scenario())
    assert settled == [True, False]
    assert failures[:3] == ["HTTP probe failed with statuscode: 503"] * 3
