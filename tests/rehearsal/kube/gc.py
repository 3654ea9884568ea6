"""kube-controller-manager's in-process duties: garbage collector, namespace lifecycle, service accounts.

Garbage collection by ownerReferences, as the GC controller does it:
* an object all of whose owners are gone is deleted (background); dangling references next to a
  live owner are removed;
* an owner deleted with ``Orphan`` (finalizer ``orphan``) has its references removed from its
  dependents, then the finalizer is dropped;
* an owner deleted with ``Foreground`` (finalizer ``foregroundDeletion``) has its dependents
  deleted (in foreground themselves); the finalizer is dropped once no dependent with
  ``blockOwnerDeletion`` remains.

Namespaces: a namespace marked for deletion (phase ``Terminating``) has all its content deleted;
once it is empty the ``kubernetes`` finalizer is removed and the namespace disappears. Every
namespace gets its ``default`` ServiceAccount, as the serviceaccounts controller creates it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from .errors import ApiError
from .resources import ResourceType
from .rest import Api, WriteOptions
from .store import Event

Obj = dict[str, Any]
log = logging.getLogger(__name__)
NAMESPACES = ("", "namespaces")
GC = WriteOptions(field_manager="kube-controller-manager")
PASS_INTERVAL = 0.05


def _owner_uids(obj: Obj) -> list[str]:
    return [ref.get("uid", "") for ref in obj["metadata"].get("ownerReferences") or []]


class GarbageCollector:
    def __init__(self, api: Api) -> None:
        self.api = api
        self.wake = asyncio.Event()
        api.store.add_listener(self._on_event)
        api.on_namespace_created.append(self.ensure_service_account)

    def _on_event(self, _event: Event) -> None:
        self.wake.set()

    def ensure_service_account(self, namespace: str) -> None:
        rt = self.api.registry.lookup("", "v1", "serviceaccounts")
        if rt is None or self.api.store.get(rt.storage, namespace, "default") is not None:
            return
        body = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": namespace}}
        try:
            self.api.create(rt, namespace, body, GC)
        except ApiError as exc:
            log.info("default service account in %s: %s", namespace, exc)

    async def run(self) -> None:
        while True:
            await self.wake.wait()
            await asyncio.sleep(PASS_INTERVAL)
            self.wake.clear()
            try:
                self.reconcile()
            except ApiError as exc:
                log.info("garbage collector pass: %s", exc)
                self.wake.set()

    def _type_of(self, storage: tuple[str, str]) -> ResourceType | None:
        types = self.api.registry.by_storage(storage)
        return types[0] if types else None

    def reconcile(self) -> None:
        everything = list(self.api.store.all_items())
        by_uid = {obj["metadata"].get("uid"): (storage, obj) for storage, obj in everything}
        dependents: dict[str, list[tuple[tuple[str, str], Obj]]] = {}
        for storage, obj in everything:
            for uid in _owner_uids(obj):
                dependents.setdefault(uid, []).append((storage, obj))
        for storage, obj in everything:
            meta = obj["metadata"]
            if storage == NAMESPACES and meta.get("deletionTimestamp"):
                self._finalize_namespace(obj)
                continue
            finalizers = meta.get("finalizers") or []
            if meta.get("deletionTimestamp") and "orphan" in finalizers:
                self._orphan(storage, obj, dependents.get(meta.get("uid"), []))
            elif meta.get("deletionTimestamp") and "foregroundDeletion" in finalizers:
                self._foreground(storage, obj, dependents.get(meta.get("uid"), []))
            if meta.get("ownerReferences"):
                self._check_owners(storage, obj, by_uid)

    def _update(self, storage: tuple[str, str], obj: Obj, old: Obj) -> None:
        rt = self._type_of(storage)
        if rt is None:
            return
        self.api.update_decoded(rt, obj["metadata"].get("namespace", ""), obj, old, GC, "", [])

    def _delete(self, storage: tuple[str, str], obj: Obj, policy: str) -> None:
        rt = self._type_of(storage)
        if rt is None or obj["metadata"].get("deletionTimestamp"):
            return
        meta = obj["metadata"]
        options = {"propagationPolicy": policy, "preconditions": {"uid": meta.get("uid")}}
        try:
            self.api.delete(rt, meta.get("namespace", ""), meta["name"], options, dry_run=False)
        except ApiError as exc:
            if exc.code not in (404, 409):
                raise

    def _drop_finalizer(self, storage: tuple[str, str], obj: Obj, finalizer: str) -> None:
        rt = self._type_of(storage)
        if rt is None:
            return
        updated = self.api.editable(rt, obj)
        updated["metadata"]["finalizers"] = [f for f in obj["metadata"].get("finalizers") or [] if f != finalizer]
        self._update(storage, updated, obj)

    def _orphan(self, storage: tuple[str, str], owner: Obj, deps: list[tuple[tuple[str, str], Obj]]) -> None:
        uid = owner["metadata"].get("uid")
        for dep_storage, dep in deps:
            rt = self._type_of(dep_storage)
            if rt is None:
                continue
            updated = self.api.editable(rt, dep)
            updated["metadata"]["ownerReferences"] = [
                r for r in dep["metadata"].get("ownerReferences") or [] if r.get("uid") != uid
            ]
            self._update(dep_storage, updated, dep)
        self._drop_finalizer(storage, owner, "orphan")

    def _foreground(self, storage: tuple[str, str], owner: Obj, deps: list[tuple[tuple[str, str], Obj]]) -> None:
        uid = owner["metadata"].get("uid")
        blocking = False
        for dep_storage, dep in deps:
            ref = next((r for r in dep["metadata"].get("ownerReferences") or [] if r.get("uid") == uid), {})
            blocking |= bool(ref.get("blockOwnerDeletion"))
            self._delete(dep_storage, dep, "Foreground")
        if not blocking:
            self._drop_finalizer(storage, owner, "foregroundDeletion")

    def _owner_alive(self, obj: Obj, ref: Obj, by_uid: dict[str, tuple[tuple[str, str], Obj]]) -> bool:
        found = by_uid.get(ref.get("uid"))
        if found is None:
            return False
        owner = found[1]
        if owner.get("kind") != ref.get("kind"):
            return False
        owner_ns = owner["metadata"].get("namespace", "")
        return not owner_ns or owner_ns == obj["metadata"].get("namespace", "")

    def _check_owners(self, storage: tuple[str, str], obj: Obj, by_uid: dict[str, tuple[tuple[str, str], Obj]]) -> None:
        refs = obj["metadata"].get("ownerReferences") or []
        alive = [r for r in refs if self._owner_alive(obj, r, by_uid)]
        if not alive:
            self._delete(storage, obj, "Background")
        elif len(alive) != len(refs):
            rt = self._type_of(storage)
            if rt is None:
                return
            updated = self.api.editable(rt, obj)
            updated["metadata"]["ownerReferences"] = alive
            self._update(storage, updated, obj)

    def _finalize_namespace(self, ns: Obj) -> None:
        name = ns["metadata"]["name"]
        remaining = 0
        for storage in self.api.registry.storages():
            rt = self._type_of(storage)
            if rt is None or not rt.namespaced:
                continue
            for obj in self.api.store.items(storage, name):
                remaining += 1
                self._delete(storage, obj, "Background")
        if remaining:
            return
        rt = self._type_of(NAMESPACES)
        if rt is None or not (ns.get("spec") or {}).get("finalizers"):
            return
        updated = self.api.editable(rt, ns)
        updated["spec"]["finalizers"] = []
        self.api.update_decoded(rt, "", updated, ns, GC, "finalize", [])
