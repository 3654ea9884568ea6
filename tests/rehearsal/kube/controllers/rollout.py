"""Rollout arithmetic of the deployment controller (pkg/controller/deployment/util), pure.

maxSurge rounds a percentage up and maxUnavailable rounds it down; if both resolve to zero,
maxUnavailable becomes 1. The new ReplicaSet grows up to ``replicas + maxSurge`` pods in total;
old ReplicaSets shrink while ``replicas - maxUnavailable`` pods stay available. A scaling event
in the middle of a rollout is shared among the active ReplicaSets in proportion to their size.
"""

from __future__ import annotations

import math
from typing import Any

from .meta import Obj, status_int

DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"


def replicas(obj: Obj) -> int:
    value = obj["spec"].get("replicas")
    return 1 if value is None else int(value)


def strategy_type(d: Obj) -> str:
    return (d["spec"].get("strategy") or {}).get("type") or "RollingUpdate"


def is_rolling(d: Obj) -> bool:
    return strategy_type(d) == "RollingUpdate"


def scaled_value(value: Any, total: int, round_up: bool) -> int:
    """intstr.GetScaledValueFromIntOrPercent."""
    if isinstance(value, int):
        return value
    text = str(value)
    if not text.endswith("%"):
        raise ValueError("invalid value for IntOrString: invalid type: string is not a percentage")
    percent = int(text[:-1])
    if round_up:
        return -(-percent * total // 100)
    return percent * total // 100


def resolve_fenceposts(max_surge: Any, max_unavailable: Any, desired: int) -> tuple[int, int]:
    surge = scaled_value(0 if max_surge is None else max_surge, desired, True)
    unavailable = scaled_value(0 if max_unavailable is None else max_unavailable, desired, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def _rolling_params(d: Obj) -> tuple[Any, Any]:
    rolling = (d["spec"].get("strategy") or {}).get("rollingUpdate") or {}
    return rolling.get("maxSurge", "25%"), rolling.get("maxUnavailable", "25%")


def max_surge(d: Obj) -> int:
    if not is_rolling(d):
        return 0
    return resolve_fenceposts(*_rolling_params(d), replicas(d))[0]


def max_unavailable(d: Obj) -> int:
    if not is_rolling(d) or replicas(d) == 0:
        return 0
    unavailable = resolve_fenceposts(*_rolling_params(d), replicas(d))[1]
    return min(unavailable, replicas(d))


def total_spec(rss: list[Obj]) -> int:
    return sum(replicas(rs) for rs in rss)


def total_status(rss: list[Obj], field: str) -> int:
    return sum(status_int(rs, field) for rs in rss)


def active(rss: list[Obj]) -> list[Obj]:
    return [rs for rs in rss if replicas(rs) > 0]


def new_rs_new_replicas(d: Obj, all_rss: list[Obj], new_rs: Obj) -> int:
    """How big the new ReplicaSet may be now (NewRSNewReplicas)."""
    if not is_rolling(d):
        return replicas(d)
    surge = scaled_value(_rolling_params(d)[0], replicas(d), True)
    current = total_spec(all_rss)
    max_total = replicas(d) + surge
    if current >= max_total:
        return replicas(new_rs)
    scale_up = min(max_total - current, replicas(d) - replicas(new_rs))
    return replicas(new_rs) + scale_up


def annotation_int(rs: Obj, key: str) -> int | None:
    value = (rs["metadata"].get("annotations") or {}).get(key)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def is_saturated(d: Obj, rs: Obj | None) -> bool:
    if rs is None:
        return False
    return (
        replicas(rs) == replicas(d)
        and annotation_int(rs, DESIRED_REPLICAS) == replicas(d)
        and status_int(rs, "availableReplicas") == replicas(d)
    )


def _round_half_away(value: float) -> int:
    return math.floor(value + 0.5) if value >= 0 else -math.floor(-value + 0.5)


def replica_set_fraction(rs: Obj, d: Obj) -> int:
    if replicas(d) == 0:
        return -replicas(rs)
    deployment_replicas = replicas(d) + max_surge(d)
    annotated = annotation_int(rs, MAX_REPLICAS)
    if annotated is None:
        annotated = int((d.get("status") or {}).get("replicas") or 0)
    if annotated == 0:
        return 0
    new_size = replicas(rs) * deployment_replicas / annotated
    return _round_half_away(new_size) - replicas(rs)


def proportion(rs: Obj, d: Obj, to_add: int, added: int) -> int:
    """GetProportion: this ReplicaSet's share of a scaling event."""
    if replicas(rs) == 0 or to_add == 0 or to_add == added:
        return 0
    fraction = replica_set_fraction(rs, d)
    allowed = to_add - added
    return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)


def proportional_sizes(d: Obj, active_rss: list[Obj]) -> tuple[list[Obj], dict[str, int], str]:
    """The new size of each active ReplicaSet when a rolling Deployment is scaled mid-rollout,
    in the order they are written, and the scaling direction ("up", "down" or "")."""
    allowed = replicas(d) + max_surge(d) if replicas(d) > 0 else 0
    to_add = allowed - total_spec(active_rss)
    ordered = list(active_rss)
    direction = ""
    if to_add > 0:
        direction = "up"
        ordered.sort(key=lambda rs: (-replicas(rs), *map(_desc, _age(rs))))
    elif to_add < 0:
        direction = "down"
        ordered.sort(key=lambda rs: (-replicas(rs), *_age(rs)))
    sizes: dict[str, int] = {}
    added = 0
    for rs in ordered:
        share = proportion(rs, d, to_add, added) if to_add else 0
        sizes[rs["metadata"]["name"]] = replicas(rs) + share
        added += share
    if ordered and to_add:
        first = ordered[0]["metadata"]["name"]
        sizes[first] = max(sizes[first] + to_add - added, 0)
    return ordered, sizes, direction


def _age(rs: Obj) -> tuple[str, str]:
    return rs["metadata"].get("creationTimestamp", ""), rs["metadata"]["name"]


def _desc(text: str) -> tuple[int, ...]:
    """A sort key ordering strings of equal length backwards."""
    return tuple(-ord(ch) for ch in text)
