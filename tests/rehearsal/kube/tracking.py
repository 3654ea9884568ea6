"""managedFields bookkeeping for every write, delegating the field-set algebra to ssa.py.

The REST layer calls :class:`FieldTracker` after defaulting and strategy: ``update`` for create,
update and non-apply patches (an ``Update`` entry for the manager, via ``ssa.track_update``),
``apply`` for server-side apply (``ssa.server_side_apply``). Status is reset (nobody comes to
own it) on the main endpoint of kinds with a status subresource, spec on their status endpoint.
A write through the ``scale`` subresource is tracked on the Scale object and folded back into the
parent's entries (``update_scale``, scalefields.py), as the registries' ScaleHandler does.
"""

from __future__ import annotations

from typing import Any

from . import scalefields, ssa
from .objmeta import now_rfc3339
from .resources import ResourceType
from .schema import KindSchema, SchemaLookup

Obj = dict[str, Any]
PRESERVE = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}


class FieldTracker:
    def __init__(self, schemas: SchemaLookup) -> None:
        self.schemas = schemas
        self._custom: dict[tuple[str, str], tuple[Any, KindSchema]] = {}

    def kind_schema(self, rt: ResourceType) -> KindSchema:
        if rt.is_custom:
            key = (rt.api_version, rt.kind)
            cached = self._custom.get(key)
            if cached is None or cached[0] is not rt.schema:
                cached = (rt.schema, self.schemas.custom_resource(rt.schema or PRESERVE))
                self._custom[key] = cached
            return cached[1]
        found = self.schemas.kind(rt.api_version, rt.kind)
        return found if found is not None else self.schemas.custom_resource(PRESERVE).deduced()

    @staticmethod
    def _reset(rt: ResourceType, subresource: str) -> Any:
        if subresource == "status" or rt.has_status:
            return None
        return ()

    def update(self, rt: ResourceType, old: Obj | None, new: Obj, manager: str, subresource: str) -> Obj:
        entries = ssa.track_update(
            old,
            new,
            manager,
            self.kind_schema(rt).root,
            now_rfc3339(),
            subresource or None,
            reset_fields=self._reset(rt, subresource),
        )
        return _with_managed_fields(new, entries)

    def update_scale(
        self, rt: ResourceType, old: Obj, new: Obj, old_scale: Obj, new_scale: Obj, manager: str,
        spec_replicas_path: str,
    ) -> Obj:
        """``new`` (the parent after a scale write) with the managedFields that write leaves."""
        scale = self.schemas.kind(scalefields.SCALE_VERSION, "Scale")
        assert scale is not None
        entries = scalefields.track_scale_update(
            old, old_scale, new_scale, manager, scale.root, spec_replicas_path, now_rfc3339()
        )
        return _with_managed_fields(new, entries)

    def apply(
        self, rt: ResourceType, live: Obj | None, applied: Obj, manager: str, force: bool, subresource: str
    ) -> Obj:
        return ssa.server_side_apply(
            live,
            applied,
            manager,
            force,
            self.kind_schema(rt).root,
            now_rfc3339(),
            subresource or None,
            reset_fields=self._reset(rt, subresource),
        )


def _with_managed_fields(obj: Obj, entries: list) -> Obj:
    """A copy of ``obj`` whose metadata holds ``entries`` as managedFields (none when empty)."""
    out = dict(obj)
    out["metadata"] = dict(obj["metadata"])
    if entries:
        out["metadata"]["managedFields"] = entries
    else:
        out["metadata"].pop("managedFields", None)
    return out
