"""The Prometheus status the operator reports: replica counts and the Available and Reconciled
conditions (pkg/operator/statefulset_reporter.go and operator.go)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

Obj = dict[str, Any]


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ready(pod: Obj) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


def _pod_message(pod: Obj) -> str:
    for container in (pod.get("status") or {}).get("containerStatuses") or []:
        waiting = (container.get("state") or {}).get("waiting")
        if waiting and waiting.get("message"):
            return f"pod {pod['metadata']['name']}: {waiting['message']}"
    return ""


def available(generation: int, expected: int, stateful_set: Obj | None,
              pods: list[Obj]) -> Obj:
    ready = sum(_ready(p) for p in pods)
    status, reason = "True", ""
    if stateful_set is None:
        status, reason = "False", "StatefulSetNotFound"
    elif ready < expected:
        status, reason = ("False", "NoPodReady") if ready == 0 else ("Degraded", "SomePodsNotReady")
    return {"type": "Available", "status": status, "reason": reason,
            "message": "\n".join(m for m in map(_pod_message, pods) if m),
            "observedGeneration": generation}


def reconciled(generation: int, error: str | None) -> Obj:
    return {"type": "Reconciled", "status": "False" if error else "True",
            "reason": "ReconciliationFailed" if error else "", "message": error or "",
            "observedGeneration": generation}


def prometheus_status(prometheus: Obj, stateful_set: Obj | None, pods: list[Obj],
                      error: str | None, selector: str) -> Obj:
    """The status subresource, with lastTransitionTime kept while a condition's status holds."""
    meta, spec = prometheus["metadata"], prometheus.get("spec") or {}
    generation = int(meta.get("generation") or 0)
    expected = int(spec.get("replicas", 1))
    revision = ((stateful_set or {}).get("status") or {}).get("updateRevision")
    ready = sum(_ready(p) for p in pods)
    updated = sum(1 for p in pods if revision and (p["metadata"].get("labels") or {}).get(
        "controller-revision-hash") == revision)
    previous = {c.get("type"): c for c in (prometheus.get("status") or {}).get("conditions") or []}
    conditions = []
    for condition in (available(generation, expected, stateful_set, pods),
                      reconciled(generation, error)):
        before = previous.get(condition["type"]) or {}
        since = before.get("lastTransitionTime") if before.get("status") == condition["status"] \
            else None
        conditions.append({**condition, "lastTransitionTime": since or _now()})
    counts = {"replicas": len(pods), "updatedReplicas": updated, "availableReplicas": ready,
              "unavailableReplicas": len(pods) - ready}
    return {
        "paused": bool(spec.get("paused")),
        **counts,
        "conditions": conditions,
        "shardStatuses": [{"shardID": "0", **counts}],
        "shards": max(int(spec.get("shards") or 1), 1),
        "selector": selector,
    }
