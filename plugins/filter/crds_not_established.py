"""Filter ``mlmon.monitoring.crds_not_established``: which of the named CRDs the API server does not serve yet.

The roles wait for the monitoring.coreos.com CRDs with one ``kubernetes.core.k8s_info`` list of
CustomResourceDefinitions retried until this filter returns nothing. A ``k8s_info`` call per CRD (the
module's own ``wait``) costs a module run each, which made every rerun a few seconds longer; a list
with a label selector is not possible because the chart's CRDs carry no common label.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

DOCUMENTATION = r"""
name: crds_not_established
short_description: List the named CustomResourceDefinitions that are missing or not Established
description:
  - Given the C(resources) of a kubernetes.core.k8s_info list of CustomResourceDefinitions, return the names
    from O(names) that are absent or whose C(Established) condition is not C(True), in the order given.
options:
  _input:
    description: The CustomResourceDefinitions (k8s_info's C(resources)).
    type: list
    elements: dict
    required: true
  names:
    description: The CRD names that must be served, such as C(servicemonitors.monitoring.coreos.com).
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: Wait until the CRDs are Established
  kubernetes.core.k8s_info:
    api_version: apiextensions.k8s.io/v1
    kind: CustomResourceDefinition
    hidden_fields: [spec, metadata.managedFields, metadata.annotations]
  register: crds
  until: crds.resources | mlmon.monitoring.crds_not_established(['servicemonitors.monitoring.coreos.com']) == []
  retries: 60
  delay: 2
"""

RETURN = r"""
_value:
  description: The names that are missing or not Established; empty when all are served.
  type: list
  elements: str
"""


def _established(crd: Mapping[str, Any]) -> bool:
    conditions = (crd.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions)


def crds_not_established(resources: Iterable[Mapping[str, Any]], names: Iterable[str]) -> list[str]:
    """The entries of ``names`` that are not among the Established CRDs in ``resources``."""
    served = {crd.get("metadata", {}).get("name") for crd in resources or [] if _established(crd)}
    return [name for name in names if name not in served]


class FilterModule:
    """Ansible filter plugin entry point."""

    def filters(self) -> dict[str, Any]:
        return {"crds_not_established": crds_not_established}
