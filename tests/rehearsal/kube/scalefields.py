"""managedFields of a write to the ``scale`` subresource, as the registries' ScaleHandler keeps them
(k8s.io/apimachinery/pkg/util/managedfields/scalehandler.go).

The write is tracked on the Scale object (``autoscaling/v1``, subresource ``scale``), not on the
parent: first the parent's entries that own its replicas path are turned into Scale entries owning
``.spec.replicas`` (``to_scale``), then the field manager records the update over the Scale, then
the result is folded back into the parent's entries (``to_parent``): a parent entry whose manager
lost ``.spec.replicas`` on the Scale loses the replicas path (and disappears if that was all it
owned), and a Scale entry owning ``.spec.replicas`` becomes an entry of the parent's apiVersion,
subresource ``scale``, owning the replicas path. So ``kubectl scale`` leaves
``{manager: kubectl-scale, operation: Update, subresource: scale, f:spec: {f:replicas: {}}}`` and a
later server-side apply of another replica count by someone else conflicts with it.

As upstream, an entry coming back from the Scale takes the time the parent had for that exact
manager key; the key of an ``Update`` entry includes its apiVersion, which the round trip through
``autoscaling/v1`` changes, so such an entry comes back without ``time``. Where upstream would
then hold two entries for one ``Update`` manager (it kept ``.spec.replicas`` through a scale write
that did not change it, and owns other fields of the parent), they are kept as one.
"""

from __future__ import annotations

import copy
from typing import Any

from .fieldmanager import FieldManager, cap_update_managers, reset_set
from .fieldpath import FieldSet
from .managed import APPLY, UPDATE, ManagerId, Managers, Owned, decode, encode
from .schema import SchemaNode

Obj = dict[str, Any]
SCALE_VERSION = "autoscaling/v1"
SCALE_SUBRESOURCE = "scale"
REPLICAS_IN_SCALE = (("f", "spec"), ("f", "replicas"))


def replicas_path(spec_replicas_path: str) -> tuple[tuple[str, str], ...]:
    """``.spec.replicas`` (a scale's ``specReplicasPath``) as a field path."""
    return tuple(("f", key) for key in spec_replicas_path.strip(".").split("."))


def _group(api_version: str) -> str:
    return api_version.rpartition("/")[0]


def _scale_key(identity: ManagerId) -> ManagerId:
    """The key an entry has once re-encoded at ``autoscaling/v1``."""
    return ManagerId.of(identity.manager, identity.operation, SCALE_VERSION, identity.subresource)


def to_scale(parent: Managers, parent_group: str, path: tuple[tuple[str, str], ...]) -> Managers:
    """ToSubresource: the parent's entries owning the replicas path, as Scale entries."""
    out: Managers = {}
    for identity, owned in parent.items():
        if _group(owned.api_version) != parent_group or not owned.fields.has(path):
            continue
        out[_scale_key(identity)] = Owned(FieldSet.of([REPLICAS_IN_SCALE]), SCALE_VERSION, owned.time)
    return out


def to_parent(
    parent: Managers, scale: Managers, parent_version: str, path: tuple[tuple[str, str], ...]
) -> Managers:
    """ToParent: merge the Scale's entries back into the parent's."""
    remaining = dict(scale)
    out: Managers = {}
    for identity, owned in parent.items():
        if _group(owned.api_version) != _group(parent_version):
            continue
        if not owned.fields.has(path):
            out[identity] = owned
        elif identity in remaining:
            out[identity] = owned
            del remaining[identity]
        else:
            kept = owned.fields.difference(FieldSet.of([path]))
            if not kept.empty():
                out[identity] = owned.with_fields(kept)
    for identity, owned in remaining.items():
        if not owned.fields.has(REPLICAS_IN_SCALE):
            continue
        key = ManagerId(
            identity.manager,
            identity.operation,
            "" if identity.operation == APPLY else parent_version,
            identity.subresource,
        )
        before, kept = parent.get(identity), out.get(key)
        if kept is not None:
            out[key] = kept.with_fields(kept.fields.union(FieldSet.of([path])))
        else:
            out[key] = Owned(FieldSet.of([path]), parent_version, before.time if before else None)
    return out


def _bare(scale: Obj) -> Obj:
    out = copy.deepcopy(scale)
    out.get("metadata", {}).pop("managedFields", None)
    return out


def track_scale_update(
    old_parent: Obj,
    old_scale: Obj,
    new_scale: Obj,
    manager: str,
    scale_root: SchemaNode,
    spec_replicas_path: str,
    now: str,
) -> list[Obj]:
    """The parent's ``metadata.managedFields`` after ``manager`` changed ``old_scale`` into
    ``new_scale`` through the scale subresource (``[]`` keeps an untracked parent untracked)."""
    parent_version = old_parent.get("apiVersion") or ""
    try:
        parent = decode((old_parent.get("metadata") or {}).get("managedFields"))
    except ValueError:
        parent = {}
    if not parent:
        return []
    path = replicas_path(spec_replicas_path)
    fm = FieldManager(scale_root, SCALE_VERSION, SCALE_SUBRESOURCE, reset_set((), SCALE_SUBRESOURCE))
    scale = to_scale(parent, _group(parent_version), path)
    scale = fm.update(_bare(old_scale), _bare(new_scale), scale, fm.identity(manager, UPDATE), now)
    return encode(to_parent(parent, cap_update_managers(scale), parent_version, path))
