"""The deployment controller: Deployments → ReplicaSets, rolled out as kube-controller-manager
rolls them (see deployment_sync.py for the steps, rollout.py and deployment_status.py for the
arithmetic and the status)."""

from __future__ import annotations

import copy

from ..client import DEPLOYMENTS, PODS, REPLICASETS, ApiClient
from ..selectors import selector_object_matcher
from .deployment_sync import DeploymentSync
from .events import EventRecorder
from .informer import Informer
from .meta import Obj, controller_of, controller_ref, deleting, key_of, now
from .rollout import strategy_type
from .runtime import claim, enqueue_all, owner_key, run_reconciler, selecting
from .workqueue import WorkQueue

Key = tuple[str, str]


class DeploymentController:
    name = "deployment-controller"

    async def run(self, api: ApiClient) -> None:
        self.api = api
        self.recorder = EventRecorder(api, self.name)
        self.deployments = Informer(api, DEPLOYMENTS)
        self.replicasets = Informer(api, REPLICASETS)
        self.pods = Informer(api, PODS)
        self.queue: WorkQueue[Key] = WorkQueue()
        self.deployments.on_change(lambda _t, old, new: self.queue.add(key_of(new or old or {})))
        self.replicasets.on_change(self._replicaset_changed)
        self.pods.on_change(self._pod_changed)
        try:
            await run_reconciler(
                self.name, [self.deployments, self.replicasets, self.pods], self.queue, self.sync
            )
        finally:
            await self.recorder.close()

    def _replicaset_changed(self, _type: str, old: Obj | None, new: Obj | None) -> None:
        keys = {owner_key(rs, "Deployment") for rs in (old, new) if rs is not None}
        keys.discard(None)
        if not keys and new is not None:
            keys.update(selecting(self.deployments, new))
        enqueue_all(self.queue, list(keys))

    def _pod_changed(self, kind: str, old: Obj | None, _new: Obj | None) -> None:
        if kind != "DELETED" or old is None:
            return
        rs_key = owner_key(old, "ReplicaSet")
        rs = self.replicasets.get(*rs_key) if rs_key else None
        key = owner_key(rs, "Deployment") if rs else None
        if key is not None:
            self.queue.add(key)

    async def sync(self, key: Key) -> None:
        cached = self.deployments.get(*key)
        if cached is None:
            return
        d = copy.deepcopy(cached)
        namespace = d["metadata"]["namespace"]
        candidates = [copy.deepcopy(rs) for rs in self.replicasets.items(namespace)]
        rs_list = await claim(
            self.api, REPLICASETS, d, controller_ref(d, "apps/v1", "Deployment"), candidates
        )
        pods = self._pods_by_rs(d, rs_list)
        run = DeploymentSync(self.api, self.recorder, d, rs_list, pods, now())
        if deleting(d):
            await run.status_only()
            return
        await run.check_paused_conditions()
        if d["spec"].get("paused") or await run.scaling_event():
            await run.sync()
        elif strategy_type(d) == "Recreate":
            await run.recreate()
        else:
            await run.rolling()
        if run.requeue_after is not None:
            self.queue.add_after(key, run.requeue_after)

    def _pods_by_rs(self, d: Obj, rs_list: list[Obj]) -> dict[str, list[Obj]]:
        match = selector_object_matcher(d["spec"].get("selector"))
        uids = {rs["metadata"]["uid"] for rs in rs_list}
        out: dict[str, list[Obj]] = {uid: [] for uid in uids}
        for pod in self.pods.items(d["metadata"]["namespace"]):
            ref = controller_of(pod)
            if ref is None or ref.get("uid") not in uids:
                continue
            if match(pod["metadata"].get("labels") or {}):
                out[ref["uid"]].append(pod)
        return out
