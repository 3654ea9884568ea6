"""The ReplicaSet controller: keeps ``spec.replicas`` active pods named ``<replicaset>-<5 random>``
(``generateName``), deletes the least useful ones first when scaling down, and reports replicas,
fullyLabeledReplicas, readyReplicas, availableReplicas (minReadySeconds) and observedGeneration.
Creations go in slow-start batches of 1, 2, 4, ... as upstream."""

from __future__ import annotations

import copy

from ..client import PODS, REPLICASETS, ApiClient, KubeError
from .events import NORMAL, WARNING, EventRecorder
from .expectations import Expectations
from .informer import Informer
from .meta import (
    Obj,
    available_after,
    compact,
    condition,
    controller_ref,
    deleting,
    key_of,
    labels_match,
    now,
    pod_active,
    pod_available,
    pod_ready,
    rfc3339,
)
from .pods import deletion_order, pod_from_template
from .rollout import replicas
from .runtime import claim, enqueue_all, owner_key, run_reconciler, selecting
from .workqueue import WorkQueue

Key = tuple[str, str]
BURST_REPLICAS = 500
SLOW_START_INITIAL_BATCH = 1


class ReplicaSetController:
    name = "replicaset-controller"

    async def run(self, api: ApiClient) -> None:
        self.api = api
        self.recorder = EventRecorder(api, self.name)
        self.replicasets = Informer(api, REPLICASETS)
        self.pods = Informer(api, PODS)
        self.expectations = Expectations()
        self.queue: WorkQueue[Key] = WorkQueue()
        self.replicasets.on_change(self._replicaset_changed)
        self.pods.on_change(self._pod_changed)
        try:
            await run_reconciler(self.name, [self.replicasets, self.pods], self.queue, self.sync)
        finally:
            await self.recorder.close()

    def _replicaset_changed(self, kind: str, old: Obj | None, new: Obj | None) -> None:
        key = key_of(new or old or {})
        if kind == "DELETED":
            self.expectations.forget(key)
        self.queue.add(key)

    def _pod_changed(self, kind: str, old: Obj | None, new: Obj | None) -> None:
        pod = new or old
        assert pod is not None
        key = owner_key(pod, "ReplicaSet")
        if key is not None:
            if kind == "ADDED":
                self.expectations.creation_observed(key)
            gone = kind == "DELETED" or (new is not None and deleting(new))
            if gone:
                self.expectations.deletion_observed(key, pod["metadata"]["uid"])
        keys = {owner_key(p, "ReplicaSet") for p in (old, new) if p is not None}
        keys.discard(None)
        if not keys and new is not None and kind != "DELETED":
            keys.update(selecting(self.replicasets, new))
        enqueue_all(self.queue, list(keys))

    async def sync(self, key: Key) -> None:
        cached = self.replicasets.get(*key)
        if cached is None:
            self.expectations.forget(key)
            return
        rs = copy.deepcopy(cached)
        namespace = key[0]
        ready_to_manage = self.expectations.satisfied(key)
        candidates = [p for p in self.pods.items(namespace) if pod_active(p)]
        owner = controller_ref(rs, "apps/v1", "ReplicaSet")
        pods = await claim(self.api, PODS, rs, owner, candidates)
        failure = None
        if ready_to_manage and not deleting(rs):
            failure = await self.manage(rs, key, pods)
        await self.update_status(rs, pods, failure)
        self._requeue_for_availability(rs, key, pods)

    async def manage(self, rs: Obj, key: Key, pods: list[Obj]) -> Obj | None:
        """Create or delete pods towards spec.replicas; returns a ReplicaFailure condition."""
        diff = len(pods) - replicas(rs)
        if diff < 0:
            return await self._create(rs, key, min(-diff, BURST_REPLICAS))
        if diff > 0:
            return await self._delete(rs, key, deletion_order(pods)[: min(diff, BURST_REPLICAS)])
        return None

    async def _create(self, rs: Obj, key: Key, count: int) -> Obj | None:
        self.expectations.expect_creations(key, count)
        template = rs["spec"]["template"]
        owner = controller_ref(rs, "apps/v1", "ReplicaSet")
        remaining, batch = count, min(count, SLOW_START_INITIAL_BATCH)
        while remaining > 0:
            for _ in range(batch):
                pod = pod_from_template(template, key[0], owner, generateName=f"{key[1]}-")
                try:
                    created = await self.api.create(PODS, key[0], pod)
                except KubeError as err:
                    for _ in range(remaining):
                        self.expectations.creation_observed(key)
                    message = str(err.status.get("message", err))
                    self._event(rs, WARNING, "FailedCreate", f"Error creating: {message}")
                    return _failure("FailedCreate", message)
                remaining -= 1
                name = created["metadata"]["name"]
                self._event(rs, NORMAL, "SuccessfulCreate", f"Created pod: {name}")
            batch = min(2 * batch, remaining)
        return None

    async def _delete(self, rs: Obj, key: Key, victims: list[Obj]) -> Obj | None:
        self.expectations.expect_deletions(key, {p["metadata"]["uid"] for p in victims})
        failure = None
        for pod in victims:
            meta = pod["metadata"]
            try:
                await self.api.delete(PODS, meta["namespace"], meta["name"])
            except KubeError as err:
                self.expectations.deletion_observed(key, meta["uid"])
                if err.not_found:
                    continue
                self._event(rs, WARNING, "FailedDelete", f"Error deleting: {err}")
                failure = _failure("FailedDelete", str(err.status.get("message", err)))
                continue
            self._event(rs, NORMAL, "SuccessfulDelete", f"Deleted pod: {meta['name']}")
        return failure

    async def update_status(self, rs: Obj, pods: list[Obj], failure: Obj | None) -> None:
        status = replicaset_status(rs, pods, failure, now())
        if status != (rs.get("status") or {}):
            await self.api.replace(REPLICASETS, {**rs, "status": status}, "status")

    def _requeue_for_availability(self, rs: Obj, key: Key, pods: list[Obj]) -> None:
        min_ready = int(rs["spec"].get("minReadySeconds") or 0)
        at = now()
        pending = [
            t for p in pods
            if (t := available_after(p, min_ready)) is not None and t > at
        ]
        if pending:
            self.queue.add_after(key, min(pending) - at + 0.05)

    def _event(self, rs: Obj, type_: str, reason: str, message: str) -> None:
        self.recorder.record(REPLICASETS, rs, type_, reason, message)


def replicaset_status(rs: Obj, pods: list[Obj], failure: Obj | None, at: float) -> Obj:
    """calculateStatus; ``replicas`` is always present, the other counters only when non-zero."""
    min_ready = int(rs["spec"].get("minReadySeconds") or 0)
    template_labels = (rs["spec"]["template"].get("metadata") or {}).get("labels")
    old = (rs.get("status") or {}).get("conditions") or []
    conditions = [c for c in old if c.get("type") != "ReplicaFailure"]
    if failure is not None:
        current = condition(rs, "ReplicaFailure")
        same = current is not None and current.get("reason") == failure["reason"]
        conditions.append(current if same and current else failure)
    labelled = [p for p in pods if labels_match(p["metadata"].get("labels"), template_labels)]
    return {
        "replicas": len(pods),
        **compact({
            "fullyLabeledReplicas": len(labelled),
            "readyReplicas": sum(pod_ready(p) for p in pods),
            "availableReplicas": sum(pod_available(p, min_ready, at) for p in pods),
            "observedGeneration": rs["metadata"].get("generation", 0),
            "conditions": conditions,
        }),
    }


def _failure(reason: str, message: str) -> Obj:
    return {
        "type": "ReplicaFailure",
        "status": "True",
        "lastTransitionTime": rfc3339(),
        "reason": reason,
        "message": message,
    }
