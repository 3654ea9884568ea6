"""What mlmon.monitoring.k8s_apply decides and shows: whether applying a manifest would change the live object.

kubernetes.core's client-side apply sends a PATCH on every run for any object that holds a list (its three-way
merge re-sends every list, see docs/upstream-kubernetes-core-apply-lists.md), and server-side apply sends one by
design; both then report "ok" because nothing changed. So the module reads the object first and applies only when
``needs_apply`` says so. An apply is needed when

* the object does not exist;
* the manifest differs from the configuration last applied (``kubectl.kubernetes.io/last-applied-
  configuration``), which is how a field removed from the manifest is noticed; or
* the live object no longer contains the manifest (someone edited it): every field of the manifest must be in
  the live object with the same value, objects compared recursively and lists element by element; fields the
  server added (defaults, status, metadata) are not compared.

``preview`` gives the diff a reviewer needs: the live object cut down to the fields the manifest (or the last
applied configuration) sets, beside the manifest; no managedFields, resourceVersion, generation or status.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
# Values never shown in a diff: a Secret's data (the Grafana admin password, for one).
HIDDEN = {"Secret": ("data", "stringData")}
HIDDEN_VALUE = "(hidden)"


def contains(live: Any, wanted: Any) -> bool:
    """Whether ``live`` holds every field of ``wanted`` with the same value."""
    if isinstance(wanted, Mapping):
        return isinstance(live, Mapping) and all(
            key in live and contains(live[key], value) for key, value in wanted.items()
        )
    if isinstance(wanted, Sequence) and not isinstance(wanted, str):
        return (
            isinstance(live, Sequence)
            and not isinstance(live, str)
            and len(live) == len(wanted)
            and all(contains(have, want) for have, want in zip(live, wanted, strict=True))
        )
    # 1 == True in Python; a boolean field never equals a number in Kubernetes.
    return isinstance(live, bool) == isinstance(wanted, bool) and live == wanted


def last_applied(live: Mapping[str, Any] | None) -> dict | None:
    """The configuration last applied to ``live``, or None."""
    text = ((live or {}).get("metadata", {}).get("annotations") or {}).get(LAST_APPLIED)
    return json.loads(text) if text else None


def needs_apply(live: Mapping[str, Any] | None, manifest: Mapping[str, Any]) -> bool:
    """Whether applying ``manifest`` would change ``live`` (None: the object does not exist)."""
    if not live:
        return True
    wanted = json.loads(json.dumps(manifest))
    if last_applied(live) != wanted:
        return True
    return not contains(live, wanted)


def _project(live: Any, *shapes: Any) -> Any:
    """``live`` cut down to the keys any of ``shapes`` has (recursively); lists element by element."""
    mappings = [s for s in shapes if isinstance(s, Mapping)]
    if isinstance(live, Mapping) and mappings:
        keys = [k for s in mappings for k in s]
        return {
            k: _project(live[k], *(s.get(k) for s in mappings)) for k in dict.fromkeys(keys) if k in live
        }
    lists = [s for s in shapes if isinstance(s, list)]
    if isinstance(live, list) and lists:
        return [_project(item, *(s[i] for s in lists if i < len(s))) for i, item in enumerate(live)]
    return live


def _hide(obj: Mapping[str, Any] | None, other: Mapping[str, Any] | None) -> dict:
    """``obj`` with the values of hidden fields replaced, saying only whether each differs from ``other``."""
    if not obj:
        return {}
    shown = json.loads(json.dumps(obj))
    for field in HIDDEN.get(shown.get("kind", ""), ()):
        values = shown.get(field)
        if isinstance(values, dict):
            theirs = (other or {}).get(field) or {}
            shown[field] = {
                k: HIDDEN_VALUE if theirs.get(k) == v else f"{HIDDEN_VALUE}, differs" for k, v in values.items()
            }
    return shown


def preview(live: Mapping[str, Any] | None, manifest: Mapping[str, Any]) -> dict:
    """Ansible's diff for applying ``manifest`` over ``live``: only what the manifest controls, secrets hidden."""
    wanted = json.loads(json.dumps(manifest))
    before = _project(live, wanted, last_applied(live) or {}) if live else {}
    if isinstance(before, dict):
        annotations = before.get("metadata", {}).get("annotations")
        if isinstance(annotations, dict):
            annotations.pop(LAST_APPLIED, None)
    meta = wanted.get("metadata", {})
    name = "/".join(p for p in (wanted.get("kind"), meta.get("namespace"), meta.get("name")) if p)
    return {
        "before": _hide(before, wanted),
        "after": _hide(wanted, before),
        "before_header": f"{name} (live)" if live else f"{name} (absent)",
        "after_header": f"{name} (manifest)",
    }
