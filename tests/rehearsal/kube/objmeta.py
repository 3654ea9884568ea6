"""ObjectMeta system fields, timestamps and the field order Go's encoder writes.

Go serialises struct fields in declaration order, so a real apiserver always answers
``kind, apiVersion, metadata, spec, status`` and ``metadata`` as name, generateName, namespace,
uid, resourceVersion, generation, creationTimestamp, ...; ``ordered`` reproduces that order.
"""

from __future__ import annotations

import copy
import random
import uuid
from datetime import UTC, datetime
from typing import Any

Obj = dict[str, Any]

META_ORDER = (
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
)
TOP_ORDER = ("kind", "apiVersion", "metadata")
NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_uid() -> str:
    return str(uuid.uuid4())


def generate_name(prefix: str, rng: random.Random) -> str:
    base = prefix[: 63 - 5]
    return base + "".join(rng.choice(NAME_ALPHABET) for _ in range(5))


def ordered(obj: Obj) -> Obj:
    """A copy with the top-level and metadata keys in Go's declaration order."""
    out: Obj = {k: obj[k] for k in TOP_ORDER if k in obj}
    out.update({k: v for k, v in obj.items() if k not in out})
    meta = out.get("metadata")
    if isinstance(meta, dict):
        sorted_meta = {k: meta[k] for k in META_ORDER if k in meta}
        sorted_meta.update({k: v for k, v in meta.items() if k not in sorted_meta})
        out["metadata"] = sorted_meta
    return out


def deep(obj: Any) -> Any:
    return copy.deepcopy(obj)


def without(obj: Obj, *keys: str) -> Obj:
    return {k: v for k, v in obj.items() if k not in keys}


def strip_empty_meta(meta: Obj) -> None:
    """Go drops empty optional metadata maps/lists (omitempty)."""
    for key in ("labels", "annotations", "ownerReferences", "finalizers", "managedFields"):
        if key in meta and not meta[key]:
            del meta[key]
    for key in ("generateName", "namespace", "uid", "resourceVersion"):
        if key in meta and meta[key] == "":
            del meta[key]
