"""The hand-over from client-side to server-side ``kubectl apply``, as the server does it.

``allowed_conflicts(fields, live) -> FieldSet | None``: the fields of the
``kubectl.kubernetes.io/last-applied-configuration`` annotation whose live values still equal
it; conflicts on them do not stop an apply by manager ``kubectl`` (``None`` when the annotation
is missing, unreadable, of another apiVersion or not valid for the schema).
``record(obj, applied) -> dict``: ``obj`` with that annotation rewritten to the applied
configuration (without the annotation itself), encoded as Go's ``encoding/json`` encodes it, and
dropped when the annotations would exceed 256 KiB; unchanged when ``obj`` has no such annotation.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from .fieldmanager import FieldManager
from .fieldpath import FieldSet
from .typed import compare, validate

__all__ = ["LAST_APPLIED", "allowed_conflicts", "record"]

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
_ANNOTATIONS_LIMIT = 256 * 1024


def _annotations(obj: dict[str, Any]) -> dict[str, Any]:
    metadata = obj.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    return annotations if isinstance(annotations, dict) else {}


def allowed_conflicts(manager: FieldManager, live: dict[str, Any]) -> FieldSet | None:
    text = _annotations(live).get(LAST_APPLIED)
    if not text or not isinstance(text, str):
        return None
    try:
        last = json.loads(text)
    except ValueError:
        return None
    if not isinstance(last, dict) or last.get("apiVersion") != manager.api_version:
        return None
    if validate(last, manager.node):
        return None
    changes = compare(last, live, manager.node)
    return (
        manager.fields(last)
        .difference(changes.modified)
        .difference(changes.added)
        .difference(changes.removed)
    )


def _go_json(value: Any) -> str:
    """``runtime.Encode`` of an unstructured object: sorted keys, HTML-escaped, newline."""
    text = json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escaped)
    return text + "\n"


def record(obj: dict[str, Any], applied: dict[str, Any]) -> dict[str, Any]:
    if not _annotations(obj).get(LAST_APPLIED):
        return obj
    config = copy.deepcopy(applied)
    _annotations(config).pop(LAST_APPLIED, None)
    out = copy.deepcopy(obj)
    annotations = out["metadata"]["annotations"]
    annotations[LAST_APPLIED] = _go_json(config)
    if sum(len(k) + len(str(v)) for k, v in annotations.items()) > _ANNOTATIONS_LIMIT:
        del annotations[LAST_APPLIED]
    return out
