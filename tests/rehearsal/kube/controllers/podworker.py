"""One pod on the rehearsal node, from admission to removal (the kubelet's pod worker).

Containers run as local processes (process.py) chosen by image (kubelet_config.py): an image with
no mapping fails to "pull" (ErrImagePull, then ImagePullBackOff between attempts), a missing
Secret/ConfigMap/key is CreateContainerConfigError, a container that exits is restarted per
``restartPolicy`` with the crash-loop back-off (CrashLoopBackOff while waiting), and probes
(probes.py) drive ``started``/``ready`` and restart the container on liveness failure. Init
containers run one after the other before the others start. Deleting the pod runs each container's
preStop hook, sends SIGTERM, waits out the grace period, sends SIGKILL, reports the final status
and removes the pod object (grace period 0), as the kubelet finalises a deletion.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import secrets
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from ..client import PODS, ApiClient, KubeError
from .backoff import Backoff
from .envvars import ContainerConfigError, EnvResolver, expand
from .events import NORMAL, WARNING, EventRecorder
from .kubelet_config import KubeletConfig, normalize_image, render
from .meta import Obj, now, rfc3339
from .podlogs import container_log
from .podstatus import ContainerView, PodView, pod_status
from .probes import ProbeWorker, Target, exec_probe, http_probe
from .process import ContainerProcess

log = logging.getLogger(__name__)

MINIMUM_GRACE_SECONDS = 2
BASE_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
PROBE_KINDS = {"startup": "Startup", "liveness": "Liveness", "readiness": "Readiness"}


@dataclass
class NodeContext:
    """What every pod worker of a node shares."""

    api: ApiClient
    events: EventRecorder
    config: KubeletConfig
    node_name: str
    node_ip: str
    log_root: Path
    env: EnvResolver
    crash_backoff: Backoff
    pull_backoff: Backoff
    logs: dict[str, Path] = field(default_factory=dict)


@dataclass
class Container:
    spec: Obj
    init: bool
    view: ContainerView
    process: ContainerProcess | None = None
    target: Target | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    probes: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    alive: bool = False
    starts: int = 0
    last_exit: int = 0
    finished_at: float = 0.0
    backoff_reported: float = -1.0

    @property
    def name(self) -> str:
        return str(self.spec["name"])

    @property
    def running(self) -> bool:
        """Started and its exit not yet recorded (the pod worker's view, not the OS's)."""
        return self.alive

    def field_path(self) -> str:
        return f"spec.{'initContainers' if self.init else 'containers'}{{{self.name}}}"

    def stop_probes(self, *kinds: str) -> None:
        for kind in kinds or list(self.probes):
            task = self.probes.pop(kind, None)
            if task is not None:
                task.cancel()

    def stop_tasks(self) -> None:
        self.stop_probes()
        for task in self.tasks:
            if task is not asyncio.current_task():
                task.cancel()
        self.tasks.clear()


def _format_delay(seconds: float) -> str:
    """Go's time.Duration String (10s, 2.5s, 1m20s, 5m0s)."""
    if seconds < 60:
        return f"{seconds:g}s"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}m{rest:g}s"


class PodWorker:
    def __init__(self, node: NodeContext, pod: Obj, pod_ip: str) -> None:
        self.node = node
        self.pod = pod
        self.pod_ip = pod_ip
        self.uid = pod["metadata"]["uid"]
        self.start_time = now()
        spec = pod["spec"]
        self.init = [self._container(c, True) for c in spec.get("initContainers") or []]
        self.main = [self._container(c, False) for c in spec.get("containers") or []]
        self.wake = asyncio.Event()
        self.gone = False
        self.terminated = False
        self.container_ids: list[str] = []
        self._published: Obj | None = None

    def _container(self, spec: Obj, init: bool) -> Container:
        return Container(spec, init, ContainerView(name=spec["name"], image=spec.get("image", "")))

    @property
    def pod_ref(self) -> str:
        meta = self.pod["metadata"]
        return f"{meta['name']}_{meta['namespace']}({self.uid})"

    # --- inputs ---

    def update(self, pod: Obj) -> None:
        self.pod = pod
        self.wake.set()

    def removed(self) -> None:
        self.gone = True
        self.wake.set()

    def writing(self, log_path: Path) -> bool:
        """Whether a running container instance of this pod writes ``log_path``."""
        return any(c.running and c.process is not None and c.process.log_path == log_path
                   for c in self.init + self.main)

    def _deleting(self) -> bool:
        return self.gone or bool(self.pod["metadata"].get("deletionTimestamp"))

    # --- lifecycle ---

    async def run(self) -> None:
        try:
            while not self._deleting():
                self.wake.clear()
                wake_at = await self._sync()
                if not await self._publish():
                    retry = now() + self.node.config.sync_frequency
                    wake_at = retry if wake_at is None else min(wake_at, retry)
                await self._sleep(wake_at)
            await self._terminate()
            if not self.gone:
                await self._publish()
                await self._remove()
        except asyncio.CancelledError:
            await self._kill_all(self.node.config.shutdown_grace)
            raise
        finally:
            for c in self.init + self.main:
                c.stop_tasks()
                if c.running and c.process is not None:
                    c.process.signal_group(signal.SIGKILL)
                    c.process.close()

    async def _sleep(self, wake_at: float | None) -> None:
        timeout = None if wake_at is None else max(wake_at - now(), 0.0)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.wake.wait(), timeout)

    async def _sync(self) -> float | None:
        for c in self.init:
            if not c.view.done:
                return await self._drive(c)
        wakes = [await self._drive(c) for c in self.main]
        pending = [w for w in wakes if w is not None]
        return min(pending) if pending else None

    def _should_restart(self, c: Container) -> bool:
        policy = self.pod["spec"].get("restartPolicy", "Always")
        if c.init and c.last_exit == 0:
            return False
        return policy == "Always" or (policy == "OnFailure" and c.last_exit != 0)

    async def _drive(self, c: Container) -> float | None:
        """Bring one container towards running; when to look again, if a timer is needed."""
        if c.running:
            return None
        if c.starts:
            if c.init and c.last_exit == 0:
                c.view.done = True
                return now()
            if not self._should_restart(c):
                return None
            key = f"{self.uid}_{c.name}"
            backoff = self.node.crash_backoff
            if backoff.in_backoff_since(key, c.finished_at):
                self._crash_loop(c, key)
                return backoff.ready_at(key, c.finished_at)
            backoff.next(key, c.finished_at)
        return await self._start(c)

    def _crash_loop(self, c: Container, key: str) -> None:
        delay = _format_delay(self.node.crash_backoff.delay(key))
        if "terminated" in c.view.state:
            c.view.last_state = {"terminated": c.view.state["terminated"]}
        c.view.state = {"waiting": {
            "reason": "CrashLoopBackOff",
            "message": f"back-off {delay} restarting failed container={c.name} pod={self.pod_ref}",
        }}
        if c.backoff_reported != c.finished_at:
            c.backoff_reported = c.finished_at
            self._event(c, WARNING, "BackOff",
                        f"Back-off restarting failed container {c.name} in pod {self.pod_ref}")

    async def _start(self, c: Container) -> float | None:
        image = c.spec.get("image", "")
        rule = self.node.config.rule_for(image)
        if rule is None:
            return self._pull_failed(c, image)
        self._pulled(c, image)
        try:
            env = await self.node.env.resolve(self._pod_for_env(), c.spec)
        except ContainerConfigError as err:
            c.view.state = {"waiting": {"reason": "CreateContainerConfigError", "message": str(err)}}
            self._event(c, WARNING, "Failed", f"Error: {err}")
            return now() + self.node.config.sync_frequency
        args = [expand(a, env) for a in c.spec.get("args") or []]
        if "terminated" in c.view.state:
            c.view.last_state = {"terminated": c.view.state["terminated"]}
        try:
            launch = render(rule, c.spec, self.pod_ip, args, (self.node.api.url, self.node.api.token))
        except KeyError as err:
            message = str(err.args[0])
            c.view.state = {"waiting": {"reason": "CreateContainerError", "message": message}}
            self._event(c, WARNING, "Failed", f"Error: {message}")
            return now() + self.node.config.sync_frequency
        process_env = {k: os.environ[k] for k in BASE_ENV if k in os.environ}
        process_env.update(launch.env)
        process_env["HOSTNAME"] = self.pod["metadata"]["name"]
        process_env.update(env)
        c.view.restart_count = c.starts
        c.starts += 1
        c.view.container_id = f"containerd://{secrets.token_hex(32)}"
        self._event(c, NORMAL, "Created", f"Created container: {c.name}")
        log_path = container_log(self.node.log_root, self.pod["metadata"], c.name,
                                 c.view.restart_count)
        self.node.logs[c.view.container_id] = log_path
        self.container_ids.append(c.view.container_id)
        try:
            process = await ContainerProcess.start(launch.argv, launch.cwd, process_env, log_path)
        except OSError as err:
            self._event(c, WARNING, "Failed", f"Error: failed to start container: {err}")
            self._exited(c, 128, now(), "StartError", now())
            return now()
        c.process = process
        c.alive = True
        started = now()
        c.view.state = {"running": {"startedAt": rfc3339(started)}}
        c.view.ready = False
        c.view.started = "startupProbe" not in c.spec
        c.target = Target(self.pod_ip, _ports(c.spec), launch.cwd, process_env)
        self._event(c, NORMAL, "Started", f"Started container {c.name}")
        c.tasks.append(asyncio.create_task(self._watch_exit(c, process, started)))
        self._start_probes(c)
        return None

    def _pod_for_env(self) -> Obj:
        status = {
            **(self.pod.get("status") or {}),
            "podIP": self.pod_ip, "podIPs": [{"ip": self.pod_ip}],
            "hostIP": self.node.node_ip, "hostIPs": [{"ip": self.node.node_ip}],
        }
        return {**self.pod, "status": status}

    def _pull_failed(self, c: Container, image: str) -> float:
        policy = c.spec.get("imagePullPolicy", "IfNotPresent")
        if policy == "Never":
            message = f'Container image "{image}" is not present with pull policy of Never'
            c.view.state = {"waiting": {"reason": "ErrImageNeverPull", "message": message}}
            self._event(c, WARNING, "ErrImageNeverPull", message)
            return now() + self.node.config.sync_frequency
        key = f"{self.uid}_{image}"
        backoff = self.node.pull_backoff
        if backoff.in_backoff_since_update(key):
            message = f'Back-off pulling image "{image}"'
            c.view.state = {"waiting": {"reason": "ImagePullBackOff", "message": message}}
            self._event(c, NORMAL, "BackOff", message)
            self._event(c, WARNING, "Failed", "Error: ImagePullBackOff")
            return backoff.ready_since_update(key)
        ref = normalize_image(image)
        error = (
            f'rpc error: code = NotFound desc = failed to pull and unpack image "{ref}": '
            f'failed to resolve reference "{ref}": {ref}: not found'
        )
        self._event(c, NORMAL, "Pulling", f'Pulling image "{image}"')
        self._event(c, WARNING, "Failed", f'Failed to pull image "{image}": {error}')
        self._event(c, WARNING, "Failed", "Error: ErrImagePull")
        backoff.next(key, now())
        c.view.state = {"waiting": {"reason": "ErrImagePull", "message": error}}
        return now() + min(self.node.config.sync_frequency, backoff.delay(key) / 2)

    def _pulled(self, c: Container, image: str) -> None:
        ref = normalize_image(image)
        c.view.image = ref
        digest = hashlib.sha256(ref.encode()).hexdigest()
        c.view.image_id = f"{ref.split('@')[0].rsplit(':', 1)[0]}@sha256:{digest}"
        if c.spec.get("imagePullPolicy") == "Always":
            self._event(c, NORMAL, "Pulling", f'Pulling image "{image}"')
            self._event(c, NORMAL, "Pulled", f'Successfully pulled image "{image}" in 0s '
                        "(0s including waiting). Image size: 0 bytes.")
        else:
            self._event(c, NORMAL, "Pulled", f'Container image "{image}" already present on machine')

    async def _watch_exit(self, c: Container, process: ContainerProcess, started: float) -> None:
        code = await process.wait()
        self._exited(c, code, started, "Completed" if code == 0 else "Error", now())

    def _exited(self, c: Container, code: int, started: float, reason: str, at: float) -> None:
        c.alive = False
        c.stop_tasks()
        c.finished_at = at
        c.last_exit = code
        c.view.ready = False
        c.view.started = False
        c.view.state = {"terminated": {
            "exitCode": code,
            "reason": reason,
            "startedAt": rfc3339(started),
            "finishedAt": rfc3339(at),
            "containerID": c.view.container_id,
        }}
        self.wake.set()

    # --- probes ---

    def _start_probes(self, c: Container, kinds: tuple[str, ...] = ()) -> None:
        assert c.target is not None
        wanted = kinds or (("startup",) if "startupProbe" in c.spec else ("liveness", "readiness"))
        for kind in wanted:
            spec = c.spec.get(f"{kind}Probe")
            if spec is None:
                if kind == "readiness":
                    c.view.ready = c.view.started
                continue
            worker = ProbeWorker(
                kind, spec, c.target,
                failed=self._probe_failed(c), settled=self._probe_settled(c),
            )
            c.probes[kind] = asyncio.create_task(worker.run())

    def _probe_failed(self, c: Container) -> Callable[[str, str], None]:
        def failed(kind: str, message: str) -> None:
            self._event(c, WARNING, "Unhealthy", f"{PROBE_KINDS[kind]} probe failed: {message}")

        return failed

    def _probe_settled(self, c: Container) -> Callable[[str, bool], None]:
        def settled(kind: str, ok: bool) -> None:
            if not c.running:
                return
            if kind == "readiness":
                c.view.ready = ok and c.view.started
            elif kind == "startup" and ok:
                c.view.started = True
                self._start_probes(c, ("liveness", "readiness"))
            elif not ok:
                self._event(c, NORMAL, "Killing",
                            f"Container {c.name} failed {kind} probe, will be restarted")
                grace = (c.spec.get(f"{kind}Probe") or {}).get("terminationGracePeriodSeconds")
                if grace is None:
                    grace = self.pod["spec"].get("terminationGracePeriodSeconds", 30)
                assert c.process is not None
                c.tasks.append(asyncio.create_task(self._kill(c.process, float(grace))))
            self.wake.set()

        return settled

    async def _kill(self, process: ContainerProcess, grace: float) -> None:
        await process.stop(max(grace, MINIMUM_GRACE_SECONDS))

    # --- termination ---

    async def _terminate(self) -> None:
        meta = self.pod["metadata"]
        grace = float(meta.get("deletionGracePeriodSeconds", 30))
        if self.gone:
            grace = min(grace, MINIMUM_GRACE_SECONDS)
        deadline = now() + grace
        running = [c for c in self.init + self.main if c.running]
        for c in running:
            c.stop_probes("liveness", "startup")
        await asyncio.gather(*(self._stop_container(c, deadline) for c in running))
        self.terminated = True

    async def _stop_container(self, c: Container, deadline: float) -> None:
        assert c.process is not None
        self._event(c, NORMAL, "Killing", f"Stopping container {c.name}")
        hook = (c.spec.get("lifecycle") or {}).get("preStop")
        if hook and not self.gone:
            try:
                await asyncio.wait_for(self._pre_stop(c, hook), max(deadline - now(), 0.0))
            except TimeoutError:
                self._event(c, WARNING, "FailedPreStopHook", "PreStopHook failed: timed out")
        await c.process.stop(max(deadline - now(), MINIMUM_GRACE_SECONDS))
        await asyncio.sleep(0)

    async def _pre_stop(self, c: Container, hook: Obj) -> None:
        if "sleep" in hook:
            await asyncio.sleep(float(hook["sleep"].get("seconds", 0)))
            return
        assert c.target is not None
        if "httpGet" in hook:
            ok, message = await http_probe(hook["httpGet"], c.target, 30.0)
        elif "exec" in hook:
            ok, message = await exec_probe(hook["exec"], c.target, 30.0)
        else:
            ok, message = False, "unsupported preStop handler"
        if not ok:
            self._event(c, WARNING, "FailedPreStopHook", f"PreStopHook failed: {message}")

    async def _kill_all(self, grace: float) -> None:
        running = [c.process for c in self.init + self.main if c.running and c.process]
        await asyncio.gather(*(p.stop(grace) for p in running), return_exceptions=True)

    async def _remove(self) -> None:
        meta = self.pod["metadata"]
        try:
            await self.node.api.delete(PODS, meta["namespace"], meta["name"], grace_period=0,
                                       uid=self.uid)
        except KubeError as err:
            if not (err.not_found or err.conflict):
                raise

    # --- status ---

    def status(self) -> Obj:
        view = PodView(
            pod=self.pod,
            init=[c.view for c in self.init],
            main=[c.view for c in self.main],
            host_ip=self.node.node_ip,
            pod_ip=self.pod_ip,
            start_time=self.start_time,
            terminal=self.terminated,
        )
        return pod_status(view, now())

    async def _publish(self) -> bool:
        """Write the status if it changed; False when the write failed (retried later)."""
        status = self.status()
        if status == self._published:
            return True
        old = self.pod.get("status") or {}
        body = {**status, **{k: None for k in old if k not in status}}
        meta = self.pod["metadata"]
        try:
            await self.node.api.patch(PODS, meta["namespace"], meta["name"], {"status": body},
                                      sub="status")
        except KubeError as err:
            if err.not_found:
                self.gone = True
                return True
            log.warning("status of pod %s not written: %s", meta["name"], err)
            return False
        except (aiohttp.ClientError, OSError, TimeoutError) as err:
            log.warning("status of pod %s not written: %s", meta["name"], err)
            return False
        self._published = status
        return True

    def _event(self, c: Container, type_: str, reason: str, message: str) -> None:
        self.node.events.record(PODS, self.pod, type_, reason, message, c.field_path())


def _ports(spec: Obj) -> dict[str, int]:
    return {p["name"]: int(p["containerPort"]) for p in spec.get("ports") or [] if p.get("name")}

