"""Kubernetes service discovery, done outside Prometheus for the Debian build that lacks it.

Debian's prometheus 2.42 (``2.42.0+ds``) is built without ``kubernetes_sd_configs``. The
stand-in therefore computes, from the Endpoints, Services and Pods it watches, the same target
groups Prometheus's own Kubernetes discovery would produce, with the same ``__meta_kubernetes_*``
labels (roles ``endpoints`` and ``pod``, as Prometheus 2.42 labels them), and hands them to the
binary through ``file_sd_configs``. The relabeling the operator generated then runs, unchanged,
inside the real Prometheus.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .relabel import sanitize

Obj = dict[str, Any]
Labels = dict[str, str]
META = "__meta_kubernetes_"


@dataclass(frozen=True)
class Request:
    """One ``kubernetes_sd_configs`` entry: a role and the namespaces it watches (None: all)."""

    role: str
    namespaces: tuple[str, ...] | None

    def watches(self, namespace: str) -> bool:
        return self.namespaces is None or namespace in self.namespaces


def _object_meta(prefix: str, meta: Mapping[str, Any]) -> Labels:
    labels: Labels = {}
    for kind, values in (("label", meta.get("labels")), ("annotation", meta.get("annotations"))):
        for key, value in (values or {}).items():
            labels[f"{prefix}{kind}_{sanitize(key)}"] = str(value)
            labels[f"{prefix}{kind}present_{sanitize(key)}"] = "true"
    return labels


def service_labels(service: Obj) -> Labels:
    return {f"{META}service_name": service["metadata"]["name"],
            **_object_meta(f"{META}service_", service["metadata"])}


def _pod_ready(pod: Obj) -> str:
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return str(condition.get("status", "Unknown")).lower()
    return "unknown"


def pod_labels(pod: Obj) -> Labels:
    meta, spec, status = pod["metadata"], pod.get("spec") or {}, pod.get("status") or {}
    labels = {
        f"{META}pod_name": meta["name"],
        f"{META}pod_ip": status.get("podIP", ""),
        f"{META}pod_ready": _pod_ready(pod),
        f"{META}pod_phase": status.get("phase", ""),
        f"{META}pod_node_name": spec.get("nodeName", ""),
        f"{META}pod_host_ip": status.get("hostIP", ""),
        f"{META}pod_uid": meta.get("uid", ""),
    }
    controller = next((ref for ref in meta.get("ownerReferences") or [] if ref.get("controller")),
                      None)
    if controller is not None:
        labels[f"{META}pod_controller_kind"] = controller.get("kind", "")
        labels[f"{META}pod_controller_name"] = controller.get("name", "")
    labels.update(_object_meta(f"{META}pod_", meta))
    return labels


def _container_port_labels(container: Obj, port: Obj, protocol: str | None = None) -> Labels:
    return {
        f"{META}pod_container_name": container["name"],
        f"{META}pod_container_port_name": port.get("name", ""),
        f"{META}pod_container_port_number": str(port["containerPort"]),
        f"{META}pod_container_port_protocol": protocol or port.get("protocol", "TCP"),
    }


def _target(address: str, *label_sets: Labels) -> Obj:
    labels: Labels = {}
    for part in label_sets:
        labels.update(part)
    return {"targets": [address], "labels": labels}


def endpoints_targets(endpoints: Obj, services: Mapping[tuple[str, str], Obj],
                      pods: Mapping[tuple[str, str], Obj]) -> list[Obj]:
    """Targets of one Endpoints object, as the ``endpoints`` role builds them."""
    meta = endpoints["metadata"]
    namespace, name = meta["namespace"], meta["name"]
    group = {f"{META}namespace": namespace, f"{META}endpoints_name": name}
    service = services.get((namespace, name))
    if service is not None:
        group.update(service_labels(service))
    group.update(_object_meta(f"{META}endpoints_", meta))
    targets: dict[tuple[str, str], Obj] = {}
    seen_pods: dict[tuple[str, str], tuple[Obj, set[int]]] = {}
    for subset in endpoints.get("subsets") or []:
        for port in subset.get("ports") or []:
            addresses = [(a, "true") for a in subset.get("addresses") or []]
            addresses += [(a, "false") for a in subset.get("notReadyAddresses") or []]
            for address, ready in addresses:
                target: Labels = {
                    f"{META}endpoint_port_name": port.get("name", ""),
                    f"{META}endpoint_port_protocol": port.get("protocol", "TCP"),
                    f"{META}endpoint_ready": ready,
                }
                ref = address.get("targetRef")
                if ref:
                    target[f"{META}endpoint_address_target_kind"] = ref.get("kind", "")
                    target[f"{META}endpoint_address_target_name"] = ref.get("name", "")
                if address.get("nodeName"):
                    target[f"{META}endpoint_node_name"] = address["nodeName"]
                if address.get("hostname"):
                    target[f"{META}endpoint_hostname"] = address["hostname"]
                pod = pods.get((ref.get("namespace", namespace), ref.get("name", ""))) \
                    if ref and ref.get("kind") == "Pod" else None
                if pod is not None:
                    target.update(pod_labels(pod))
                    for container in pod["spec"].get("containers") or []:
                        match = next((p for p in container.get("ports") or []
                                      if p["containerPort"] == port["port"]), None)
                        if match is not None:
                            target.update(_container_port_labels(
                                container, match, port.get("protocol", "TCP")))
                            break
                    entry = seen_pods.setdefault(key_of(pod), (pod, set()))
                    entry[1].add(port["port"])
                host = f"{address['ip']}:{port['port']}"
                targets[(host, port.get("name", ""))] = _target(host, group, target)
    for pod, covered in seen_pods.values():
        for container in pod["spec"].get("containers") or []:
            for port in container.get("ports") or []:
                if port["containerPort"] in covered:
                    continue
                host = f"{pod['status'].get('podIP', '')}:{port['containerPort']}"
                targets[(host, f"pod:{port.get('name', '')}")] = _target(
                    host, group, _container_port_labels(container, port), pod_labels(pod))
    return list(targets.values())


def pod_targets(pod: Obj) -> list[Obj]:
    """Targets of one Pod, as the ``pod`` role builds them (none before it has an IP)."""
    ip = (pod.get("status") or {}).get("podIP")
    if not ip:
        return []
    group = {**pod_labels(pod), f"{META}namespace": pod["metadata"]["namespace"]}
    targets = []
    for container in pod["spec"].get("containers") or []:
        ports = container.get("ports") or []
        if not ports:
            targets.append(_target(ip, group, {f"{META}pod_container_name": container["name"],
                                               f"{META}pod_container_init": "false"}))
        for port in ports:
            targets.append(_target(f"{ip}:{port['containerPort']}", group,
                                   _container_port_labels(container, port),
                                   {f"{META}pod_container_init": "false"}))
    return targets


def key_of(obj: Obj) -> tuple[str, str]:
    return obj["metadata"].get("namespace", ""), obj["metadata"]["name"]


def discover(request: Request, endpoints: Iterable[Obj], services: Iterable[Obj],
             pods: Iterable[Obj]) -> list[Obj]:
    """The file_sd target groups for ``request`` over the current objects."""
    pods_by_key = {key_of(p): p for p in pods}
    if request.role == "pod":
        return [t for key, pod in sorted(pods_by_key.items()) if request.watches(key[0])
                for t in pod_targets(pod)]
    if request.role != "endpoints":
        raise ValueError(f"role {request.role} is not reproduced by the rehearsal")
    services_by_key = {key_of(s): s for s in services}
    return [t for ep in sorted(endpoints, key=key_of) if request.watches(key_of(ep)[0])
            for t in endpoints_targets(ep, services_by_key, pods_by_key)]
