"""Server-side printing: ``Accept: application/json;as=Table;g=meta.k8s.io;v=v1``.

kubectl asks every list and get for a Table and prints its columns as they come. Built-in kinds
get the columns ``kubectl get`` shows against a real cluster for the kinds our roles look at;
custom resources get Name, their CRD's additionalPrinterColumns (JSONPath ``.a.b`` only), and Age
when the CRD declares no columns, as the apiserver's default table convertor does.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from .resources import ResourceType

Obj = dict[str, Any]

NAME_COLUMN = {
    "name": "Name",
    "type": "string",
    "format": "name",
    "description": "Name must be unique within a namespace. Is required when creating resources, "
    "although some resources may allow a client to request the generation of an appropriate name "
    "automatically. Name is primarily intended for creation idempotence and configuration "
    "definition. Cannot be updated. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
    "priority": 0,
}
AGE_COLUMN = {
    "name": "Age",
    "type": "string",
    "format": "",
    "description": "CreationTimestamp is a timestamp representing the server time when this object was created.",
    "priority": 0,
}


def human_duration(seconds: float) -> str:
    """apimachinery's duration.HumanDuration."""
    s = int(seconds)
    if s < 0:
        return "<invalid>"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        rest = s % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h{rest}m" if rest else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d{rest}h" if rest else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    return f"{hours // 24 // 365}y"


def age(obj: Obj) -> str:
    stamp = obj["metadata"].get("creationTimestamp")
    if not stamp:
        return "<unknown>"
    created = datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    return human_duration(time.time() - created)


def _col(name: str, kind: str = "string", description: str = "", priority: int = 0) -> Obj:
    return {"name": name, "type": kind, "format": "", "description": description, "priority": priority}


def _get(obj: Any, path: str) -> Any:
    node = obj
    for key in path.strip(".").split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def _pod_row(obj: Obj) -> list[Any]:
    statuses = (obj.get("status") or {}).get("containerStatuses") or []
    total = len((obj.get("spec") or {}).get("containers") or [])
    ready = sum(1 for s in statuses if s.get("ready"))
    restarts = sum(int(s.get("restartCount", 0)) for s in statuses)
    phase = (obj.get("status") or {}).get("phase", "")
    reason = phase
    for s in statuses:
        waiting = (s.get("state") or {}).get("waiting") or {}
        terminated = (s.get("state") or {}).get("terminated") or {}
        reason = waiting.get("reason") or terminated.get("reason") or reason
    if obj["metadata"].get("deletionTimestamp"):
        reason = "Terminating"
    return [f"{ready}/{total}", reason, restarts, age(obj)]


def _service_row(obj: Obj) -> list[Any]:
    spec = obj.get("spec") or {}
    ports = []
    for p in spec.get("ports") or []:
        text = str(p.get("port"))
        if p.get("nodePort"):
            text += f":{p['nodePort']}"
        ports.append(f"{text}/{p.get('protocol', 'TCP')}")
    external = ",".join(spec.get("externalIPs") or []) or (
        "<pending>" if spec.get("type") == "LoadBalancer" else "<none>"
    )
    return [spec.get("type", ""), spec.get("clusterIP", "<none>"), external, ",".join(ports) or "<none>", age(obj)]


def _deployment_row(obj: Obj) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    return [
        f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 0)}",
        status.get("updatedReplicas", 0),
        status.get("availableReplicas", 0),
        age(obj),
    ]


def _replicaset_row(obj: Obj) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    return [spec.get("replicas", 0), status.get("replicas", 0), status.get("readyReplicas", 0), age(obj)]


def _event_row(obj: Obj) -> list[Any]:
    involved = obj.get("involvedObject") or {}
    last = obj.get("lastTimestamp") or obj.get("eventTime") or obj["metadata"].get("creationTimestamp")
    first = obj.get("firstTimestamp") or last
    source = obj.get("source") or {}
    return [
        _since(last),
        obj.get("type", ""),
        obj.get("reason", ""),
        f"{str(involved.get('kind', '')).lower()}/{involved.get('name', '')}",
        involved.get("fieldPath", ""),
        ", ".join(v for v in (source.get("component"), source.get("host")) if v),
        obj.get("message", ""),
        _since(first),
        obj.get("count", 1),
        obj["metadata"]["name"],
    ]


def _since(stamp: Any) -> str:
    if not isinstance(stamp, str) or not stamp:
        return "<unknown>"
    return human_duration(time.time() - datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp())


def _endpoints_row(obj: Obj) -> list[Any]:
    shown = [
        f"{a.get('ip')}:{p.get('port')}"
        for subset in obj.get("subsets") or []
        for a in subset.get("addresses") or []
        for p in subset.get("ports") or [{}]
    ]
    text = ",".join(shown[:3]) + (f" + {len(shown) - 3} more..." if len(shown) > 3 else "")
    return [text or "<none>", age(obj)]


def _statefulset_row(obj: Obj) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    return [f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 0)}", age(obj)]


def _node_row(obj: Obj) -> list[Any]:
    ready = next((c for c in (obj.get("status") or {}).get("conditions") or [] if c.get("type") == "Ready"), {})
    labels = obj["metadata"].get("labels") or {}
    roles = ",".join(sorted(k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/")))
    version = ((obj.get("status") or {}).get("nodeInfo") or {}).get("kubeletVersion", "")
    return ["Ready" if ready.get("status") == "True" else "NotReady", roles or "<none>", age(obj), version]


EVENT_COLUMNS = [
    _col("Last Seen"),
    _col("Type"),
    _col("Reason"),
    _col("Object"),
    _col("Subobject", priority=1),
    _col("Source", priority=1),
    _col("Message"),
    _col("First Seen", priority=1),
    _col("Count", "integer", priority=1),
    _col("Name", priority=1),
]
NAMELESS = {("", "Event")}

BUILTIN: dict[tuple[str, str], tuple[list[Obj], Callable[[Obj], list[Any]]]] = {
    ("", "Pod"): ([_col("Ready"), _col("Status"), _col("Restarts", "string"), AGE_COLUMN], _pod_row),
    ("", "Service"): (
        [_col("Type"), _col("Cluster-IP"), _col("External-IP"), _col("Port(s)"), AGE_COLUMN],
        _service_row,
    ),
    ("", "Namespace"): ([_col("Status"), AGE_COLUMN], lambda o: [(o.get("status") or {}).get("phase", ""), age(o)]),
    ("", "ConfigMap"): (
        [_col("Data", "integer"), AGE_COLUMN],
        lambda o: [len(o.get("data") or {}) + len(o.get("binaryData") or {}), age(o)],
    ),
    ("", "Secret"): (
        [_col("Type"), _col("Data", "integer"), AGE_COLUMN],
        lambda o: [o.get("type", ""), len(o.get("data") or {}), age(o)],
    ),
    ("apps", "Deployment"): (
        [_col("Ready"), _col("Up-to-date", "integer"), _col("Available", "integer"), AGE_COLUMN],
        _deployment_row,
    ),
    ("", "Event"): (EVENT_COLUMNS, _event_row),
    ("", "Endpoints"): ([_col("Endpoints"), AGE_COLUMN], _endpoints_row),
    ("", "Node"): ([_col("Status"), _col("Roles"), AGE_COLUMN, _col("Version")], _node_row),
    ("", "ServiceAccount"): ([_col("Secrets", "integer"), AGE_COLUMN], lambda o: [len(o.get("secrets") or []), age(o)]),
    ("apps", "StatefulSet"): ([_col("Ready"), AGE_COLUMN], _statefulset_row),
    ("apiextensions.k8s.io", "CustomResourceDefinition"): (
        [_col("Created At", "date")],
        lambda o: [o["metadata"].get("creationTimestamp")],
    ),
    ("apps", "ReplicaSet"): (
        [_col("Desired", "integer"), _col("Current", "integer"), _col("Ready", "integer"), AGE_COLUMN],
        _replicaset_row,
    ),
}


def _columns(rt: ResourceType) -> tuple[list[Obj], Callable[[Obj], list[Any]]]:
    if rt.is_custom:
        specs = list(rt.printer_columns)
        if not specs:
            return [AGE_COLUMN], lambda o: [age(o)]
        cols = [_col(c["name"], c.get("type", "string"), c.get("description", ""), c.get("priority", 0)) for c in specs]

        def row(obj: Obj) -> list[Any]:
            out = []
            for c in specs:
                value = _get(obj, c.get("jsonPath", ""))
                if c.get("type") == "date" and isinstance(value, str):
                    created = datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
                    value = human_duration(time.time() - created)
                out.append(value)
            return out

        return cols, row
    return BUILTIN.get((rt.group, rt.kind), ([AGE_COLUMN], lambda o: [age(o)]))


def partial_metadata(obj: Obj) -> Obj:
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj["metadata"]}


def table(rt: ResourceType, items: list[Obj], resource_version: str, include: str, list_meta: Obj | None = None) -> Obj:
    columns, row = _columns(rt)
    rows = []
    for obj in items:
        named = [] if (rt.group, rt.kind) in NAMELESS else [obj["metadata"]["name"]]
        entry: Obj = {"cells": [*named, *row(obj)]}
        if include == "Object":
            entry["object"] = obj
        elif include != "None":
            entry["object"] = partial_metadata(obj)
        rows.append(entry)
    meta = dict(list_meta or {})
    meta["resourceVersion"] = resource_version
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": meta,
        "columnDefinitions": columns if (rt.group, rt.kind) in NAMELESS else [NAME_COLUMN, *columns],
        "rows": rows,
    }
