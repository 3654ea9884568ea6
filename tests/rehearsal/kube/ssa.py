"""Server-side apply and managed-fields tracking, as kube-apiserver's field manager does them.

Both functions follow k8s.io/apimachinery/pkg/util/managedfields (the manager chain) over
sigs.k8s.io/structured-merge-diff (merge, compare, prune); ``lookup`` is the kind's root
:class:`SchemaNode` (``KindSchema.deduced().root`` for a kind the server has no schema for).
``now`` is the RFC 3339 time written into entries that change. Neither mutates its arguments.
The work is split over typed.py (schema walks), fieldpath.py (field sets), managed.py (entries),
fieldmanager.py (the updater), conflicts.py and lastapplied.py.

``server_side_apply(live, applied, manager, force, lookup, now, subresource=None, *,
reset_fields=None) -> dict``
    The object after applying ``applied`` (an apply-patch body, already decoded) for field
    manager ``manager`` over ``live`` (``None`` on create), with ``metadata.managedFields``
    updated. Fields are merged per schema: granular maps key by key, atomic maps and lists whole,
    ``map`` lists item by item on their keys (a missing key field takes its default, e.g. port
    ``protocol: TCP``), ``set`` lists by value. Fields this manager applied before and omits now are
    removed unless another manager owns them; other managers lose fields this apply changes.
    Re-applying the same configuration returns an object equal to ``live``, managedFields (and
    their ``time``) included, so the caller can skip the write. The result still has to be
    defaulted, validated and given server-set metadata by the caller, like any update.
    Raises :class:`ApplyConflict` (409) when a changed field is owned by another manager and
    ``force`` is false, and :class:`PatchError`: 400 when ``metadata.managedFields`` is set in
    ``applied``; 500 (the server's untyped error) when ``applied`` does not fit the schema
    (``failed to create typed patch object (ns/name; apps/v1, Kind=Deployment): .spec.foo: field
    not declared in schema``) or the live managedFields cannot be decoded.
    For manager ``kubectl`` (``kubectl apply --server-side``) over an object last written by
    client-side apply, conflicts on fields whose live value still equals the
    ``kubectl.kubernetes.io/last-applied-configuration`` annotation are taken over, and that
    annotation is rewritten to the applied configuration, as the server does.
``track_update(old, new, manager, lookup, now, subresource=None, *, reset_fields=None) -> list``
    ``metadata.managedFields`` for a write that is not an apply (create: ``old`` is ``None``;
    update; json/merge/strategic patch) by ``manager`` (operation ``Update``): the manager gains the
    fields it added or changed, every manager loses the fields that changed or went away,
    managers left with nothing are dropped, at most ten ``Update`` managers are kept (the oldest
    merge into ``ancient-changes``). ``managedFields`` sent in ``new`` replace the live ones (an
    empty list, or one empty entry, clears them, and an object without managedFields is not
    tracked again until it is applied); on a subresource they are ignored. An unchanged object
    keeps its managedFields exactly. Call it with ``new`` after defaulting.
``reset_fields``: top-level field paths the write may not set and that nobody comes to own,
    default ``[("status",)]`` for the main resource and ``[("spec",), ("metadata", "labels")]``
    for ``status``; pass ``()`` for a custom resource without a status subresource.
``ApplyConflict(ApiError)``: ``.conflicts`` is a list of :class:`Conflict` (``manager``,
    ``path`` as ``.spec.replicas``, ``operation``, ``api_version``, ``subresource``); message and
    ``details.causes`` as the server's (``Apply failed with 1 conflict: conflict with
    "kubectl-client-side-apply" using apps/v1: .spec.replicas``).
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterable, Sequence
from typing import Any

from .conflicts import ApplyConflict, Clash, Conflict, conflict_error
from .fieldmanager import FieldManager, cap_update_managers, reset_set
from .lastapplied import LAST_APPLIED, allowed_conflicts, record
from .managed import APPLY, UPDATE, decode, encode
from .patch_errors import PatchError
from .schema import SchemaNode
from .typed import validate, without_applied_nulls, zero_object

__all__ = ["LAST_APPLIED", "ApplyConflict", "Conflict", "server_side_apply", "track_update"]

_KUBECTL = "kubectl"
_BEFORE_FIRST_APPLY = "before-first-apply"


def _metadata(obj: dict[str, Any] | None) -> dict[str, Any]:
    metadata = (obj or {}).get("metadata")
    return metadata if isinstance(metadata, dict) else {}


def _without_managed_fields(obj: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    metadata = out.get("metadata")
    if isinstance(metadata, dict):
        metadata.pop("managedFields", None)
    return out


def _reset_requested(entries: Any) -> bool:
    """``managedFields: []`` or ``[{}]`` in a write clears the managed fields."""
    return isinstance(entries, list) and (not entries or entries == [{}])


def track_update(
    old: dict[str, Any] | None,
    new: dict[str, Any],
    manager: str,
    lookup: SchemaNode,
    now: str,
    subresource: str | None = None,
    *,
    reset_fields: Iterable[Sequence[str]] | None = None,
) -> list[dict[str, Any]]:
    """managedFields after a non-apply write; see the module docstring."""
    api_version = new.get("apiVersion") or (old or {}).get("apiVersion") or ""
    fm = FieldManager(lookup, api_version, subresource, reset_set(reset_fields, subresource))
    try:
        managers = decode(_metadata(old).get("managedFields"))
    except ValueError:
        managers = {}
    if not subresource and "managedFields" in _metadata(new):
        sent = _metadata(new)["managedFields"]
        if _reset_requested(sent):
            managers = {}
        else:
            with contextlib.suppress(ValueError):
                managers = decode(sent) or managers
    if not managers and old is not None:
        return []
    before = _without_managed_fields(old) if old is not None else zero_object(lookup)
    identity = fm.identity(manager, UPDATE)
    managers = fm.update(before, _without_managed_fields(new), managers, identity, now)
    return encode(cap_update_managers(managers))


def _object_reference(obj: dict[str, Any]) -> str:
    """``objectGVKNN``: ``namespace/name; group/version, Kind=Kind``."""
    metadata = _metadata(obj)
    group, _, version = (obj.get("apiVersion") or "").rpartition("/")
    where = f"{metadata.get('namespace') or ''}/{metadata.get('name') or ''}"
    return f"{where}; {group}/{version}, Kind={obj.get('kind') or ''}"


def _typed_error(obj: dict[str, Any], what: str, errors: list[str]) -> PatchError:
    text = errors[0] if len(errors) == 1 else "\n".join(["errors:", *(f"  {e}" for e in errors)])
    return PatchError.internal(
        f"failed to create typed {what} object ({_object_reference(obj)}): {text}"
    )


def server_side_apply(
    live: dict[str, Any] | None,
    applied: dict[str, Any],
    manager: str,
    force: bool,
    lookup: SchemaNode,
    now: str,
    subresource: str | None = None,
    *,
    reset_fields: Iterable[Sequence[str]] | None = None,
) -> dict[str, Any]:
    """The object after a server-side apply; see the module docstring."""
    if _metadata(applied).get("managedFields") is not None:
        raise PatchError.bad_request("metadata.managedFields must be nil")
    api_version = applied.get("apiVersion") or ""
    fm = FieldManager(lookup, api_version, subresource, reset_set(reset_fields, subresource))
    errors = validate(applied, lookup)
    if errors:
        raise _typed_error(applied, "patch", errors)
    try:
        managers = decode(_metadata(live).get("managedFields"))
    except ValueError as exc:
        raise PatchError.internal(f"failed to decode managed fields: {exc}") from exc
    current = _without_managed_fields(live) if live is not None else zero_object(lookup)
    errors = validate(current, lookup, allow_duplicates=True)
    if errors:
        raise _typed_error(current, "live", errors)
    if not managers:
        before_first = fm.identity(_BEFORE_FIRST_APPLY, UPDATE)
        managers = fm.update(zero_object(lookup), current, {}, before_first, now)
    identity = fm.identity(manager, APPLY)
    try:
        result, managers = fm.apply(current, applied, managers, identity, force, now)
    except Clash as clash:
        allowed = allowed_conflicts(fm, current) if manager == _KUBECTL else None
        if allowed is None:
            raise conflict_error(clash.found) from None
        remaining = {i: s.difference(allowed) for i, s in clash.found.items()}
        remaining = {i: s for i, s in remaining.items() if not s.empty()}
        if remaining:
            raise conflict_error(remaining) from None
        result, managers = fm.apply(current, applied, managers, identity, True, now)
    result = without_applied_nulls(result, applied, lookup)
    if live is None:
        result = {**{k: result[k] for k in applied if k in result}, **result}
    if manager == _KUBECTL:
        result = record(result, applied)
    out = copy.deepcopy(result)
    entries = encode(managers)
    metadata = out.setdefault("metadata", {})
    if entries:
        metadata["managedFields"] = entries
    else:
        metadata.pop("managedFields", None)
    return out
