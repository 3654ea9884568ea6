"""The rehearsal node: scheduler and kubelet of a single-node cluster whose containers are local
processes.

The node ``<cluster>-control-plane`` registers itself (InternalIP = the cluster's node IP) and
binds every pending pod to itself through ``pods/<name>/binding``, as the default scheduler
would. Each pod bound to it gets a pod IP from the pod network and a :class:`PodWorker` that runs
it until the pod object is gone. When the kubelet is cancelled (the cluster stops) every pod
process is stopped: SIGTERM, ``shutdownGracePeriodSeconds``, then SIGKILL.

Pod logs (podlogs.py) go under ``logDir`` from the kubelet configuration, or a temporary
directory removed when the kubelet stops. :meth:`Kubelet.log_file` finds the one ``kubectl logs``
asks for the way the kubelet's validateContainerLogStatus does, from the container's status: the
running instance, else the terminated one, ``previous`` the last terminated one; a container that
never ran is the kubelet's 400 (``container "c" in pod "p" is waiting to start: ...``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import platform
import shutil
import tempfile
from pathlib import Path

from ..client import CONFIGMAPS, NODES, PODS, SECRETS, ApiClient, KubeError
from .backoff import Backoff
from .envvars import EnvResolver
from .events import NORMAL, EventRecorder
from .informer import Informer
from .ipam import PodIPAllocator
from .kubelet_config import KubeletConfig
from .meta import Obj, deleting, pod_terminal, rfc3339
from .podlogs import LogUnavailable
from .podworker import NodeContext, PodWorker

log = logging.getLogger(__name__)
SCHEDULER = "default-scheduler"
MAX_PODS = "110"


class Kubelet:
    name = "kubelet"

    def __init__(
        self,
        *,
        cluster_name: str,
        node_ip: str,
        pod_network: str,
        kubernetes_version: str,
        config: KubeletConfig,
    ) -> None:
        self.node_name = f"{cluster_name}-control-plane"
        self.node_ip = node_ip
        self.pod_network = pod_network
        self.version = kubernetes_version
        self.config = config
        self.ips = PodIPAllocator(pod_network)
        self.workers: dict[str, tuple[PodWorker, asyncio.Task[None]]] = {}
        self.binding: set[str] = set()
        self.log_root = config.log_dir
        self.container_logs: dict[str, Path] = {}

    def log_file(self, pod: Obj, container: str, previous: bool = False) -> Path:
        """The log file of the instance of ``container`` that ``kubectl logs [--previous]`` reads;
        raises :class:`LogUnavailable` with the kubelet's message when there is none."""
        worker = self.workers.get(pod["metadata"]["uid"])
        status = worker[0].status() if worker is not None else pod.get("status") or {}
        container_id = _log_container_id(pod["metadata"]["name"], status, container, previous)
        path = self.container_logs.get(container_id)
        if path is None or not path.is_file():
            raise LogUnavailable(f"failed to find the log of container {json.dumps(container)} ({container_id})")
        return path

    def log_running(self, path: Path) -> bool:
        """Whether a running container instance still writes the log ``path`` (``follow``)."""
        return any(worker.writing(path) for worker, _ in self.workers.values())

    async def run(self, api: ApiClient) -> None:
        owned_log_root = self.log_root is None
        if self.log_root is None:
            self.log_root = Path(tempfile.mkdtemp(prefix=f"rehearsal-{self.node_name}-pods-"))
        try:
            await self._run(api, self.log_root)
        finally:
            if owned_log_root:
                shutil.rmtree(self.log_root, ignore_errors=True)
                self.log_root = None

    async def _run(self, api: ApiClient, log_root: Path) -> None:
        self.api = api
        self.events = EventRecorder(api, "kubelet", self.node_name)
        self.scheduler_events = EventRecorder(api, SCHEDULER)
        crash, pull = self.config.crash_backoff, self.config.pull_backoff
        self.node = NodeContext(
            api=api,
            events=self.events,
            config=self.config,
            node_name=self.node_name,
            node_ip=self.node_ip,
            log_root=log_root,
            env=EnvResolver(self._fetch, {"cpu": str(os.cpu_count() or 1), "memory": _memory()}),
            crash_backoff=Backoff(crash.initial, crash.maximum),
            pull_backoff=Backoff(pull.initial, pull.maximum),
            logs=self.container_logs,
        )
        pods = Informer(api, PODS)
        pods.on_change(self._pod_changed)
        try:
            await self._register_node()
            await pods.run()
        finally:
            await self._shutdown()
            await self.events.close()
            await self.scheduler_events.close()

    async def _fetch(self, kind: str, namespace: str, name: str) -> Obj | None:
        try:
            return await self.api.get(SECRETS if kind == "secret" else CONFIGMAPS, namespace, name)
        except KubeError as err:
            if err.not_found:
                return None
            raise

    # --- pods ---

    def _pod_changed(self, kind: str, old: Obj | None, new: Obj | None) -> None:
        pod = new or old
        assert pod is not None
        uid = pod["metadata"]["uid"]
        current = self.workers.get(uid)
        if kind == "DELETED":
            if current is not None:
                current[0].removed()
            return
        node = pod["spec"].get("nodeName")
        if not node:
            self._schedule(pod)
            return
        if node != self.node_name:
            return
        if current is not None:
            current[0].update(pod)
            return
        if pod_terminal(pod) and not deleting(pod):
            return
        self._admit(pod)

    def _admit(self, pod: Obj) -> None:
        uid = pod["metadata"]["uid"]
        address = self.ips.allocate()
        worker = PodWorker(self.node, pod, address)
        task = asyncio.create_task(worker.run(), name=f"pod {pod['metadata']['name']}")
        self.workers[uid] = (worker, task)

        def finished(done: asyncio.Task[None]) -> None:
            self.workers.pop(uid, None)
            for container_id in worker.container_ids:
                self.container_logs.pop(container_id, None)
            self.ips.release(address)
            self.node.crash_backoff.forget(uid)
            self.node.pull_backoff.forget(uid)
            if not done.cancelled() and done.exception() is not None:
                log.error("pod worker of %s failed", pod["metadata"]["name"],
                          exc_info=done.exception())

        task.add_done_callback(finished)

    def _schedule(self, pod: Obj) -> None:
        uid = pod["metadata"]["uid"]
        scheduler = pod["spec"].get("schedulerName") or SCHEDULER
        if deleting(pod) or scheduler != SCHEDULER or uid in self.binding:
            return
        self.binding.add(uid)
        task = asyncio.create_task(self._bind(pod))
        task.add_done_callback(lambda _t: self.binding.discard(uid))

    async def _bind(self, pod: Obj) -> None:
        meta = pod["metadata"]
        binding = {
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": {"name": meta["name"], "namespace": meta["namespace"]},
            "target": {"apiVersion": "v1", "kind": "Node", "name": self.node_name},
        }
        with contextlib.suppress(KubeError):
            await self.api.request("POST", PODS.path(meta["namespace"], meta["name"], "binding"),
                                   body=binding)
            self.scheduler_events.record(
                PODS, pod, NORMAL, "Scheduled",
                f"Successfully assigned {meta['namespace']}/{meta['name']} to {self.node_name}",
            )

    async def _shutdown(self) -> None:
        tasks = [task for _, task in self.workers.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # --- the Node object ---

    async def _register_node(self) -> None:
        node = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": self.node_name,
                "labels": {
                    "beta.kubernetes.io/arch": _arch(),
                    "beta.kubernetes.io/os": "linux",
                    "kubernetes.io/arch": _arch(),
                    "kubernetes.io/hostname": self.node_name,
                    "kubernetes.io/os": "linux",
                    "node-role.kubernetes.io/control-plane": "",
                },
            },
            "spec": {
                "podCIDR": self.pod_network,
                "podCIDRs": [self.pod_network],
                "providerID": f"rehearsal://{self.node_name}",
            },
        }
        try:
            await self.api.create(NODES, None, node)
        except KubeError as err:
            if not err.already_exists:
                raise
        await self.api.patch(NODES, None, self.node_name, {"status": self._node_status()},
                             sub="status")

    def _node_status(self) -> Obj:
        stamp = rfc3339()
        resources = {"cpu": str(os.cpu_count() or 1), "memory": _memory(), "pods": MAX_PODS,
                     "ephemeral-storage": _disk()}

        def condition(kind: str, status: str, reason: str, message: str) -> Obj:
            return {"type": kind, "status": status, "lastHeartbeatTime": stamp,
                    "lastTransitionTime": stamp, "reason": reason, "message": message}

        version = self.version if self.version.count(".") >= 2 else f"{self.version}.0"
        return {
            "addresses": [
                {"type": "InternalIP", "address": self.node_ip},
                {"type": "Hostname", "address": self.node_name},
            ],
            "capacity": resources,
            "allocatable": resources,
            "conditions": [
                condition("MemoryPressure", "False", "KubeletHasSufficientMemory",
                          "kubelet has sufficient memory available"),
                condition("DiskPressure", "False", "KubeletHasNoDiskPressure",
                          "kubelet has no disk pressure"),
                condition("PIDPressure", "False", "KubeletHasSufficientPID",
                          "kubelet has sufficient PID available"),
                condition("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "architecture": _arch(),
                "bootID": "",
                "containerRuntimeVersion": "rehearsal://1.0.0",
                "kernelVersion": platform.release(),
                "kubeProxyVersion": f"v{version}",
                "kubeletVersion": f"v{version}",
                "machineID": "",
                "operatingSystem": "linux",
                "osImage": _os_image(),
                "systemUUID": "",
            },
        }


def _log_container_id(pod: str, status: Obj, container: str, previous: bool) -> str:
    """validateContainerLogStatus: the ID of the container instance whose log is asked for."""
    statuses = [
        *(status.get("containerStatuses") or []),
        *(status.get("initContainerStatuses") or []),
        *(status.get("ephemeralContainerStatuses") or []),
    ]
    found = next((s for s in statuses if s.get("name") == container), None)
    c, p = json.dumps(container), json.dumps(pod)
    if found is None:
        raise LogUnavailable(f"container {c} in pod {p} is not available")
    state, last = found.get("state") or {}, (found.get("lastState") or {}).get("terminated")
    last_id = (last or {}).get("containerID") or ""
    if previous:
        if not last_id:
            raise LogUnavailable(f"previous terminated container {c} in pod {p} not found")
        return str(last_id)
    if "running" in state:
        return str(found.get("containerID") or "")
    if "terminated" in state:
        current = state["terminated"].get("containerID") or ""
        if current:
            return str(current)
        if last_id:
            return str(last_id)
        raise LogUnavailable(f"container {c} in pod {p} is terminated")
    if last is not None:
        if not last_id:
            raise LogUnavailable(f"container {c} in pod {p} is terminated")
        return str(last_id)
    if "waiting" in state:
        reason = state["waiting"].get("reason", "")
        if reason == "ErrImagePull":
            raise LogUnavailable(f"container {c} in pod {p} is waiting to start: image can't be pulled")
        if reason == "ImagePullBackOff":
            raise LogUnavailable(f"container {c} in pod {p} is waiting to start: trying and failing to pull image")
        raise LogUnavailable(f"container {c} in pod {p} is waiting to start: {reason}")
    raise LogUnavailable(f"container {c} in pod {p} is waiting to start - no logs yet")


def _arch() -> str:
    machine = platform.machine()
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{line.split()[1]}Ki"
    except OSError:
        pass
    return "0"


def _disk() -> str:
    return f"{shutil.disk_usage('/').total // 1024}Ki"


def _os_image() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return "Linux"
