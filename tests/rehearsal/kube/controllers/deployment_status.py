"""Deployment status and conditions, computed as the upstream controller computes them (pure).

``Available`` is True (MinimumReplicasAvailable) while at least ``replicas - maxUnavailable`` pods
are available. ``Progressing`` says NewReplicaSetCreated / FoundNewReplicaSet when a rollout
starts, ReplicaSetUpdated each time it makes progress (only ``lastUpdateTime`` moves),
NewReplicaSetAvailable when it completes and ProgressDeadlineExceeded (status False) when no
progress was made for ``progressDeadlineSeconds``. Zero counters are omitted, as Go omits them.
"""

from __future__ import annotations

import copy

from .meta import Obj, compact, parse_time, rfc3339
from .rollout import max_unavailable, replicas, total_spec, total_status

NO_DEADLINE = 2**31 - 1
NEW_RS_REASON = "NewReplicaSetCreated"
FOUND_NEW_RS_REASON = "FoundNewReplicaSet"
UPDATED_REASON = "ReplicaSetUpdated"
AVAILABLE_REASON = "NewReplicaSetAvailable"
TIMED_OUT_REASON = "ProgressDeadlineExceeded"
PAUSED_REASON = "DeploymentPaused"
RESUMED_REASON = "DeploymentResumed"


def new_condition(type_: str, status: str, reason: str, message: str, at: float) -> Obj:
    stamp = rfc3339(at)
    return {
        "type": type_,
        "status": status,
        "lastUpdateTime": stamp,
        "lastTransitionTime": stamp,
        "reason": reason,
        "message": message,
    }


def get_condition(status: Obj, type_: str) -> Obj | None:
    for cond in status.get("conditions") or []:
        if cond.get("type") == type_:
            return cond
    return None


def set_condition(status: Obj, cond: Obj) -> None:
    """SetDeploymentCondition: unchanged if status and reason are the same; the transition time
    is kept while the status stays the same; the condition moves to the end of the list."""
    current = get_condition(status, cond["type"])
    if current and current["status"] == cond["status"] and current.get("reason") == cond["reason"]:
        return
    if current and current["status"] == cond["status"]:
        cond = {**cond, "lastTransitionTime": current["lastTransitionTime"]}
    remove_condition(status, cond["type"])
    status["conditions"] = [*status.get("conditions", []), cond]


def remove_condition(status: Obj, type_: str) -> None:
    kept = [c for c in status.get("conditions") or [] if c.get("type") != type_]
    status["conditions"] = kept


def progress_deadline(d: Obj) -> int | None:
    value = d["spec"].get("progressDeadlineSeconds")
    return None if value is None or value == NO_DEADLINE else int(value)


def calculate_status(all_rss: list[Obj], new_rs: Obj | None, d: Obj, at: float) -> Obj:
    available = total_status(all_rss, "availableReplicas")
    unavailable = max(total_spec(all_rss) - available, 0)
    old = d.get("status") or {}
    status: Obj = {
        "observedGeneration": d["metadata"].get("generation", 0),
        "replicas": total_status(all_rss, "replicas"),
        "updatedReplicas": total_status([new_rs] if new_rs else [], "replicas"),
        "readyReplicas": total_status(all_rss, "readyReplicas"),
        "availableReplicas": available,
        "unavailableReplicas": unavailable,
        "conditions": copy.deepcopy(old.get("conditions") or []),
    }
    if "collisionCount" in old:
        status["collisionCount"] = old["collisionCount"]
    if available >= replicas(d) - max_unavailable(d):
        cond = new_condition(
            "Available", "True", "MinimumReplicasAvailable",
            "Deployment has minimum availability.", at,
        )
    else:
        cond = new_condition(
            "Available", "False", "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.", at,
        )
    set_condition(status, cond)
    return status


def complete(d: Obj, status: Obj) -> bool:
    """DeploymentComplete."""
    want = replicas(d)
    return (
        status.get("updatedReplicas", 0) == want
        and status.get("replicas", 0) == want
        and status.get("availableReplicas", 0) == want
        and status.get("observedGeneration", 0) >= d["metadata"].get("generation", 0)
    )


def progressing(d: Obj, new_status: Obj) -> bool:
    """DeploymentProgressing: new pods updated, ready or available, or old pods gone."""
    old = d.get("status") or {}
    old_old = old.get("replicas", 0) - old.get("updatedReplicas", 0)
    new_old = new_status.get("replicas", 0) - new_status.get("updatedReplicas", 0)
    return (
        new_status.get("updatedReplicas", 0) > old.get("updatedReplicas", 0)
        or new_old < old_old
        or new_status.get("readyReplicas", 0) > old.get("readyReplicas", 0)
        or new_status.get("availableReplicas", 0) > old.get("availableReplicas", 0)
    )


def timed_out(d: Obj, new_status: Obj, at: float) -> bool:
    deadline = progress_deadline(d)
    cond = get_condition(new_status, "Progressing")
    if deadline is None or cond is None:
        return False
    if cond.get("reason") == AVAILABLE_REASON:
        return False
    if cond.get("reason") == TIMED_OUT_REASON:
        return True
    since = parse_time(cond.get("lastUpdateTime"))
    return since is not None and since + deadline < at


def rollout_status(all_rss: list[Obj], new_rs: Obj | None, d: Obj, at: float) -> Obj:
    """syncRolloutStatus without the write: the status a rolling/recreate sync sets."""
    status = calculate_status(all_rss, new_rs, d, at)
    deadline = progress_deadline(d)
    if deadline is None:
        remove_condition(status, "Progressing")
    current = get_condition(d.get("status") or {}, "Progressing")
    finished = (
        status["replicas"] == status["updatedReplicas"]
        and current is not None
        and current.get("reason") == AVAILABLE_REASON
    )
    if deadline is not None and not finished:
        subject = _subject(d, new_rs)
        if complete(d, status):
            set_condition(status, new_condition(
                "Progressing", "True", AVAILABLE_REASON,
                f"{subject} has successfully progressed.", at,
            ))
        elif progressing(d, status):
            cond = new_condition(
                "Progressing", "True", UPDATED_REASON, f"{subject} is progressing.", at
            )
            if current is not None:
                if current["status"] == "True":
                    cond["lastTransitionTime"] = current["lastTransitionTime"]
                remove_condition(status, "Progressing")
            set_condition(status, cond)
        elif timed_out(d, status, at):
            set_condition(status, new_condition(
                "Progressing", "False", TIMED_OUT_REASON,
                f"{subject} has timed out progressing.", at,
            ))
    return status


def stuck_requeue_after(d: Obj, new_status: Obj, at: float) -> float | None:
    """requeueStuckDeployment: seconds until the deadline check is due, if one is."""
    deadline = progress_deadline(d)
    current = get_condition(d.get("status") or {}, "Progressing")
    if deadline is None or current is None:
        return None
    if complete(d, new_status) or current.get("reason") == TIMED_OUT_REASON:
        return None
    since = parse_time(current.get("lastUpdateTime")) or at
    after = since + deadline - at
    return 0.0 if after < 1 else after + 1


def paused_condition(d: Obj, at: float) -> Obj | None:
    """checkPausedConditions: the status to write when pausing/resuming, if any."""
    if progress_deadline(d) is None:
        return None
    status = copy.deepcopy(d.get("status") or {})
    cond = get_condition(status, "Progressing")
    if cond is not None and cond.get("reason") == TIMED_OUT_REASON:
        return None
    paused_now = bool(d["spec"].get("paused"))
    was_paused = cond is not None and cond.get("reason") == PAUSED_REASON
    if paused_now and not was_paused:
        set_condition(status, new_condition(
            "Progressing", "Unknown", PAUSED_REASON, "Deployment is paused", at
        ))
    elif not paused_now and was_paused:
        set_condition(status, new_condition(
            "Progressing", "Unknown", RESUMED_REASON, "Deployment is resumed", at
        ))
    else:
        return None
    return status


def wire(status: Obj) -> Obj:
    """The status as the apiserver stores it: zero counters and empty conditions omitted
    (``collisionCount`` is a pointer: kept once set, even at zero)."""
    out = compact(status)
    if "collisionCount" in status:
        out["collisionCount"] = status["collisionCount"]
    return out


def _subject(d: Obj, new_rs: Obj | None) -> str:
    if new_rs is not None:
        return f'ReplicaSet "{new_rs["metadata"]["name"]}"'
    return f'Deployment "{d["metadata"]["name"]}"'
