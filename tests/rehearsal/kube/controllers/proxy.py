"""kube-proxy for the rehearsal node: TCP forwarders for Service ClusterIPs and NodePorts.

Every TCP port of a Service with a ClusterIP is served on ``clusterIP:port``; a NodePort (also of
LoadBalancer Services) on ``node_ip:(nodePort + nodeport_offset)``. Each accepted connection goes
to one endpoint of the Service port, read from the EndpointSlices at that moment: the ready
endpoints, or when there are none the serving terminating ones (as kube-proxy since 1.26),
chosen round-robin. There is no retry: if the chosen endpoint refuses, or there is no endpoint,
the client's connection is reset, as an iptables REJECT/DNAT to a dead pod would fail it.
Listeners follow Service changes and are all closed when the proxy stops. UDP and SCTP ports,
session affinity and traffic policies are not implemented.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import socket
import struct
from dataclasses import dataclass

from ..client import ENDPOINTSLICES, SERVICES, ApiClient
from .endpoints import SERVICE_NAME_LABEL
from .informer import Informer

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 5.0
CHUNK = 65536


@dataclass(frozen=True)
class PortRef:
    """One port of one Service, as its endpoints name it."""

    namespace: str
    service: str
    port_name: str


class KubeProxy:
    name = "kube-proxy"

    def __init__(self, node_ip: str, nodeport_offset: int) -> None:
        self.node_ip = node_ip
        self.nodeport_offset = nodeport_offset
        self.listeners: dict[tuple[str, int], tuple[PortRef, asyncio.Server]] = {}
        self._turns: dict[PortRef, itertools.count[int]] = {}
        self._changed = asyncio.Event()
        self._connections: set[asyncio.Task[None]] = set()
        self._unavailable: set[tuple[str, int]] = set()

    async def run(self, api: ApiClient) -> None:
        self.services = Informer(api, SERVICES)
        self.slices = Informer(api, ENDPOINTSLICES)
        self.services.on_change(lambda *_: self._changed.set())
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self.services.run())
                group.create_task(self.slices.run())
                await self.services.synced.wait()
                await self.slices.synced.wait()
                while True:
                    self._changed.clear()
                    await self._reconcile()
                    await self._changed.wait()
        finally:
            await self._close_all()

    def desired(self) -> dict[tuple[str, int], PortRef]:
        out: dict[tuple[str, int], PortRef] = {}
        for svc in self.services.items():
            spec = svc.get("spec") or {}
            cluster_ip = spec.get("clusterIP")
            if spec.get("type") == "ExternalName":
                continue
            meta = svc["metadata"]
            for port in spec.get("ports") or []:
                if port.get("protocol", "TCP") != "TCP":
                    continue
                ref = PortRef(meta["namespace"], meta["name"], port.get("name") or "")
                if cluster_ip and cluster_ip != "None":
                    out[(cluster_ip, int(port["port"]))] = ref
                if port.get("nodePort"):
                    out[(self.node_ip, int(port["nodePort"]) + self.nodeport_offset)] = ref
        return out

    async def _reconcile(self) -> None:
        wanted = self.desired()
        for address in [a for a in self.listeners if wanted.get(a) != self.listeners[a][0]]:
            _, server = self.listeners.pop(address)
            server.close()
            await server.wait_closed()
        for address, ref in wanted.items():
            if address in self.listeners:
                continue
            try:
                server = await asyncio.start_server(
                    lambda r, w, ref=ref: self._accept(ref, r, w), address[0], address[1],
                    reuse_address=True,
                )
            except OSError as err:
                if address not in self._unavailable:
                    log.warning("kube-proxy: cannot listen on %s:%s: %s", *address, err)
                self._unavailable.add(address)
                continue
            self._unavailable.discard(address)
            self.listeners[address] = (ref, server)

    def backends(self, ref: PortRef) -> list[tuple[str, int]]:
        """Ready endpoints of the Service port, else its serving terminating ones."""
        ready: list[tuple[str, int]] = []
        terminating: list[tuple[str, int]] = []
        for item in self.slices.items(ref.namespace):
            if (item["metadata"].get("labels") or {}).get(SERVICE_NAME_LABEL) != ref.service:
                continue
            named = [p["port"] for p in item.get("ports") or [] if p.get("name", "") == ref.port_name]
            port = named[0] if named else None
            if port is None:
                continue
            for endpoint in item.get("endpoints") or []:
                conditions = endpoint.get("conditions") or {}
                target = (endpoint["addresses"][0], int(port))
                if conditions.get("ready"):
                    ready.append(target)
                elif conditions.get("serving") and conditions.get("terminating"):
                    terminating.append(target)
        return sorted(ready or terminating)

    def _accept(
        self, ref: PortRef, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.create_task(self._forward(ref, reader, writer))
        self._connections.add(task)
        task.add_done_callback(self._connections.discard)

    async def _forward(
        self, ref: PortRef, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter
    ) -> None:
        choices = self.backends(ref)
        if not choices:
            _reset(client_w)
            return
        turn = next(self._turns.setdefault(ref, itertools.count()))
        host, port = choices[turn % len(choices)]
        try:
            backend_r, backend_w = await asyncio.wait_for(
                asyncio.open_connection(host, port), CONNECT_TIMEOUT
            )
        except (OSError, TimeoutError):
            _reset(client_w)
            return
        try:
            await asyncio.gather(_pipe(client_r, backend_w), _pipe(backend_r, client_w))
        finally:
            for w in (backend_w, client_w):
                w.close()

    async def _close_all(self) -> None:
        for _, server in self.listeners.values():
            server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        for _, server in self.listeners.values():
            with contextlib.suppress(Exception):
                await server.wait_closed()
        self.listeners.clear()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        writer.close()


def _reset(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.close()
