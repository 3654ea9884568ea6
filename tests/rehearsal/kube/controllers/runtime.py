"""How a controller runs: its informers list and watch, and once every cache is synced its work
queue is drained until the controller is cancelled."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Any

from ..client import ApiClient, Kind, KubeError
from ..selectors import selector_object_matcher
from .informer import Informer
from .meta import Obj, controller_of
from .workqueue import WorkQueue, drain


async def run_reconciler(
    name: str,
    informers: Sequence[Informer],
    queue: WorkQueue[Any],
    sync: Callable[[Any], Awaitable[None]],
) -> None:
    async with asyncio.TaskGroup() as group:
        for informer in informers:
            group.create_task(informer.run())
        await asyncio.gather(*(informer.synced.wait() for informer in informers))
        group.create_task(drain(queue, sync, name))


def owner_key(obj: Obj, kind: str) -> tuple[str, str] | None:
    """The (namespace, name) of ``obj``'s controller if it is a ``kind``."""
    ref = controller_of(obj)
    if ref is None or ref.get("kind") != kind:
        return None
    return obj["metadata"].get("namespace", ""), ref["name"]


def selecting(owners: Informer, obj: Obj) -> list[tuple[str, str]]:
    """Keys of the owners in ``obj``'s namespace whose selector matches its labels."""
    namespace = obj["metadata"].get("namespace", "")
    labels = obj["metadata"].get("labels") or {}
    return [
        (namespace, owner["metadata"]["name"])
        for owner in owners.items(namespace)
        if (owner["spec"].get("selector") or None) is not None
        and selector_object_matcher(owner["spec"]["selector"])(labels)
    ]


async def claim(
    api: ApiClient, kind: Kind, owner: Obj, owner_ref: Obj, candidates: list[Obj]
) -> list[Obj]:
    """ControllerRefManager: the candidates ``owner`` controls, adopting matching orphans and
    releasing the ones its selector no longer matches."""
    match = selector_object_matcher(owner["spec"].get("selector"))
    uid = owner["metadata"]["uid"]
    owner_gone = bool(owner["metadata"].get("deletionTimestamp"))
    owned: list[Obj] = []
    for obj in candidates:
        ref = controller_of(obj)
        meta = obj["metadata"]
        matches = match(meta.get("labels") or {})
        if ref is not None:
            if ref.get("uid") != uid:
                continue
            if matches or owner_gone:
                owned.append(obj)
            elif not meta.get("deletionTimestamp"):
                kept = [r for r in meta.get("ownerReferences") or [] if r.get("uid") != uid]
                await _set_owners(api, kind, obj, kept)
            continue
        if matches and not owner_gone and not meta.get("deletionTimestamp"):
            refs = [*(meta.get("ownerReferences") or []), owner_ref]
            adopted = await _set_owners(api, kind, obj, refs)
            if adopted is not None:
                owned.append(adopted)
    return owned


async def _set_owners(api: ApiClient, kind: Kind, obj: Obj, refs: list[Obj]) -> Obj | None:
    meta = obj["metadata"]
    patch = {"metadata": {"ownerReferences": refs, "resourceVersion": meta["resourceVersion"]}}
    try:
        return await api.patch(kind, meta.get("namespace"), meta["name"], patch)
    except KubeError as err:
        if err.not_found:
            return None
        raise


def enqueue_all(queue: WorkQueue[Any], keys: list[Hashable]) -> None:
    for key in keys:
        queue.add(key)
