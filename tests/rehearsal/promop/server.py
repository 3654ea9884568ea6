"""The process the rehearsal kubelet runs for the Prometheus image of an operator-made pod.

It does what the pod's config-reloader and kubelet would do around the real binary: it finds its
own Pod through the API, writes the pod's Secret/ConfigMap volumes under a private root
(the real reloader reads the mounted files instead), expands ``$(POD_NAME)``/``$(SHARD)`` into
``config_out/prometheus.env.yaml``, replaces Kubernetes discovery by files it keeps current
(:mod:`.discovery`), checks the result with ``promtool check config`` and reloads the running
``/usr/bin/prometheus`` (``POST /-/reload``) when it changed. The binary gets the container's own
arguments, paths moved under the root, and listens on the pod IP.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gzip
import json
import logging
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..kube.client import ENDPOINTS, PODS, SECRETS, SERVICES, ApiClient
from ..kube.controllers.informer import Informer
from . import discovery
from .process import ConfigRejected, PrometheusProcess, check_config
from .runnable import runnable, under_root
from .volumes import materialize

Obj = dict[str, Any]
log = logging.getLogger(__name__)

SYNC_SECONDS = 1.0
FIND_POD_SECONDS = 60.0
CONFIG_OUT = "etc/prometheus/config_out/prometheus.env.yaml"


async def own_pod(api: ApiClient, name: str, pod_ip: str) -> Obj:
    """The Pod named ``name`` whose IP is ``pod_ip`` (the kubelet sets HOSTNAME to the name)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + FIND_POD_SECONDS
    while True:
        pods, _ = await api.list(PODS, field_selector=f"metadata.name={name}")
        for pod in pods:
            if (pod.get("status") or {}).get("podIP") in (pod_ip, None):
                return pod
        if loop.time() > deadline:
            raise LookupError(f"no pod {name} with IP {pod_ip}")
        await asyncio.sleep(0.5)


def container(pod: Obj, name: str) -> Obj:
    return next(c for c in pod["spec"]["containers"] if c["name"] == name)


def reloader_env(pod: Obj) -> dict[str, str]:
    """POD_NAME and SHARD as the config-reloader container sees them."""
    env = {"POD_NAME": pod["metadata"]["name"]}
    reloader = next((c for c in pod["spec"]["containers"] if c["name"] == "config-reloader"), {})
    env.update({e["name"]: e["value"] for e in reloader.get("env") or [] if "value" in e})
    return env


def server_argv(args: list[str], mounts: list[Obj], root: Path) -> list[str]:
    """The container's flags with paths under its volume mounts moved under ``root``; console
    flags dropped when the binary's package has no such directory; listen address left to the
    caller."""
    mount_paths = [m["mountPath"] for m in mounts]
    out = []
    for arg in args:
        flag, _, value = arg.partition("=")
        if flag == "--web.listen-address":
            continue
        if flag in ("--web.console.templates", "--web.console.libraries") and not Path(value).is_dir():
            continue
        if value.startswith("/") and any(value == p or value.startswith(p.rstrip("/") + "/")
                                         for p in mount_paths):
            arg = f"{flag}={under_root(root, value)}"
        out.append(arg)
    return out


@dataclass
class Reloader:
    api: ApiClient
    pod: Obj
    root: Path
    requests: dict[Path, discovery.Request] = field(default_factory=dict)
    config_text: str = ""

    def __post_init__(self) -> None:
        self.informers = [Informer(self.api, kind) for kind in (ENDPOINTS, SERVICES, PODS)]

    @property
    def namespace(self) -> str:
        return self.pod["metadata"]["namespace"]

    def _config_secret(self) -> str:
        volume = next(v for v in self.pod["spec"]["volumes"] if v["name"] == "config")
        return volume["secret"]["secretName"]

    async def sync_volumes(self) -> bool:
        pod_spec = self.pod["spec"]
        mounts = [m for c in pod_spec["containers"] for m in c.get("volumeMounts") or []
                  if m["name"] != "config-out"]
        return await materialize(self.api, self.namespace, pod_spec["volumes"], mounts, self.root)

    async def sync_config(self) -> bool:
        """Write config_out from the configuration Secret; True when it changed."""
        secret = await self.api.get(SECRETS, self.namespace, self._config_secret())
        raw = gzip.decompress(base64.b64decode(secret["data"]["prometheus.yaml.gz"])).decode()
        text, requests = runnable(raw, self.root, reloader_env(self.pod))
        if text == self.config_text:
            return False
        self.write_discovery(requests)
        out = self.root / CONFIG_OUT
        out.parent.mkdir(parents=True, exist_ok=True)
        candidate = out.with_name("prometheus.candidate.yaml")
        candidate.write_text(text)
        check_config(candidate)
        candidate.replace(out)
        self.config_text, self.requests = text, requests
        return True

    def write_discovery(self, requests: dict[Path, discovery.Request] | None = None) -> None:
        endpoints, services, pods = (i.items() for i in self.informers)
        endpoints, services, pods = list(endpoints), list(services), list(pods)
        for path, request in (requests if requests is not None else self.requests).items():
            try:
                groups = discovery.discover(request, endpoints, services, pods)
            except ValueError as err:
                log.warning("%s", err)
                groups = []
            content = json.dumps(groups, sort_keys=True, indent=1)
            if path.exists() and path.read_text() == content:
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_name(f".{path.name}.tmp")
            temporary.write_text(content)
            temporary.replace(path)


async def run_server(api: ApiClient, pod_name: str, pod_ip: str, args: list[str]) -> None:
    pod = await own_pod(api, pod_name, pod_ip)
    root = Path(tempfile.mkdtemp(prefix=f"promop-{pod_name}-"))
    reloader = Reloader(api, pod, root)
    server_container = container(pod, "prometheus")
    port = next((p["containerPort"] for p in server_container.get("ports") or []), 9090)
    process = PrometheusProcess(server_argv(args, server_container.get("volumeMounts") or [], root),
                                f"{pod_ip}:{port}")
    try:
        async with asyncio.TaskGroup() as group:
            for informer in reloader.informers:
                group.create_task(informer.run())
            await asyncio.gather(*(i.synced.wait() for i in reloader.informers))
            while True:
                await _cycle(reloader, process)
                await asyncio.sleep(SYNC_SECONDS)
    finally:
        await process.stop()
        shutil.rmtree(root, ignore_errors=True)


async def _cycle(reloader: Reloader, process: PrometheusProcess) -> None:
    """One pass of the reloader: volumes, configuration, discovery files, (re)start or reload."""
    try:
        changed = await reloader.sync_volumes()
        changed |= await reloader.sync_config()
    except (ConfigRejected, FileNotFoundError, KeyError) as err:
        log.warning("configuration not applied: %s", err)
        return
    reloader.write_discovery()
    if not process.running:
        await process.start()
        with contextlib.suppress(TimeoutError, RuntimeError):
            await process.wait_ready()
    elif changed:
        await process.reload()
