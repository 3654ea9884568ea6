"""Readiness, liveness and startup probes, run for real against a container's process.

``httpGet`` succeeds on a status in [200, 400); ``tcpSocket`` on an accepted connection; ``exec``
runs the command as a local process in the container's working directory and environment and
succeeds on exit 0. ``grpc`` is not supported and always fails, saying so. Failure messages are
the kubelet's (Go's net/http and net errors), e.g. ``HTTP probe failed with statuscode: 503`` or
``Get "http://127.11.0.4:8000/ready": dial tcp 127.11.0.4:8000: connect: connection refused``.

A :class:`ProbeWorker` applies initialDelaySeconds, periodSeconds, timeoutSeconds and the
success/failure thresholds exactly as the kubelet's prober worker does, and reports each settled
result (and each failed attempt, for the Unhealthy event) to its owner.
"""

from __future__ import annotations

import asyncio
import errno
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp

from .meta import Obj

USER_AGENT = "kube-probe/1.33"
MAX_OUTPUT = 10 * 1024


@dataclass(frozen=True)
class Target:
    """Where a container's probes go: its pod IP, ports, working directory and environment."""

    pod_ip: str
    ports: dict[str, int]
    cwd: str
    env: dict[str, str]


def _port(value: object, target: Target) -> int:
    if isinstance(value, int):
        return value
    text = str(value)
    if text.isdigit():
        return int(text)
    if text not in target.ports:
        raise ValueError(f"couldn't find port: {text} in container")
    return target.ports[text]


def _dial_error(err: OSError, address: str) -> str:
    if err.errno == errno.ECONNREFUSED or isinstance(err, ConnectionRefusedError):
        return f"dial tcp {address}: connect: connection refused"
    return f"dial tcp {address}: connect: {err.strerror or err}"


async def http_probe(spec: Obj, target: Target, timeout: float) -> tuple[bool, str]:
    host = spec.get("host") or target.pod_ip
    port = _port(spec.get("port"), target)
    scheme = str(spec.get("scheme") or "HTTP").lower()
    path = spec.get("path") or "/"
    if not path.startswith("/"):
        path = "/" + path
    url = f"{scheme}://{host}:{port}{path}"
    headers = {"User-Agent": USER_AGENT, "Accept": "*/*"}
    for header in spec.get("httpHeaders") or []:
        headers[header["name"]] = header["value"]
    connector = aiohttp.TCPConnector(force_close=True, ssl=False)
    try:
        async with (
            aiohttp.ClientSession(connector=connector) as session,
            session.get(url, headers=headers, timeout=aiohttp.ClientTimeout(total=timeout)) as resp,
        ):
            await resp.content.read(MAX_OUTPUT)
            if 200 <= resp.status < 400:
                return True, ""
            return False, f"HTTP probe failed with statuscode: {resp.status}"
    except TimeoutError:
        reason = "context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
        return False, f'Get "{url}": {reason}'
    except aiohttp.ClientConnectorError as err:
        return False, f'Get "{url}": {_dial_error(err.os_error, f"{host}:{port}")}'
    except aiohttp.ClientError as err:
        return False, f'Get "{url}": {err}'


async def tcp_probe(spec: Obj, target: Target, timeout: float) -> tuple[bool, str]:
    host = spec.get("host") or target.pod_ip
    port = _port(spec.get("port"), target)
    address = f"{host}:{port}"
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except TimeoutError:
        return False, f"dial tcp {address}: i/o timeout"
    except OSError as err:
        return False, _dial_error(err, address)
    writer.close()
    await writer.wait_closed()
    return True, ""


async def exec_probe(spec: Obj, target: Target, timeout: float) -> tuple[bool, str]:
    command = list(spec.get("command") or [])
    try:
        proc = await asyncio.create_subprocess_exec(
            *command, cwd=target.cwd, env=target.env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )
    except OSError as err:
        return False, f"exec: {err.strerror}"
    try:
        output, _ = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return False, f"command {command!r} timed out"
    text = output[:MAX_OUTPUT].decode(errors="replace")
    return proc.returncode == 0, text


async def run_probe(spec: Obj, target: Target) -> tuple[bool, str]:
    timeout = float(spec.get("timeoutSeconds") or 1)
    try:
        if "httpGet" in spec:
            return await http_probe(spec["httpGet"], target, timeout)
        if "tcpSocket" in spec:
            return await tcp_probe(spec["tcpSocket"], target, timeout)
        if "exec" in spec:
            return await exec_probe(spec["exec"], target, timeout)
    except ValueError as err:
        return False, str(err)
    return False, "grpc probes are not supported by the rehearsal kubelet"


class ProbeWorker:
    """Runs one probe of one container until cancelled. ``failed(kind, message)`` is called on
    each failed attempt (the Unhealthy event); ``settled(kind, result)`` each time the result
    changes after its threshold. A failed liveness/startup result ends the worker (upstream puts
    it on hold until the container is replaced); a startup probe ends once it succeeded."""

    def __init__(
        self,
        kind: str,
        spec: Obj,
        target: Target,
        failed: Callable[[str, str], None],
        settled: Callable[[str, bool], None],
    ) -> None:
        self.kind = kind
        self.spec = spec
        self.target = target
        self.failed = failed
        self.settled = settled
        self.result: bool | None = None

    async def run(self) -> None:
        period = float(self.spec.get("periodSeconds") or 10)
        success_threshold = int(self.spec.get("successThreshold") or 1)
        failure_threshold = int(self.spec.get("failureThreshold") or 3)
        await asyncio.sleep(float(self.spec.get("initialDelaySeconds") or 0))
        last: bool | None = None
        run = 0
        while True:
            ok, message = await run_probe(self.spec, self.target)
            if not ok:
                self.failed(self.kind, message)
            run = run + 1 if ok == last else 1
            last = ok
            threshold = success_threshold if ok else failure_threshold
            if run >= threshold and self.result is not ok:
                self.result = ok
                self.settled(self.kind, ok)
                if not ok and self.kind in ("liveness", "startup"):
                    return
            if ok and self.kind == "startup" and self.result:
                return
            await asyncio.sleep(period)
