"""The field manager of one kind at one version: structured-merge-diff's ``Updater`` plus the
managedfields chain around it (strip-meta, current-operation, cap-managers).

``FieldManager(node, api_version, subresource, reset)``:

* ``update(old, new, managers, identity, now) -> managers``: a non-apply write by ``identity``;
  every manager loses the fields that changed or went away, ``identity`` gains the fields it
  changed (time ``now``), and keeps the rest it had.
* ``apply(live, applied, managers, identity, force, now) -> (object, managers)``: merge, prune
  what ``identity`` applied before and omits now (unless others own it), take the changed fields
  from other managers (``Clash`` unless ``force``); an unchanged object comes back as ``live``
  itself and the applier's time is left alone.

``reset`` is the set of fields the write may not set (e.g. ``status`` on the main resource):
nobody comes to own them. ``cap_update_managers`` folds the oldest ``Update`` managers beyond
ten into ``ancient-changes``; ``reset_set`` builds the default reset fields.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from .conflicts import Clash
from .fieldpath import FieldSet, freeze
from .managed import UPDATE, ManagerId, Managers, Owned, seconds
from .schema import SchemaNode
from .typed import (
    ABSENT,
    Comparison,
    compare,
    ensure_named_fields,
    merge,
    remove_items,
    to_field_set,
)

__all__ = ["FieldManager", "cap_update_managers", "reset_set"]

_ANCIENT = "ancient-changes"
_MAX_UPDATE_MANAGERS = 10

# Fields nobody owns: identity and server-set metadata.
STRIPPED = FieldSet.of(
    [
        (("f", "apiVersion"),),
        (("f", "kind"),),
        (("f", "metadata"),),
        *(
            (("f", "metadata"), ("f", name))
            for name in (
                "name", "namespace", "creationTimestamp", "selfLink", "uid", "clusterName",
                "generation", "managedFields", "resourceVersion",
            )
        ),
    ]
)


def reset_set(reset_fields: Iterable[Sequence[str]] | None, subresource: str | None) -> FieldSet:
    if reset_fields is None:
        reset_fields = [("status",)] if not subresource else [("spec",), ("metadata", "labels")]
    return FieldSet.of(tuple(("f", name) for name in path) for path in reset_fields)


def _present(value: Any) -> dict[str, Any]:
    return {} if value is ABSENT else value


class FieldManager:
    """One kind's field manager: schema, version, subresource and reset fields."""

    def __init__(
        self, node: SchemaNode, api_version: str, subresource: str | None, reset: FieldSet
    ) -> None:
        self.node = node
        self.api_version = api_version
        self.subresource = subresource or ""
        self.reset = reset

    def identity(self, manager: str, operation: str) -> ManagerId:
        return ManagerId.of(manager, operation, self.api_version, self.subresource)

    def fields(self, obj: Any) -> FieldSet:
        return to_field_set(obj, self.node)

    def _compare(self, old: Any, new: Any) -> Comparison:
        found = compare(old, new, self.node)
        return Comparison(
            found.added.recursive_difference(self.reset),
            found.modified.recursive_difference(self.reset),
            found.removed.recursive_difference(self.reset),
        )

    def _settle(
        self, old: Any, new: Any, managers: Managers, actor: ManagerId | None, force: bool
    ) -> tuple[Managers, Comparison]:
        """structured-merge-diff ``Updater.update``: other managers lose what changed."""
        changes = self._compare(old, new)
        touched = changes.modified.union(changes.added)
        conflicts: dict[ManagerId, FieldSet] = {}
        for identity, owned in managers.items():
            if identity == actor:
                continue
            clash = owned.fields.intersection(touched)
            if not clash.empty():
                conflicts[identity] = clash
        if conflicts and not force:
            raise Clash(conflicts)
        settled: Managers = {}
        for identity, owned in managers.items():
            fields = owned.fields
            if identity != actor:
                fields = fields.difference(conflicts.get(identity, FieldSet()))
                fields = fields.difference(changes.removed)
            if not fields.empty():
                settled[identity] = owned.with_fields(fields)
        return settled, changes

    def update(
        self, old: Any, new: Any, managers: Managers, identity: ManagerId, now: str
    ) -> Managers:
        """``Updater.Update`` behind the ``current-operation`` and strip-meta managers."""
        settled, changes = self._settle(old, new, managers, None, force=True)
        gained = changes.modified.union(changes.added).difference(STRIPPED)
        if gained.empty():
            return settled
        previous = settled.get(identity)
        if previous is not None:
            gained = gained.union(previous.fields)
        settled[identity] = Owned(gained, self.api_version, now)
        return settled

    def _prune(self, merged: dict[str, Any], managers: Managers, last: FieldSet | None) -> Any:
        """Drop what the applier applied last time, omits now, and nobody else owns."""
        if last is None or last.empty():
            return merged
        node = self.node
        last = ensure_named_fields(last, node)
        owned = FieldSet()
        for entry in managers.values():
            owned = owned.union(entry.fields)
        merged_set = ensure_named_fields(self.fields(merged), node)
        kept = ensure_named_fields(self.fields(_present(remove_items(merged, last, node))), node)
        owned_back = merged_set.difference(kept.union(ensure_named_fields(owned, node)))
        kept = ensure_named_fields(self.fields(_present(remove_items(merged, owned_back, node))), node)
        dangling = merged_set.difference(kept).intersection(last)
        return _present(remove_items(merged, dangling, node))

    def apply(
        self,
        live: dict[str, Any],
        applied: dict[str, Any],
        managers: Managers,
        identity: ManagerId,
        force: bool,
        now: str,
    ) -> tuple[dict[str, Any], Managers]:
        """``Updater.Apply`` behind the managed-fields-updater and strip-meta managers."""
        merged = _present(merge(live, applied, self.node))
        last = managers.get(identity)
        managers = dict(managers)
        mine = self.fields(applied).recursive_difference(self.reset)
        managers[identity] = Owned(mine, self.api_version, last.time if last else None)
        merged = self._prune(merged, managers, last.fields if last else None)
        managers, _ = self._settle(live, merged, managers, identity, force)
        unchanged = freeze(merged) == freeze(live)
        stripped = managers[identity].fields.difference(STRIPPED)
        if stripped.empty():
            del managers[identity]
        else:
            time = managers[identity].time if unchanged else now
            managers[identity] = Owned(stripped, self.api_version, time)
        return (live if unchanged else merged), managers


def cap_update_managers(managers: Managers) -> Managers:
    """Fold the oldest ``Update`` managers beyond ten into ``ancient-changes`` per version."""
    updaters = [i for i in managers if i.operation == UPDATE]
    if len(updaters) <= _MAX_UPDATE_MANAGERS:
        return managers
    updaters.sort(key=lambda i: (seconds(managers[i].time), i.key()))
    capped = dict(managers)
    first_by_version: dict[str, ManagerId] = {}
    count = len(updaters)
    for identity in updaters:
        if count <= _MAX_UPDATE_MANAGERS:
            break
        owned = capped[identity]
        version = owned.api_version
        first = first_by_version.get(version)
        if first is None:
            first_by_version[version] = identity
            continue
        bucket = ManagerId(_ANCIENT, UPDATE, version)
        if bucket not in capped:
            capped[bucket] = capped.pop(first)
        capped[bucket] = Owned(owned.fields.union(capped[bucket].fields), version, owned.time)
        del capped[identity]
        count -= 1
    return capped
