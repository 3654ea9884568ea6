"""CustomResourceDefinitions: the naming/establishing controllers and the finalizer.

A CRD gets ``NamesAccepted`` (``NoConflicts``) as soon as it is stored, or ``NameConflict`` when
another CRD already serves its plural or kind in the group. Its kinds are served — discovery,
OpenAPI, REST — only once it is ``Established``, which happens ``established_delay`` seconds
after its names were accepted, so "no matches for kind" right after creating a CRD is real here
too. Schema changes of an established CRD take effect at once. Deleting a CRD marks it
``Terminating``; the controller deletes every custom resource of it, then drops the
``customresourcecleanup.apiextensions.k8s.io`` finalizer so the CRD goes away.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from .errors import ApiError
from .objmeta import deep
from .resources import ALL_VERBS, COMMON_FIELDS, ResourceType
from .rest import Api, WriteOptions, set_condition
from .store import Event

Obj = dict[str, Any]
log = logging.getLogger(__name__)
CRD_STORAGE = ("apiextensions.k8s.io", "customresourcedefinitions")
CLEANUP = "customresourcecleanup.apiextensions.k8s.io"
MANAGER = WriteOptions(field_manager="kube-apiserver")


def _condition(crd: Obj, kind: str) -> str:
    for cond in (crd.get("status") or {}).get("conditions") or []:
        if cond.get("type") == kind:
            return str(cond.get("status"))
    return ""


def resource_types(crd: Obj) -> list[ResourceType]:
    spec = crd["spec"]
    names = spec["names"]
    out = []
    for version in spec.get("versions") or []:
        if not version.get("served"):
            continue
        subresources = version.get("subresources") or {}
        subs = frozenset(k for k in ("status", "scale") if k in subresources)
        out.append(
            ResourceType(
                group=spec["group"],
                version=version["name"],
                kind=names["kind"],
                plural=names["plural"],
                namespaced=spec.get("scope") == "Namespaced",
                short_names=tuple(names.get("shortNames") or ()),
                categories=tuple(names.get("categories") or ()),
                verbs=ALL_VERBS,
                subresources=subs,
                crd_name=crd["metadata"]["name"],
                schema=deep((version.get("schema") or {}).get("openAPIV3Schema")),
                scale_paths=subresources.get("scale"),
                printer_columns=tuple(version.get("additionalPrinterColumns") or ()),
                singular_name=names.get("singular", ""),
                list_kind_name=names.get("listKind", ""),
                has_generation=True,
                field_selectors=(
                    *COMMON_FIELDS,
                    *(f["jsonPath"].lstrip(".") for f in version.get("selectableFields") or []),
                ),
            )
        )
    return out


class CrdController:
    def __init__(self, api: Api, established_delay: float) -> None:
        self.api = api
        self.delay = established_delay
        self.wake = asyncio.Event()
        self._accepted_at: dict[str, float] = {}
        self._emptying: set[tuple[str, str]] = set()
        api.store.add_listener(self._on_event)

    @property
    def crd_type(self) -> ResourceType:
        rt = self.api.registry.lookup("apiextensions.k8s.io", "v1", "customresourcedefinitions")
        assert rt is not None
        return rt

    def _on_event(self, event: Event) -> None:
        if event.storage in self._emptying:
            self.wake.set()
        if event.storage == CRD_STORAGE:
            if event.type == "DELETED":
                self.api.registry.set_custom(event.obj["metadata"]["name"], [])
            self.wake.set()

    async def run(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            try:
                next_due = self.reconcile()
            except ApiError as exc:
                log.info("crd reconcile: %s", exc)
                next_due = time.monotonic() + 0.1
            if next_due is not None:
                delay = max(next_due - time.monotonic(), 0.01)
                asyncio.get_running_loop().call_later(delay, self.wake.set)

    def reconcile(self) -> float | None:
        """One pass over every CRD; returns when the next pass is due, if one is."""
        due: float | None = None
        crds = self.api.store.items(CRD_STORAGE)
        for crd in crds:
            name = crd["metadata"]["name"]
            if crd["metadata"].get("deletionTimestamp"):
                self._finalize(crd)
                continue
            if _condition(crd, "NamesAccepted") != "True":
                self._accept_names(crd, crds)
                continue
            accepted = self._accepted_at.setdefault(name, time.monotonic())
            if _condition(crd, "Established") != "True":
                when = accepted + self.delay
                if time.monotonic() < when:
                    due = when if due is None else min(due, when)
                    continue
                self._status(crd, "Established", "True", "InitialNamesAccepted", "the initial names have been accepted")
                continue
            types = resource_types(crd)
            if self.api.registry.custom_for(name) != types or any(
                a.schema != b.schema or a.printer_columns != b.printer_columns or a.scale_paths != b.scale_paths
                for a, b in zip(self.api.registry.custom_for(name), types, strict=False)
            ):
                self.api.registry.set_custom(name, types)
        return due

    def _status(self, crd: Obj, kind: str, status: str, reason: str, message: str, accepted: Obj | None = None) -> None:
        updated = self.api.editable(self.crd_type, crd)
        if accepted is not None:
            updated.setdefault("status", {})["acceptedNames"] = accepted
        set_condition(updated, kind, status, reason, message)
        self.api.update_decoded(self.crd_type, "", updated, crd, MANAGER, "status", [])

    def _accept_names(self, crd: Obj, crds: list[Obj]) -> None:
        spec = crd["spec"]
        names = spec.get("names") or {}
        for other in crds:
            if other is crd or other["spec"].get("group") != spec.get("group"):
                continue
            taken = (other.get("status") or {}).get("acceptedNames") or {}
            if names.get("plural") == taken.get("plural"):
                self._status(
                    crd, "NamesAccepted", "False", "PluralConflict", f'"{names.get("plural")}" is already in use'
                )
                return
            if names.get("kind") == taken.get("kind"):
                self._status(crd, "NamesAccepted", "False", "KindConflict", f'"{names.get("kind")}" is already in use')
                return
        self._accepted_at[crd["metadata"]["name"]] = time.monotonic()
        self._status(crd, "NamesAccepted", "True", "NoConflicts", "no conflicts found", accepted=deep(names))

    def _finalize(self, crd: Obj) -> None:
        name = crd["metadata"]["name"]
        finalizers = crd["metadata"].get("finalizers") or []
        if CLEANUP not in finalizers:
            return
        storage = (crd["spec"]["group"], crd["spec"]["names"]["plural"])
        served = self.api.registry.custom_for(name)
        remaining = self.api.store.items(storage)
        for item in remaining:
            meta = item["metadata"]
            if not served:
                self.api.store.remove(storage, meta.get("namespace", ""), meta["name"])
            elif not meta.get("deletionTimestamp"):
                self.api.delete(served[0], meta.get("namespace", ""), meta["name"], {}, dry_run=False)
        if served and self.api.store.items(storage):
            self._emptying.add(storage)
            return
        self._emptying.discard(storage)
        self._accepted_at.pop(name, None)
        updated = self.api.editable(self.crd_type, crd)
        updated["metadata"]["finalizers"] = [f for f in finalizers if f != CLEANUP]
        self.api.update_decoded(self.crd_type, "", updated, crd, MANAGER, "", [])
