"""Filter ``mlmon.monitoring.k8s_needs_apply``: whether applying a manifest would change the live object.

kubernetes.core's client-side apply sends a PATCH on every run for any object that holds a list (its
three-way merge always emits lists), and server-side apply sends one by design; both then report "ok"
because nothing changed. To keep a rerun free of write calls, the roles read the object first and apply
only when this filter says so. An apply is needed when

* the object does not exist;
* the manifest differs from the configuration last applied (``kubectl.kubernetes.io/last-applied-
  configuration``), which is how a field removed from the manifest is noticed; or
* the live object no longer contains the manifest (someone edited it): every field of the manifest must
  be in the live object with the same value, objects compared recursively and lists element by element;
  fields the server added (defaults, status, metadata) are not compared.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: k8s_needs_apply
short_description: Tell whether applying a Kubernetes manifest would change the live object
description:
  - True when the object is missing, when the manifest differs from its last-applied configuration, or when the
    live object does not contain every field of the manifest with the same value.
options:
  _input:
    description: The live object (a dict), or the C(resources) list of a kubernetes.core.k8s_info result.
    type: raw
    required: true
  manifest:
    description: The manifest that would be applied.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Apply the Service only when it would change
  kubernetes.core.k8s:
    apply: true
    definition: "{{ service }}"
  when: __live.resources | mlmon.monitoring.k8s_needs_apply(service)
"""

RETURN = r"""
_value:
  description: Whether an apply would change the object.
  type: bool
"""

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


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


def k8s_needs_apply(live: Any, manifest: Mapping[str, Any]) -> bool:
    """Whether applying ``manifest`` would change ``live`` (an object, or k8s_info's resources list)."""
    if isinstance(live, Sequence) and not isinstance(live, str | Mapping):
        if len(live) > 1:
            raise AnsibleFilterError("k8s_needs_apply compares one object; k8s_info returned several")
        live = live[0] if live else None
    if not live:
        return True
    wanted = json.loads(json.dumps(manifest))
    last_applied = (live.get("metadata", {}).get("annotations") or {}).get(LAST_APPLIED)
    if last_applied is None or json.loads(last_applied) != wanted:
        return True
    return not contains(live, wanted)


class FilterModule:
    """Ansible filter plugin entry point."""

    def filters(self) -> dict[str, Any]:
        return {"k8s_needs_apply": k8s_needs_apply}
