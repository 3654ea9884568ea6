"""Per-kind create/update strategies (the registry strategies' PrepareForCreate/PrepareForUpdate).

What a strategy decides: which parts of a request the main endpoint and the ``status`` subresource
may change (status is reset on create and carried over on update for kinds that have a status
subresource; the status endpoint changes nothing but status), how ``metadata.generation`` moves
(1 on create, +1 when anything but metadata and status changes), and the admission the pods
and namespaces of a real cluster get (service account, tolerations, priority, QoS class,
the ``kubernetes`` namespace finalizer).
"""

from __future__ import annotations

from typing import Any

from .defaults import EMPTY_STATUS
from .objmeta import deep
from .quantity import quantity_value
from .resources import ResourceType

Obj = dict[str, Any]

# Metadata a status update may not change, per kind (registry status strategies); custom
# resources may change nothing but status.
STATUS_RESET: dict[tuple[str, str], tuple[str, ...]] = {
    ("apps", "Deployment"): ("labels",),
    ("", "Pod"): ("deletionTimestamp", "ownerReferences"),
}
STATUS_META_KEYS = (
    "deletionTimestamp",
    "generation",
    "labels",
    "annotations",
    "finalizers",
    "ownerReferences",
)
DEFAULT_TOLERATIONS = (
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
)


def tracks_generation(rt: ResourceType) -> bool:
    return rt.has_generation or rt.is_custom


def spec_part(rt: ResourceType, obj: Obj) -> Obj:
    """Everything whose change bumps generation: all but metadata (and status when separate)."""
    skip = {"metadata", "kind", "apiVersion"}
    if rt.has_status:
        skip.add("status")
    return {k: v for k, v in obj.items() if k not in skip}


def empty_status(rt: ResourceType) -> Obj | None:
    if rt.is_custom:
        return None
    return deep(EMPTY_STATUS.get((rt.group, rt.kind), {}))


def prepare_create(rt: ResourceType, obj: Obj) -> None:
    meta = obj["metadata"]
    if rt.has_status and (rt.group, rt.kind) not in (("", "Namespace"), ("", "Node")):
        status = empty_status(rt)
        if status is None:
            obj.pop("status", None)
        else:
            obj["status"] = status
    if tracks_generation(rt):
        meta["generation"] = 1
    if (rt.group, rt.kind) == ("", "Namespace"):
        obj.setdefault("spec", {})["finalizers"] = ["kubernetes"]
        obj["status"] = {"phase": "Active"}
    elif (rt.group, rt.kind) == ("", "Pod"):
        obj["status"]["qosClass"] = qos_class(obj.get("spec") or {})
    elif (rt.group, rt.kind) == ("apiextensions.k8s.io", "CustomResourceDefinition"):
        storage = [v.get("name") for v in obj["spec"].get("versions") or [] if v.get("storage")]
        obj["status"]["storedVersions"] = storage[:1]


def prepare_update(rt: ResourceType, new: Obj, old: Obj, subresource: str) -> None:
    """Carry over what this endpoint may not change, then move generation."""
    meta, old_meta = new["metadata"], old["metadata"]
    if subresource == "status" and rt.is_custom:
        _carry(meta, old_meta, STATUS_META_KEYS)
        _carry(new, old, sorted({*new, *old} - {"status", "metadata"}))
    elif subresource == "status":
        _carry(meta, old_meta, STATUS_RESET.get((rt.group, rt.kind), ()))
        _carry(new, old, ("spec",))
    elif subresource == "finalize":
        finalizers = (new.get("spec") or {}).get("finalizers")
        keep = deep(old)
        keep["metadata"]["resourceVersion"] = meta.get("resourceVersion", "")
        keep["metadata"]["managedFields"] = meta.get("managedFields", [])
        keep.setdefault("spec", {})["finalizers"] = finalizers or []
        new.clear()
        new.update(keep)
    elif rt.has_status:
        if "status" in old:
            new["status"] = deep(old["status"])
        else:
            new.pop("status", None)
        if (rt.group, rt.kind) == ("", "Namespace"):
            new["spec"] = deep(old.get("spec", {}))
        if (rt.group, rt.kind) == ("apiextensions.k8s.io", "CustomResourceDefinition"):
            stored = new["status"].setdefault("storedVersions", [])
            for version in new["spec"].get("versions") or []:
                if version.get("storage") and version.get("name") not in stored:
                    stored.append(version["name"])
    if tracks_generation(rt):
        meta["generation"] = old_meta.get("generation", 1)
        if subresource in ("", "scale") and spec_part(rt, new) != spec_part(rt, old):
            meta["generation"] += 1
    else:
        meta.pop("generation", None)


def _carry(target: Obj, source: Obj, keys: tuple[str, ...] | list[str]) -> None:
    for key in keys:
        if key in source:
            target[key] = deep(source[key])
        else:
            target.pop(key, None)


def qos_class(spec: Obj) -> str:
    containers = [*(spec.get("containers") or []), *(spec.get("initContainers") or [])]
    requests_seen = limits_seen = False
    guaranteed = True
    for c in containers:
        res = c.get("resources") or {}
        requests, limits = res.get("requests") or {}, res.get("limits") or {}
        requests_seen |= bool(requests)
        limits_seen |= bool(limits)
        for key in ("cpu", "memory"):
            if key not in limits or quantity_value(str(requests.get(key, limits[key]))) != quantity_value(
                str(limits[key])
            ):
                guaranteed = False
    if not requests_seen and not limits_seen:
        return "BestEffort"
    return "Guaranteed" if guaranteed and containers else "Burstable"


def admit_pod(obj: Obj) -> None:
    """What a kind cluster's admission chain adds to a new pod."""
    spec = obj.setdefault("spec", {})
    spec.setdefault("serviceAccountName", spec.get("serviceAccount") or "default")
    spec["serviceAccount"] = spec["serviceAccountName"]
    spec.setdefault("priority", 0)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    tolerations = spec.setdefault("tolerations", [])
    for default in DEFAULT_TOLERATIONS:
        if not any(t.get("key") == default["key"] and t.get("effect") == "NoExecute" for t in tolerations):
            tolerations.append(dict(default))
