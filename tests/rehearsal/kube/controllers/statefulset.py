"""The StatefulSet controller, minimal but real: pods ``<set>-0 .. <set>-(n-1)`` created in
order, each waiting for its predecessor to be Running and Ready (OrderedReady; all at once with
``podManagementPolicy: Parallel``), removed from the highest ordinal down, and rolled one pod at a
time from the highest ordinal down to ``partition`` (RollingUpdate) or left until deleted
(OnDelete). A revision is ``<set>-<template hash>``, on each pod as ``controller-revision-hash``.

No ControllerRevision objects and no PersistentVolumeClaims are created: a pod recreated below the
partition gets the current template, not the revision it had.
"""

from __future__ import annotations

import copy
import re

from ..client import PODS, STATEFULSETS, ApiClient, KubeError
from .events import NORMAL, EventRecorder
from .informer import Informer
from .meta import (
    Obj,
    compact,
    controller_ref,
    deleting,
    key_of,
    now,
    pod_available,
    pod_ready,
    pod_terminal,
)
from .pods import pod_from_template
from .podtemplate import template_hash
from .rollout import replicas
from .runtime import claim, enqueue_all, owner_key, run_reconciler, selecting
from .workqueue import WorkQueue

Key = tuple[str, str]
REVISION_LABEL = "controller-revision-hash"
POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"


def running_and_ready(pod: Obj) -> bool:
    return (pod.get("status") or {}).get("phase") == "Running" and pod_ready(pod)


def healthy(pod: Obj) -> bool:
    return running_and_ready(pod) and not deleting(pod)


def revision_of(pod: Obj) -> str:
    return (pod["metadata"].get("labels") or {}).get(REVISION_LABEL, "")


class StatefulSetController:
    name = "statefulset-controller"

    async def run(self, api: ApiClient) -> None:
        self.api = api
        self.recorder = EventRecorder(api, self.name)
        self.sets = Informer(api, STATEFULSETS)
        self.pods = Informer(api, PODS)
        self.queue: WorkQueue[Key] = WorkQueue()
        self.sets.on_change(lambda _t, old, new: self.queue.add(key_of(new or old or {})))
        self.pods.on_change(self._pod_changed)
        try:
            await run_reconciler(self.name, [self.sets, self.pods], self.queue, self.sync)
        finally:
            await self.recorder.close()

    def _pod_changed(self, kind: str, old: Obj | None, new: Obj | None) -> None:
        keys = {owner_key(p, "StatefulSet") for p in (old, new) if p is not None}
        keys.discard(None)
        if not keys and new is not None and kind != "DELETED":
            keys.update(selecting(self.sets, new))
        enqueue_all(self.queue, list(keys))

    async def sync(self, key: Key) -> None:
        cached = self.sets.get(*key)
        if cached is None:
            return
        sts = copy.deepcopy(cached)
        owner = controller_ref(sts, "apps/v1", "StatefulSet")
        candidates = [p for p in self.pods.items(key[0]) if _ordinal(sts, p) is not None]
        pods = await claim(self.api, PODS, sts, owner, candidates)
        update_revision = f"{key[1]}-{template_hash(sts['spec']['template'])}"
        if not deleting(sts):
            await self._step(sts, pods, update_revision)
        await self._update_status(sts, pods, update_revision)

    async def _step(self, sts: Obj, pods: list[Obj], update_revision: str) -> None:
        """One pass of updateStatefulSet: at most one wait-worthy action when OrderedReady."""
        ordered = sts["spec"].get("podManagementPolicy", "OrderedReady") != "Parallel"
        want = replicas(sts)
        by_ordinal = {_ordinal(sts, p): p for p in pods}
        for ordinal in range(want):
            pod = by_ordinal.get(ordinal)
            if pod is not None and pod_terminal(pod) and not deleting(pod):
                await self._delete(sts, pod)
                pod = None
                if ordered:
                    return
            if pod is None:
                await self._create(sts, ordinal, update_revision)
                if ordered:
                    return
                continue
            if ordered and (deleting(pod) or not running_and_ready(pod)):
                return
        condemned = sorted((o for o in by_ordinal if o is not None and o >= want), reverse=True)
        for ordinal in condemned:
            pod = by_ordinal[ordinal]
            if deleting(pod):
                if ordered:
                    return
                continue
            if ordered and not all(healthy(by_ordinal[o]) for o in range(want) if o in by_ordinal):
                return
            await self._delete(sts, pod)
            if ordered:
                return
        await self._roll(sts, by_ordinal, want, update_revision)

    async def _roll(
        self, sts: Obj, by_ordinal: dict[int | None, Obj], want: int, update_revision: str
    ) -> None:
        strategy = sts["spec"].get("updateStrategy") or {}
        if strategy.get("type", "RollingUpdate") != "RollingUpdate":
            return
        partition = int((strategy.get("rollingUpdate") or {}).get("partition") or 0)
        for ordinal in range(want - 1, partition - 1, -1):
            pod = by_ordinal.get(ordinal)
            if pod is None:
                return
            if revision_of(pod) != update_revision and not deleting(pod):
                await self._delete(sts, pod)
                return
            if not healthy(pod):
                return

    async def _create(self, sts: Obj, ordinal: int, revision: str) -> None:
        name = f"{sts['metadata']['name']}-{ordinal}"
        namespace = sts["metadata"]["namespace"]
        owner = controller_ref(sts, "apps/v1", "StatefulSet")
        pod = pod_from_template(sts["spec"]["template"], namespace, owner, name=name)
        pod["metadata"]["labels"].update({
            REVISION_LABEL: revision, POD_NAME_LABEL: name, POD_INDEX_LABEL: str(ordinal),
        })
        pod["spec"]["hostname"] = name
        if sts["spec"].get("serviceName"):
            pod["spec"]["subdomain"] = sts["spec"]["serviceName"]
        try:
            await self.api.create(PODS, namespace, pod)
        except KubeError as err:
            if not err.already_exists:
                raise
            return
        self._event(sts, "SuccessfulCreate", f"create Pod {name} in StatefulSet "
                    f"{sts['metadata']['name']} successful")

    async def _delete(self, sts: Obj, pod: Obj) -> None:
        meta = pod["metadata"]
        try:
            await self.api.delete(PODS, meta["namespace"], meta["name"], uid=meta["uid"])
        except KubeError as err:
            if not err.not_found:
                raise
            return
        self._event(sts, "SuccessfulDelete", f"delete Pod {meta['name']} in StatefulSet "
                    f"{sts['metadata']['name']} successful")

    async def _update_status(self, sts: Obj, pods: list[Obj], update_revision: str) -> None:
        status = statefulset_status(sts, pods, update_revision, now())
        if status != (sts.get("status") or {}):
            await self.api.replace(STATEFULSETS, {**sts, "status": status}, "status")

    def _event(self, sts: Obj, reason: str, message: str) -> None:
        self.recorder.record(STATEFULSETS, sts, NORMAL, reason, message)


def statefulset_status(sts: Obj, pods: list[Obj], update_revision: str, at: float) -> Obj:
    """computeReplicaStatus + completeRollingUpdate."""
    old = sts.get("status") or {}
    current_revision = old.get("currentRevision") or update_revision
    min_ready = int(sts["spec"].get("minReadySeconds") or 0)
    created = [p for p in pods if (p.get("status") or {}).get("phase")]
    live = [p for p in created if not deleting(p)]
    counts = {
        "replicas": len(created),
        "readyReplicas": sum(running_and_ready(p) for p in created),
        "availableReplicas": sum(
            running_and_ready(p) and pod_available(p, min_ready, at) for p in created
        ),
        "currentReplicas": sum(revision_of(p) == current_revision for p in live),
        "updatedReplicas": sum(revision_of(p) == update_revision for p in live),
    }
    strategy = (sts["spec"].get("updateStrategy") or {}).get("type", "RollingUpdate")
    if (
        strategy == "RollingUpdate"
        and counts["updatedReplicas"] == counts["replicas"]
        and counts["readyReplicas"] == counts["replicas"]
    ):
        counts["currentReplicas"] = counts["updatedReplicas"]
        current_revision = update_revision
    return {
        "replicas": counts["replicas"],
        "availableReplicas": counts["availableReplicas"],
        "collisionCount": int(old.get("collisionCount") or 0),
        **compact({
            "observedGeneration": sts["metadata"].get("generation", 0),
            "readyReplicas": counts["readyReplicas"],
            "currentReplicas": counts["currentReplicas"],
            "updatedReplicas": counts["updatedReplicas"],
            "currentRevision": current_revision,
            "updateRevision": update_revision,
        }),
    }


def _ordinal(sts: Obj, pod: Obj) -> int | None:
    match = re.fullmatch(rf"{re.escape(sts['metadata']['name'])}-(\d+)", pod["metadata"]["name"])
    return int(match.group(1)) if match else None
