"""One sync of one Deployment: the steps of pkg/controller/deployment (sync.go, rolling.go,
recreate.go, progress.go), reading the ReplicaSets it was handed and writing through the API.

Writes use the resourceVersion the sync started from, so a concurrent change makes the write
fail with 409 and the Deployment is synced again, as upstream.
"""

from __future__ import annotations

import copy

from ..client import DEPLOYMENTS, REPLICASETS, ApiClient, KubeError
from . import deployment_status as dstatus
from .events import NORMAL, WARNING, EventRecorder
from .meta import (
    Obj,
    by_creation,
    controller_ref,
    deleting,
    is_controlled_by,
    status_int,
)
from .podtemplate import HASH_LABEL, equal_ignore_hash, template_hash
from .revisions import (
    REVISION,
    max_revision,
    replicas_annotations_need_update,
    revision,
    set_new_rs_annotations,
    set_replicas_annotations,
)
from .rollout import (
    DESIRED_REPLICAS,
    active,
    annotation_int,
    is_rolling,
    is_saturated,
    max_surge,
    max_unavailable,
    new_rs_new_replicas,
    proportional_sizes,
    replicas,
    total_spec,
    total_status,
)

NO_HISTORY_LIMIT = 2**31 - 1


class DeploymentSync:
    def __init__(
        self,
        api: ApiClient,
        recorder: EventRecorder,
        deployment: Obj,
        rs_list: list[Obj],
        pods_by_rs: dict[str, list[Obj]],
        at: float,
    ) -> None:
        self.api = api
        self.recorder = recorder
        self.d = deployment
        self.rs_list = rs_list
        self.pods_by_rs = pods_by_rs
        self.at = at
        self.requeue_after: float | None = None

    # --- entry points (syncDeployment's branches) ---

    async def status_only(self) -> None:
        new, old = await self.all_rss_and_sync_revision(create=False)
        await self.sync_deployment_status(_present([*old, new]), new)

    async def scaling_event(self) -> bool:
        new, old = await self.all_rss_and_sync_revision(create=False)
        for rs in active(_present([*old, new])):
            desired = _desired(rs)
            if desired is not None and desired != replicas(self.d):
                return True
        return False

    async def sync(self) -> None:
        """Scaling and paused deployments: resize, never roll."""
        new, old = await self.all_rss_and_sync_revision(create=False)
        await self.scale(new, old)
        if self.d["spec"].get("paused"):
            await self.cleanup(old)
        await self.sync_deployment_status(_present([*old, new]), new)

    async def check_paused_conditions(self) -> None:
        status = dstatus.paused_condition(self.d, self.at)
        if status is not None:
            self.d["status"] = status
            await self.update_status()

    async def rolling(self) -> None:
        new, old = await self.all_rss_and_sync_revision(create=True)
        assert new is not None
        all_rss = [*old, new]
        if await self.reconcile_new(all_rss, new):
            await self.sync_rollout_status(all_rss, new)
            return
        if await self.reconcile_old(all_rss, active(old), new):
            await self.sync_rollout_status(all_rss, new)
            return
        if dstatus.complete(self.d, self.d.get("status") or {}):
            await self.cleanup(old)
        await self.sync_rollout_status(all_rss, new)

    async def recreate(self) -> None:
        new, old = await self.all_rss_and_sync_revision(create=False)
        all_rss = _present([*old, new])
        if await self.scale_down_old_for_recreate(active(old)):
            await self.sync_rollout_status(all_rss, new)
            return
        if self.old_pods_running(new, old):
            await self.sync_rollout_status(all_rss, new)
            return
        if new is None:
            new, old = await self.all_rss_and_sync_revision(create=True)
            assert new is not None
            all_rss = [*old, new]
        await self.scale_rs_and_record_event(new, replicas(self.d))
        if dstatus.complete(self.d, self.d.get("status") or {}):
            await self.cleanup(old)
        await self.sync_rollout_status(all_rss, new)

    # --- the new ReplicaSet and revisions ---

    def find_new(self) -> Obj | None:
        template = self.d["spec"]["template"]
        for rs in by_creation(self.rs_list):
            if equal_ignore_hash(rs["spec"]["template"], template):
                return rs
        return None

    async def all_rss_and_sync_revision(self, create: bool) -> tuple[Obj | None, list[Obj]]:
        existing = self.find_new()
        old = [rs for rs in self.rs_list if existing is None or rs is not existing]
        new = await self.new_rs(existing, old, create)
        return new, old

    async def new_rs(self, existing: Obj | None, old: list[Obj], create: bool) -> Obj | None:
        d = self.d
        new_revision = max_revision(old) + 1
        desired, maximum = replicas(d), replicas(d) + max_surge(d)
        if existing is not None:
            rs = copy.deepcopy(existing)
            changed = set_new_rs_annotations(d, rs, new_revision, True, desired, maximum)
            min_ready = d["spec"].get("minReadySeconds", 0)
            if changed or rs["spec"].get("minReadySeconds", 0) != min_ready:
                rs["spec"]["minReadySeconds"] = min_ready
                return await self._write_rs(rs)
            needs_update = self.set_revision(rs["metadata"]["annotations"].get(REVISION, ""))
            status = d.setdefault("status", {})
            if dstatus.progress_deadline(d) is not None and not dstatus.get_condition(
                status, "Progressing"
            ):
                dstatus.set_condition(status, dstatus.new_condition(
                    "Progressing", "True", dstatus.FOUND_NEW_RS_REASON,
                    f'Found new replica set "{rs["metadata"]["name"]}"', self.at,
                ))
                needs_update = True
            if needs_update:
                await self.update_status()
            return rs
        if not create:
            return None
        rs = self._new_rs_object(old, new_revision, desired, maximum)
        created, already = await self._create_rs(rs)
        if not already and replicas(created) > 0:
            name = created["metadata"]["name"]
            self.event(
                NORMAL, "ScalingReplicaSet",
                f"Scaled up replica set {name} from 0 to {replicas(created)}",
            )
        needs_update = self.set_revision(str(new_revision))
        if not already and dstatus.progress_deadline(d) is not None:
            dstatus.set_condition(d.setdefault("status", {}), dstatus.new_condition(
                "Progressing", "True", dstatus.NEW_RS_REASON,
                f'Created new replica set "{created["metadata"]["name"]}"', self.at,
            ))
            needs_update = True
        if needs_update:
            await self.update_status()
        return created

    def _new_rs_object(self, old: list[Obj], new_revision: int, desired: int, maximum: int) -> Obj:
        d = self.d
        template = copy.deepcopy(d["spec"]["template"])
        pod_hash = template_hash(template, (d.get("status") or {}).get("collisionCount"))
        meta = template.setdefault("metadata", {})
        meta["labels"] = {**(meta.get("labels") or {}), HASH_LABEL: pod_hash}
        selector = copy.deepcopy(d["spec"]["selector"])
        selector["matchLabels"] = {**(selector.get("matchLabels") or {}), HASH_LABEL: pod_hash}
        rs: Obj = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": f"{d['metadata']['name']}-{pod_hash}",
                "namespace": d["metadata"]["namespace"],
                "labels": dict(meta["labels"]),
                "ownerReferences": [controller_ref(d, "apps/v1", "Deployment")],
            },
            "spec": {
                "replicas": 0,
                "minReadySeconds": d["spec"].get("minReadySeconds", 0),
                "selector": selector,
                "template": template,
            },
        }
        rs["spec"]["replicas"] = new_rs_new_replicas(d, [*old, rs], rs)
        set_new_rs_annotations(d, rs, new_revision, False, desired, maximum)
        return rs

    async def _create_rs(self, rs: Obj) -> tuple[Obj, bool]:
        d = self.d
        namespace = d["metadata"]["namespace"]
        try:
            created = await self.api.create(REPLICASETS, namespace, rs)
        except KubeError as err:
            if err.already_exists:
                found = await self.api.get(REPLICASETS, namespace, rs["metadata"]["name"])
                if is_controlled_by(found, d) and equal_ignore_hash(
                    found["spec"]["template"], d["spec"]["template"]
                ):
                    self.rs_list.append(found)
                    return found, True
                status = d.setdefault("status", {})
                status["collisionCount"] = int(status.get("collisionCount") or 0) + 1
                await self.update_status()
                raise
            message = f'Failed to create new replica set "{rs["metadata"]["name"]}": {err}'
            if dstatus.progress_deadline(d) is not None:
                dstatus.set_condition(d.setdefault("status", {}), dstatus.new_condition(
                    "Progressing", "False", "ReplicaSetCreateError", message, self.at
                ))
                await self.update_status()
            self.event(WARNING, "ReplicaSetCreateError", message)
            raise
        self.rs_list.append(created)
        return created, False

    def set_revision(self, value: str) -> bool:
        notes = self.d["metadata"].setdefault("annotations", {})
        if notes.get(REVISION) == value:
            return False
        notes[REVISION] = value
        return True

    # --- scaling ---

    async def scale_rs(self, rs: Obj, new_scale: int) -> tuple[bool, Obj]:
        d = self.d
        desired, maximum = replicas(d), replicas(d) + max_surge(d)
        resize = replicas(rs) != new_scale
        if not resize and not replicas_annotations_need_update(rs, desired, maximum):
            return False, rs
        updated = copy.deepcopy(rs)
        updated["spec"]["replicas"] = new_scale
        set_replicas_annotations(updated, desired, maximum)
        written = await self._write_rs(updated)
        if resize:
            direction = "up" if replicas(rs) < new_scale else "down"
            self.event(
                NORMAL, "ScalingReplicaSet",
                f"Scaled {direction} replica set {rs['metadata']['name']} "
                f"from {replicas(rs)} to {new_scale}",
            )
        return resize, written

    async def scale_rs_and_record_event(self, rs: Obj, new_scale: int) -> tuple[bool, Obj]:
        if replicas(rs) == new_scale:
            return False, rs
        return await self.scale_rs(rs, new_scale)

    async def reconcile_new(self, all_rss: list[Obj], new: Obj) -> bool:
        want = replicas(self.d)
        if replicas(new) == want:
            return False
        if replicas(new) > want:
            return (await self.scale_rs_and_record_event(new, want))[0]
        count = new_rs_new_replicas(self.d, all_rss, new)
        return (await self.scale_rs_and_record_event(new, count))[0]

    async def reconcile_old(self, all_rss: list[Obj], old: list[Obj], new: Obj) -> bool:
        if total_spec(old) == 0:
            return False
        min_available = replicas(self.d) - max_unavailable(self.d)
        new_unavailable = replicas(new) - status_int(new, "availableReplicas")
        max_scaled_down = total_spec(all_rss) - min_available - new_unavailable
        if max_scaled_down <= 0:
            return False
        old, cleaned = await self.cleanup_unhealthy(old, max_scaled_down)
        scaled = await self.scale_down_old_for_rolling([*old, new], old)
        return cleaned + scaled > 0

    async def cleanup_unhealthy(self, old: list[Obj], limit: int) -> tuple[list[Obj], int]:
        old = by_creation(old)
        total = 0
        for i, rs in enumerate(old):
            if total >= limit:
                break
            available = status_int(rs, "availableReplicas")
            if replicas(rs) == 0 or replicas(rs) == available:
                continue
            count = min(limit - total, replicas(rs) - available)
            _, old[i] = await self.scale_rs_and_record_event(rs, replicas(rs) - count)
            total += count
        return old, total

    async def scale_down_old_for_rolling(self, all_rss: list[Obj], old: list[Obj]) -> int:
        min_available = replicas(self.d) - max_unavailable(self.d)
        available = total_status(all_rss, "availableReplicas")
        if available <= min_available:
            return 0
        goal = available - min_available
        total = 0
        for rs in by_creation(old):
            if total >= goal:
                break
            if replicas(rs) == 0:
                continue
            count = min(replicas(rs), goal - total)
            await self.scale_rs_and_record_event(rs, replicas(rs) - count)
            total += count
        return total

    async def scale_down_old_for_recreate(self, old: list[Obj]) -> bool:
        scaled = False
        for rs in old:
            if replicas(rs) != 0:
                scaled = (await self.scale_rs_and_record_event(rs, 0))[0] or scaled
        return scaled

    def old_pods_running(self, new: Obj | None, old: list[Obj]) -> bool:
        if total_status(old, "replicas") > 0:
            return True
        new_uid = new["metadata"]["uid"] if new else None
        for uid, pods in self.pods_by_rs.items():
            if uid == new_uid:
                continue
            for pod in pods:
                if (pod.get("status") or {}).get("phase") not in ("Failed", "Succeeded"):
                    return True
        return False

    async def scale(self, new: Obj | None, old: list[Obj]) -> None:
        d = self.d
        target = _active_or_latest(new, old)
        if target is not None:
            if replicas(target) != replicas(d):
                await self.scale_rs_and_record_event(target, replicas(d))
            return
        if is_saturated(d, new):
            for rs in active(old):
                await self.scale_rs_and_record_event(rs, 0)
            return
        if is_rolling(d):
            ordered, sizes, _ = proportional_sizes(d, active(_present([*old, new])))
            for rs in ordered:
                await self.scale_rs(rs, sizes[rs["metadata"]["name"]])

    async def cleanup(self, old: list[Obj]) -> None:
        limit = self.d["spec"].get("revisionHistoryLimit")
        if limit is None or limit == NO_HISTORY_LIMIT:
            return
        cleanable = [rs for rs in old if not deleting(rs)]
        excess = len(cleanable) - int(limit)
        if excess <= 0:
            return
        cleanable.sort(key=lambda rs: (revision(rs), rs["metadata"].get("creationTimestamp", "")))
        for rs in cleanable[:excess]:
            status = rs.get("status") or {}
            if (
                status.get("replicas", 0) != 0
                or replicas(rs) != 0
                or rs["metadata"].get("generation", 0) > status.get("observedGeneration", 0)
            ):
                continue
            meta = rs["metadata"]
            try:
                await self.api.delete(REPLICASETS, meta["namespace"], meta["name"])
            except KubeError as err:
                if not err.not_found:
                    raise

    # --- status ---

    async def sync_deployment_status(self, all_rss: list[Obj], new: Obj | None) -> None:
        status = dstatus.calculate_status(all_rss, new, self.d, self.at)
        if dstatus.wire(status) != (self.d.get("status") or {}):
            self.d["status"] = status
            await self.update_status()

    async def sync_rollout_status(self, all_rss: list[Obj], new: Obj | None) -> None:
        status = dstatus.rollout_status(all_rss, new, self.d, self.at)
        self.requeue_after = dstatus.stuck_requeue_after(self.d, status, self.at)
        if dstatus.wire(status) != (self.d.get("status") or {}):
            self.d["status"] = status
            await self.update_status()

    async def update_status(self) -> None:
        body = {**self.d, "status": dstatus.wire(self.d.get("status") or {})}
        written = await self.api.replace(DEPLOYMENTS, body, "status")
        self.d["metadata"]["resourceVersion"] = written["metadata"]["resourceVersion"]

    # --- helpers ---

    async def _write_rs(self, rs: Obj) -> Obj:
        written = await self.api.replace(REPLICASETS, rs)
        self.rs_list = [
            written if r["metadata"]["uid"] == written["metadata"]["uid"] else r
            for r in self.rs_list
        ]
        return written

    def event(self, type_: str, reason: str, message: str) -> None:
        self.recorder.record(DEPLOYMENTS, self.d, type_, reason, message)


def _present(rss: list[Obj | None]) -> list[Obj]:
    return [rs for rs in rss if rs is not None]


def _desired(rs: Obj) -> int | None:
    return annotation_int(rs, DESIRED_REPLICAS)


def _active_or_latest(new: Obj | None, old: list[Obj]) -> Obj | None:
    """FindActiveOrLatest: the only active ReplicaSet, or the newest when none is active."""
    if new is None and not old:
        return None
    newest_first = list(reversed(by_creation(old)))
    running = active(_present([*newest_first, new]))
    if not running:
        return new if new is not None else newest_first[0]
    if len(running) == 1:
        return running[0]
    return None
