"""The endpoints and endpointslice controllers: for every Service with a selector, the pods it
selects as core/v1 Endpoints and discovery.k8s.io/v1 EndpointSlices.

Endpoints (endpoints_controller.go): a pod with an IP, not terminal and not terminating is a
ready address when Ready (or ``publishNotReadyAddresses``), else a not-ready address; addresses
sharing the same resolved ports form one subset. EndpointSlices (endpointslice controller): the
same pods plus terminating ones, each with ``ready``/``serving``/``terminating`` conditions; one
slice per distinct port set, named ``<service>-<random>``, owned by the Service. A named
``targetPort`` resolves to the container port of that name in each pod (podutil.FindPort); a pod
without it is left out for that port.
"""

from __future__ import annotations

import copy
from typing import Any

from ..client import ENDPOINTS, ENDPOINTSLICES, PODS, SERVICES, ApiClient, KubeError
from .informer import Informer
from .meta import Obj, deleting, key_of, labels_match, pod_ready, pod_terminal
from .runtime import enqueue_all, run_reconciler
from .workqueue import WorkQueue

Key = tuple[str, str]
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
MANAGED_BY = "endpointslice-controller.k8s.io"
HEADLESS_LABEL = "service.kubernetes.io/headless"


def find_port(pod: Obj, service_port: Obj) -> int | None:
    target = service_port.get("targetPort", service_port.get("port"))
    if isinstance(target, int):
        return target
    if str(target).isdigit():
        return int(target)
    protocol = service_port.get("protocol", "TCP")
    for container in pod["spec"].get("containers") or []:
        for port in container.get("ports") or []:
            if port.get("name") == target and port.get("protocol", "TCP") == protocol:
                return int(port["containerPort"])
    return None


def endpoint_ports(pod: Obj, service: Obj) -> list[Obj]:
    out = []
    for sp in service["spec"].get("ports") or []:
        number = find_port(pod, sp)
        if number is None:
            continue
        port: Obj = {"port": number, "protocol": sp.get("protocol", "TCP")}
        if sp.get("name"):
            port["name"] = sp["name"]
        if sp.get("appProtocol"):
            port["appProtocol"] = sp["appProtocol"]
        out.append(port)
    return sorted(out, key=lambda p: (p.get("name", ""), p["port"], p["protocol"]))


def _headless(service: Obj) -> bool:
    return service["spec"].get("clusterIP") == "None"


def _target_ref(pod: Obj) -> Obj:
    meta = pod["metadata"]
    return {"kind": "Pod", "namespace": meta["namespace"], "name": meta["name"], "uid": meta["uid"]}


def _hostname(pod: Obj, service: Obj) -> str:
    spec = pod["spec"]
    if spec.get("hostname") and spec.get("subdomain") == service["metadata"]["name"]:
        return str(spec["hostname"]) if _headless(service) else ""
    return ""


def selected_pods(service: Obj, pods: list[Obj]) -> list[Obj]:
    selector = service["spec"].get("selector") or {}
    return [p for p in pods if labels_match(p["metadata"].get("labels"), selector)]


def _includable(pod: Obj, include_terminating: bool) -> bool:
    """endpointsliceutil.ShouldPodBeInEndpoints."""
    if pod_terminal(pod) or not (pod.get("status") or {}).get("podIP"):
        return False
    return include_terminating or not deleting(pod)


def endpoint_subsets(service: Obj, pods: list[Obj]) -> list[Obj]:
    """The ``subsets`` of the Service's Endpoints, repacked and sorted."""
    publish = bool(service["spec"].get("publishNotReadyAddresses"))
    groups: dict[str, Obj] = {}
    for pod in pods:
        if not _includable(pod, publish):
            continue
        ports = endpoint_ports(pod, service)
        if not ports and service["spec"].get("ports"):
            continue
        address: Obj = {"ip": pod["status"]["podIP"], "targetRef": _target_ref(pod)}
        if pod["spec"].get("nodeName"):
            address["nodeName"] = pod["spec"]["nodeName"]
        if _hostname(pod, service):
            address["hostname"] = _hostname(pod, service)
        subset = groups.setdefault(repr(ports), {"ports": ports})
        field = "addresses" if publish or pod_ready(pod) else "notReadyAddresses"
        subset.setdefault(field, []).append(address)
    out = []
    for subset in groups.values():
        for field in ("addresses", "notReadyAddresses"):
            if field in subset:
                subset[field].sort(key=lambda a: (_ip_key(a["ip"]), a["targetRef"]["uid"]))
        if not subset["ports"]:
            del subset["ports"]
        out.append(subset)
    return sorted(out, key=repr)


def slice_groups(service: Obj, pods: list[Obj]) -> dict[str, tuple[list[Obj], list[Obj]]]:
    """EndpointSlice contents by port set: ``repr(ports) -> (ports, endpoints)``."""
    publish = bool(service["spec"].get("publishNotReadyAddresses"))
    groups: dict[str, tuple[list[Obj], list[Obj]]] = {}
    for pod in pods:
        if not _includable(pod, True):
            continue
        ports = endpoint_ports(pod, service)
        if not ports and service["spec"].get("ports"):
            continue
        serving = pod_ready(pod)
        terminating = deleting(pod)
        endpoint: Obj = {
            "addresses": [pod["status"]["podIP"]],
            "conditions": {
                "ready": publish or (serving and not terminating),
                "serving": serving,
                "terminating": terminating,
            },
            "targetRef": _target_ref(pod),
        }
        if pod["spec"].get("nodeName"):
            endpoint["nodeName"] = pod["spec"]["nodeName"]
        if _hostname(pod, service):
            endpoint["hostname"] = _hostname(pod, service)
        groups.setdefault(repr(ports), (ports, []))[1].append(endpoint)
    for _, endpoints in groups.values():
        endpoints.sort(key=lambda e: _ip_key(e["addresses"][0]))
    return groups


def _ip_key(ip: str) -> tuple[int, ...]:
    return tuple(int(part) for part in ip.split("."))


def _service_labels(service: Obj) -> dict[str, str]:
    labels = dict(service["metadata"].get("labels") or {})
    if _headless(service):
        labels[HEADLESS_LABEL] = ""
    return labels


class EndpointsController:
    """Runs the Endpoints and the EndpointSlice reconciliation for each Service."""

    name = "endpoint-controller"

    async def run(self, api: ApiClient) -> None:
        self.api = api
        self.services = Informer(api, SERVICES)
        self.pods = Informer(api, PODS)
        self.endpoints = Informer(api, ENDPOINTS)
        self.slices = Informer(api, ENDPOINTSLICES)
        self.queue: WorkQueue[Key] = WorkQueue()
        self.services.on_change(lambda _t, old, new: self.queue.add(key_of(new or old or {})))
        self.pods.on_change(self._pod_changed)
        self.endpoints.on_change(lambda _t, old, new: self.queue.add(key_of(new or old or {})))
        self.slices.on_change(self._slice_changed)
        informers = [self.services, self.pods, self.endpoints, self.slices]
        await run_reconciler(self.name, informers, self.queue, self.sync)

    def _pod_changed(self, _type: str, old: Obj | None, new: Obj | None) -> None:
        keys: set[Key] = set()
        for pod in (old, new):
            if pod is None:
                continue
            for service in self.services.items(pod["metadata"]["namespace"]):
                selector = service["spec"].get("selector")
                if selector and labels_match(pod["metadata"].get("labels"), selector):
                    keys.add(key_of(service))
        enqueue_all(self.queue, list(keys))

    def _slice_changed(self, _type: str, old: Obj | None, new: Obj | None) -> None:
        obj = new or old
        assert obj is not None
        name = (obj["metadata"].get("labels") or {}).get(SERVICE_NAME_LABEL)
        if name:
            self.queue.add((obj["metadata"]["namespace"], name))

    async def sync(self, key: Key) -> None:
        service = self.services.get(*key)
        if service is None:
            await self._delete_endpoints(key)
            return
        if not service["spec"].get("selector") or service["spec"].get("type") == "ExternalName":
            return
        pods = selected_pods(service, self.pods.items(key[0]))
        await self._sync_endpoints(service, pods)
        await self._sync_slices(service, pods)

    async def _delete_endpoints(self, key: Key) -> None:
        if self.endpoints.get(*key) is None:
            return
        try:
            await self.api.delete(ENDPOINTS, key[0], key[1])
        except KubeError as err:
            if not err.not_found:
                raise

    async def _sync_endpoints(self, service: Obj, pods: list[Obj]) -> None:
        namespace, name = key_of(service)
        subsets = endpoint_subsets(service, pods)
        labels = _service_labels(service)
        current = self.endpoints.get(namespace, name)
        desired: Obj = {
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": {"name": name, "namespace": namespace, "labels": labels},
        }
        if subsets:
            desired["subsets"] = subsets
        if current is None:
            await self.api.create(ENDPOINTS, namespace, desired)
            return
        same_labels = (current["metadata"].get("labels") or {}) == labels
        if (current.get("subsets") or []) == subsets and same_labels:
            return
        updated = copy.deepcopy(current)
        updated["metadata"]["labels"] = labels
        updated.pop("subsets", None)
        if subsets:
            updated["subsets"] = subsets
        await self.api.replace(ENDPOINTS, updated)

    async def _sync_slices(self, service: Obj, pods: list[Obj]) -> None:
        namespace, name = key_of(service)
        groups = slice_groups(service, pods)
        if not groups:
            groups = {"": ([], [])}
        existing = [
            s for s in self.slices.items(namespace)
            if (s["metadata"].get("labels") or {}).get(SERVICE_NAME_LABEL) == name
            and (s["metadata"].get("labels") or {}).get(MANAGED_BY_LABEL) == MANAGED_BY
        ]
        by_ports = {repr(s.get("ports") or []): s for s in existing}
        keep: set[str] = set()
        labels = {**_service_labels(service), SERVICE_NAME_LABEL: name, MANAGED_BY_LABEL: MANAGED_BY}
        for ports, endpoints in groups.values():
            current = by_ports.get(repr(ports))
            body = self._slice(service, ports, endpoints, labels, current)
            if current is None:
                await self.api.create(ENDPOINTSLICES, namespace, body)
                continue
            keep.add(current["metadata"]["name"])
            if body != current:
                await self.api.replace(ENDPOINTSLICES, body)
        for stale in existing:
            if stale["metadata"]["name"] not in keep:
                try:
                    await self.api.delete(ENDPOINTSLICES, namespace, stale["metadata"]["name"])
                except KubeError as err:
                    if not err.not_found:
                        raise

    @staticmethod
    def _slice(
        service: Obj,
        ports: list[Obj],
        endpoints: list[Obj],
        labels: dict[str, str],
        current: Obj | None,
    ) -> Obj:
        meta = service["metadata"]
        body: Any = copy.deepcopy(current) if current else {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {
                "generateName": f"{meta['name']}-",
                "namespace": meta["namespace"],
                "ownerReferences": [{
                    "apiVersion": "v1", "kind": "Service", "name": meta["name"],
                    "uid": meta["uid"], "controller": True, "blockOwnerDeletion": True,
                }],
            },
            "addressType": "IPv4",
        }
        body["metadata"]["labels"] = labels
        body["endpoints"] = endpoints
        body.pop("ports", None)
        if ports:
            body["ports"] = ports
        return body
