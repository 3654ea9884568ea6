"""Revision bookkeeping on a Deployment's ReplicaSets, as annotations (pure, mutating in place).

The new ReplicaSet's ``deployment.kubernetes.io/revision`` is one more than the highest old one;
a ReplicaSet brought back (a rollback, or a template changed back) gets a new revision and keeps
its former ones in ``deployment.kubernetes.io/revision-history``. The Deployment's other
annotations are copied to its new ReplicaSet; ``desired-replicas``/``max-replicas`` record the
size the Deployment had when the ReplicaSet was last scaled.
"""

from __future__ import annotations

from .meta import Obj
from .rollout import DESIRED_REPLICAS, MAX_REPLICAS

REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
ROLLBACK_TO = "deprecated.deployment.rollback.to"
MAX_HISTORY_CHARS = 2000
NOT_COPIED = frozenset(
    {LAST_APPLIED, REVISION, REVISION_HISTORY, DESIRED_REPLICAS, MAX_REPLICAS, ROLLBACK_TO}
)


def annotations(obj: Obj) -> dict[str, str]:
    return obj["metadata"].setdefault("annotations", {})


def revision(obj: Obj) -> int:
    value = (obj["metadata"].get("annotations") or {}).get(REVISION)
    try:
        return int(value) if value else 0
    except ValueError:
        return 0


def max_revision(rss: list[Obj]) -> int:
    return max((revision(rs) for rs in rss), default=0)


def copy_deployment_annotations(d: Obj, rs: Obj) -> bool:
    changed = False
    target = annotations(rs)
    for key, value in (d["metadata"].get("annotations") or {}).items():
        if key in NOT_COPIED or target.get(key) == value:
            continue
        target[key] = value
        changed = True
    return changed


def set_replicas_annotations(rs: Obj, desired: int, maximum: int) -> bool:
    target = annotations(rs)
    changed = False
    for key, value in ((DESIRED_REPLICAS, str(desired)), (MAX_REPLICAS, str(maximum))):
        if target.get(key) != value:
            target[key] = value
            changed = True
    return changed


def replicas_annotations_need_update(rs: Obj, desired: int, maximum: int) -> bool:
    current = rs["metadata"].get("annotations") or {}
    have = (current.get(DESIRED_REPLICAS), current.get(MAX_REPLICAS))
    return have != (str(desired), str(maximum))


def set_new_rs_annotations(
    d: Obj, rs: Obj, new_revision: int, exists: bool, desired: int, maximum: int
) -> bool:
    """SetNewReplicaSetAnnotations; returns whether ``rs``'s annotations changed."""
    changed = copy_deployment_annotations(d, rs)
    target = annotations(rs)
    old_text = target.get(REVISION)
    try:
        old = int(old_text) if old_text else 0
    except ValueError:
        return False
    if old < new_revision:
        target[REVISION] = str(new_revision)
        changed = True
        if old_text:
            _append_history(target, old_text)
    if not exists and set_replicas_annotations(rs, desired, maximum):
        changed = True
    return changed


def _append_history(target: dict[str, str], old: str) -> None:
    history = target.get(REVISION_HISTORY, "")
    if not history:
        target[REVISION_HISTORY] = old
        return
    kept = history.split(",")
    total = len(history) + len(old) + 1
    start = 0
    while total > MAX_HISTORY_CHARS and start < len(kept):
        total -= len(kept[start]) + 1
        start += 1
    if total <= MAX_HISTORY_CHARS:
        target[REVISION_HISTORY] = ",".join([*kept[start:], old])
