"""One rehearsal cluster: its apiserver, in-process controllers and plugged-in controllers.

``Cluster.start()`` builds the state (store, registry, REST verbs, OpenAPI), starts the aiohttp
server on ``node_ip:api_port``, seeds what a fresh kind cluster has (namespaces default,
kube-system, kube-public, kube-node-lease with their ``default`` ServiceAccounts; the
``kubernetes`` Service, Endpoints and EndpointSlice), then starts the CRD and garbage-collector
loops and the controllers from ``controllers.default_controllers(config)`` (when that package
exists) as HTTP clients of this server; the API server reads pod logs from the kubelet among them
(``Cluster.kubelet``). ``stop()`` undoes all of it.

The API is served over TLS (client-go sends bearer tokens only over TLS) with a CA made for the
cluster; ``kubeconfig()`` carries it. The controllers reach the same application, token and all,
through a second, plain-HTTP listener on the node IP (``internal_url``), because their aiohttp
client has no way to be given the CA.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import importlib
import logging
import secrets
import shutil
import socket
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from .allocators import ServiceAllocator
from .crds import CrdController
from .gc import GarbageCollector
from .openapi import OpenApi
from .resources import Registry
from .rest import Api, WriteOptions
from .schema import SchemaLookup
from .server import ApiServer
from .store import Store
from .tls import make_serving_cert
from .tracking import FieldTracker

log = logging.getLogger(__name__)
SYSTEM = WriteOptions(field_manager="kube-apiserver")
SEED_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


@dataclass
class ClusterConfig:
    name: str
    node_ip: str = "127.0.1.1"
    api_port: int = 0
    pod_network: str = "127.11.0.0/16"
    service_network: str = "127.12.0.0/16"
    nodeport_offset: int = 0
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    kubelet_config: Path | None = None
    kubernetes_version: str = "1.33"
    crd_established_delay: float = 1.0
    request_log: Path | None = None
    bookmark_interval: float = 60.0
    watch_history: int = 5000
    tls_dir: Path | None = None


def _controllers_module() -> Any:
    try:
        return importlib.import_module(f"{__package__}.controllers")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__package__}.controllers":
            raise
        return None


class Cluster:
    def __init__(self, config: ClusterConfig) -> None:
        self.config = config
        self.store = Store(history_size=config.watch_history)
        self.registry = Registry()
        schemas = SchemaLookup.load(config.kubernetes_version)
        self.allocator = ServiceAllocator(config.service_network)
        self.api = Api(self.store, self.registry, self.allocator, FieldTracker(schemas), config.kubernetes_version)
        self.openapi = OpenApi(self.registry, config.kubernetes_version)
        self.server = ApiServer(
            self.api,
            self.openapi,
            config.token,
            config.request_log,
            config.kubernetes_version,
            config.bookmark_interval,
        )
        self.crds = CrdController(self.api, config.crd_established_delay)
        self.gc = GarbageCollector(self.api)
        self.port = config.api_port
        self.internal_port = 0
        self.tls_dir = config.tls_dir
        self._own_tls_dir = False
        self.cert = make_serving_cert(config.name, [config.node_ip, self.allocator.kubernetes_ip])
        self._runner: web.AppRunner | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._client: Any = None
        self.kubelet: Any = None

    @property
    def url(self) -> str:
        return f"https://{self.config.node_ip}:{self.port}"

    @property
    def internal_url(self) -> str:
        return f"http://{self.config.node_ip}:{self.internal_port}"

    @property
    def ca_file(self) -> Path:
        assert self.tls_dir is not None
        return self.tls_dir / "ca.crt"

    def _listen(self, port: int) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.config.node_ip, port))
        return sock

    async def start(self) -> None:
        if self.tls_dir is None:
            self.tls_dir = Path(tempfile.mkdtemp(prefix=f"{self.config.name}-tls-"))
            self._own_tls_dir = True
        context = self.cert.server_context(self.tls_dir)
        self._runner = web.AppRunner(self.server.app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        public, internal = self._listen(self.config.api_port), self._listen(0)
        self.port = public.getsockname()[1]
        self.internal_port = internal.getsockname()[1]
        await web.SockSite(self._runner, public, shutdown_timeout=1.0, ssl_context=context).start()
        await web.SockSite(self._runner, internal, shutdown_timeout=1.0).start()
        self.server.address = f"{self.config.node_ip}:{self.port}"
        self._seed()
        self._tasks = [
            asyncio.create_task(self.crds.run(), name=f"{self.config.name}-crds"),
            asyncio.create_task(self.gc.run(), name=f"{self.config.name}-gc"),
        ]
        await self._start_controllers()

    async def _start_controllers(self) -> None:
        module = _controllers_module()
        if module is None or not hasattr(module, "default_controllers"):
            return
        client_module = importlib.import_module(f"{__package__}.client")
        self._client = client_module.ApiClient(self.internal_url, self.config.token)
        for controller in module.default_controllers(self.config):
            if controller.name == "kubelet":
                self.kubelet = controller
                self.server.kubelet = controller
            self._tasks.append(
                asyncio.create_task(controller.run(self._client), name=f"{self.config.name}-{controller.name}")
            )

    def _create(self, plural: str, namespace: str, body: dict[str, Any], group: str = "", version: str = "v1") -> None:
        rt = self.registry.lookup(group, version, plural)
        assert rt is not None
        self.api.create(rt, namespace, body, SYSTEM)

    def _seed(self) -> None:
        for name in SEED_NAMESPACES:
            self._create("namespaces", "", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
        ip, port = self.config.node_ip, self.port
        https = {"name": "https", "port": port, "protocol": "TCP"}
        labels = {"component": "apiserver", "provider": "kubernetes"}
        self._create(
            "services",
            "default",
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "kubernetes", "labels": labels},
                "spec": {
                    "clusterIP": self.allocator.kubernetes_ip,
                    "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": port}],
                },
            },
        )
        self._create(
            "endpoints",
            "default",
            {
                "apiVersion": "v1",
                "kind": "Endpoints",
                "metadata": {"name": "kubernetes", "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
                "subsets": [{"addresses": [{"ip": ip}], "ports": [https]}],
            },
        )
        self._create(
            "endpointslices",
            "default",
            {
                "apiVersion": "discovery.k8s.io/v1",
                "kind": "EndpointSlice",
                "metadata": {"name": "kubernetes", "labels": {"kubernetes.io/service-name": "kubernetes"}},
                "addressType": "IPv4",
                "endpoints": [{"addresses": [ip], "conditions": {"ready": True}}],
                "ports": [https],
            },
            group="discovery.k8s.io",
        )

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._client is not None:
            await self._client.close()
            self._client = None
        self.server.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._own_tls_dir and self.tls_dir is not None:
            shutil.rmtree(self.tls_dir, ignore_errors=True)

    def kubeconfig(self) -> dict[str, Any]:
        name = self.config.name
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": name,
                    "cluster": {
                        "server": self.url,
                        "certificate-authority-data": base64.b64encode(self.cert.ca_pem).decode(),
                    },
                }
            ],
            "users": [{"name": name, "user": {"token": self.config.token}}],
            "contexts": [{"name": name, "context": {"cluster": name, "user": name, "namespace": "default"}}],
            "current-context": name,
            "preferences": {},
        }
