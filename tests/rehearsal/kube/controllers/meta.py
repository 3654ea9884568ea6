"""Object helpers shared by the controllers: timestamps, owner references, pod readiness.

Timestamps are RFC 3339 in UTC with second precision, as metav1.Time serialises them.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

Obj = dict[str, Any]


def now() -> float:
    return time.time()


def rfc3339(ts: float | None = None) -> str:
    moment = datetime.fromtimestamp(now() if ts is None else ts, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: str | None) -> float | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def key_of(obj: Obj) -> tuple[str, str]:
    meta = obj["metadata"]
    return meta.get("namespace", ""), meta["name"]


def controller_ref(owner: Obj, api_version: str, kind: str) -> Obj:
    """The ownerReference a controller puts on the objects it creates."""
    meta = owner["metadata"]
    return {
        "apiVersion": api_version,
        "kind": kind,
        "name": meta["name"],
        "uid": meta["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def controller_of(obj: Obj) -> Obj | None:
    for ref in obj["metadata"].get("ownerReferences") or []:
        if ref.get("controller"):
            return ref
    return None


def is_controlled_by(obj: Obj, owner: Obj) -> bool:
    ref = controller_of(obj)
    return ref is not None and ref.get("uid") == owner["metadata"].get("uid")


def deleting(obj: Obj) -> bool:
    return bool(obj["metadata"].get("deletionTimestamp"))


def condition(obj: Obj, kind: str) -> Obj | None:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == kind:
            return cond
    return None


def pod_ready(pod: Obj) -> bool:
    cond = condition(pod, "Ready")
    return cond is not None and cond.get("status") == "True"


def pod_available(pod: Obj, min_ready_seconds: int, at: float) -> bool:
    """Ready for at least ``min_ready_seconds`` (podutil.IsPodAvailable)."""
    cond = condition(pod, "Ready")
    if cond is None or cond.get("status") != "True":
        return False
    if min_ready_seconds == 0:
        return True
    since = parse_time(cond.get("lastTransitionTime"))
    return since is not None and since + min_ready_seconds <= at


def available_after(pod: Obj, min_ready_seconds: int) -> float | None:
    """When a ready pod becomes available, for requeueing on minReadySeconds."""
    cond = condition(pod, "Ready")
    if cond is None or cond.get("status") != "True" or min_ready_seconds == 0:
        return None
    since = parse_time(cond.get("lastTransitionTime"))
    return None if since is None else since + min_ready_seconds


def pod_terminal(pod: Obj) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def pod_active(pod: Obj) -> bool:
    """controller.IsPodActive: not terminal and not being deleted."""
    return not pod_terminal(pod) and not deleting(pod)


def labels_match(labels: dict[str, str] | None, wanted: dict[str, str] | None) -> bool:
    have = labels or {}
    return all(have.get(k) == v for k, v in (wanted or {}).items())


def status_int(obj: Obj, field: str) -> int:
    return int((obj.get("status") or {}).get(field) or 0)


def compact(status: Obj) -> Obj:
    """Drop zero counters, as Go's ``omitempty`` does for int32 status fields."""
    return {k: v for k, v in status.items() if v not in (0, None, [], "")}


def by_creation(objs: Iterable[Obj]) -> list[Obj]:
    return sorted(
        objs, key=lambda o: (o["metadata"].get("creationTimestamp", ""), o["metadata"]["name"])
    )
