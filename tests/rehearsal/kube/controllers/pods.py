"""Pods made from a controller's pod template, and the order in which a controller deletes them."""

from __future__ import annotations

import copy

from .meta import Obj, condition, parse_time, pod_ready

PHASE_RANK = {"Pending": 0, "Unknown": 1, "Running": 2}
DELETION_COST = "controller.kubernetes.io/pod-deletion-cost"


def pod_from_template(template: Obj, namespace: str, owner_ref: Obj, **name: str) -> Obj:
    """A Pod as a workload controller creates it; ``name`` is ``name=`` or ``generateName=``."""
    meta = template.get("metadata") or {}
    pod_meta: Obj = {
        **name,
        "namespace": namespace,
        "labels": dict(meta.get("labels") or {}),
        "ownerReferences": [owner_ref],
    }
    for field in ("annotations", "finalizers"):
        if meta.get(field):
            pod_meta[field] = copy.deepcopy(meta[field])
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": pod_meta,
        "spec": copy.deepcopy(template.get("spec") or {}),
    }


def _deletion_cost(pod: Obj) -> int:
    value = (pod["metadata"].get("annotations") or {}).get(DELETION_COST, "0")
    try:
        return int(value)
    except ValueError:
        return 0


def _ready_since(pod: Obj) -> float:
    cond = condition(pod, "Ready")
    return parse_time((cond or {}).get("lastTransitionTime")) or 0.0


def _restarts(pod: Obj) -> int:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return max((int(s.get("restartCount") or 0) for s in statuses), default=0)


def _created(pod: Obj) -> float:
    return parse_time(pod["metadata"].get("creationTimestamp")) or 0.0


def deletion_order(pods: list[Obj]) -> list[Obj]:
    """controller.ActivePods ordering, the pods to delete first at the front: unscheduled before
    scheduled, Pending before Unknown before Running, not ready before ready, lower deletion
    cost first, ready for less time first, more restarts first, newer first."""

    def rank(pod: Obj) -> tuple[float, ...]:
        ready = pod_ready(pod)
        return (
            1 if pod["spec"].get("nodeName") else 0,
            PHASE_RANK.get((pod.get("status") or {}).get("phase", ""), 0),
            1 if ready else 0,
            _deletion_cost(pod),
            -_ready_since(pod) if ready else 0.0,
            -_restarts(pod),
            -_created(pod),
        )

    return sorted(pods, key=rank)
