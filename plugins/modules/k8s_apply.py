"""Ansible module mlmon.monitoring.k8s_apply: apply Kubernetes objects only where they differ."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: k8s_apply
short_description: Apply Kubernetes objects, client-side, only where they differ from the cluster
version_added: "0.1.0"
description:
  - Reads each object of O(definition) and applies it (client-side, as C(kubectl apply) and
    M(kubernetes.core.k8s) with O(kubernetes.core.k8s#module:apply=true) do) only when it is missing, when the
    manifest differs from the configuration last applied, or when the live object no longer holds the manifest.
  - An unchanged object costs one GET and no write. M(kubernetes.core.k8s) with C(apply=true) sends a PATCH on every
    run for any object holding a list (it re-sends every list), and reports C(ok) because nothing changed.
  - Built on kubernetes.core's module_utils (its client, its authentication options and its apply).
author:
  - mlmon maintainers (@mlmon)
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
options:
  definition:
    description:
      - The objects to apply, in order. Each needs C(apiVersion), C(kind) and C(metadata.name); namespaced objects
        need C(metadata.namespace).
    type: list
    elements: dict
    required: true
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Reads every object and reports which would change; sends no write, not even a server-side dry run.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details:
      - One diff per changed object, limited to the fields the manifest (or the configuration last applied) sets;
        no managedFields, resourceVersion, generation, status or last-applied annotation.
      - The values of a Secret's C(data) and C(stringData) are never shown, only whether each differs.
requirements:
  - kubernetes >= 24.2.0
  - PyYAML >= 3.11
seealso:
  - module: kubernetes.core.k8s
"""

EXAMPLES = r"""
- name: Apply the model's Service and Deployment where they differ
  mlmon.monitoring.k8s_apply:
    kubeconfig: ~/.kube/config
    definition: "{{ lookup('ansible.builtin.template', 'model.yml.j2') | ansible.builtin.from_yaml_all }}"
  register: applied

- name: Roll back only a Deployment that existed before
  kubernetes.core.k8s_rollback:
    api_version: apps/v1
    kind: Deployment
    name: model
    namespace: house-price
  when: applied.objects['Deployment/model'].existed
"""

RETURN = r"""
objects:
  description: Per object, keyed C(<kind>/<name>), what the module found and did.
  returned: always
  type: dict
  contains:
    existed:
      description: Whether the object existed before this task.
      type: bool
    changed:
      description: Whether it was (or, in check mode, would be) applied.
      type: bool
  sample:
    Deployment/model: {existed: true, changed: false}
changed_objects:
  description: The C(<kind>/<name>) of the objects applied (or that would be, in check mode), in order.
  returned: always
  type: list
  elements: str
  sample: [Deployment/model]
"""

import copy

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.service import K8sService
from ansible_collections.mlmon.monitoring.plugins.module_utils.k8s_apply import needs_apply, preview


def _key(definition: dict) -> str:
    return f"{definition.get('kind')}/{definition.get('metadata', {}).get('name')}"


def _check(definition: dict) -> str | None:
    """Why ``definition`` cannot be applied, or None."""
    missing = [f for f in ("apiVersion", "kind") if not definition.get(f)]
    if not (definition.get("metadata") or {}).get("name"):
        missing.append("metadata.name")
    return f"{_key(definition)} lacks {', '.join(missing)}" if missing else None


def run(module: AnsibleK8SModule, svc: K8sService) -> dict:
    """Apply each object of the definition that differs; the module's result."""
    objects: dict[str, dict] = {}
    changed: list[str] = []
    diffs: list[dict] = []
    for definition in module.params["definition"]:
        problem = _check(definition)
        if problem:
            raise CoreException(f"Cannot apply {problem}")
        key = _key(definition)
        if key in objects:
            raise CoreException(f"{key} is given twice: each object is applied once")
        resource = svc.find_resource(definition["kind"], definition["apiVersion"], fail=True)
        existing = svc.retrieve(resource, copy.deepcopy(definition))
        live = existing.to_dict() if existing else None
        needed = needs_apply(live, definition)
        objects[key] = {"existed": live is not None, "changed": needed}
        if not needed:
            continue
        changed.append(key)
        if module._diff:
            diffs.append(preview(live, definition))
        if not module.check_mode:
            svc.apply(resource, copy.deepcopy(definition), existing)
    result: dict = {"changed": bool(changed), "objects": objects, "changed_objects": changed}
    if module._diff:
        result["diff"] = diffs
    return result


def main() -> None:
    """Module entry point."""
    argument_spec = copy.deepcopy(AUTH_ARG_SPEC)
    argument_spec["definition"] = {"type": "list", "elements": "dict", "required": True}
    module = AnsibleK8SModule(module_class=AnsibleModule, argument_spec=argument_spec, supports_check_mode=True)
    try:
        module.exit_json(**run(module, K8sService(get_api_client(module), module)))
    except CoreException as exc:
        module.fail_from_exception(exc)


if __name__ == "__main__":
    main()
