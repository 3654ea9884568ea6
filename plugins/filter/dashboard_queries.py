"""Filter ``mlmon.monitoring.dashboard_queries``: every PromQL query of a Grafana dashboard, variables resolved.

The verify role asks Prometheus each query a dashboard panel would run, so it needs the queries exactly as
Grafana would send them: panels inside collapsed rows included, hidden targets skipped, and the dashboard's
template variables (``$job``, ``${namespace}``, ``[[job]]``, ``${job:regex}``) and Grafana's built-in interval
variables (``$__rate_interval``...) replaced by values the caller supplies, or else by the value the dashboard is
saved with. A variable with neither is an error rather than a query that silently returns nothing. The walk and
the substitution live in ``module_utils/dashboards.py``, shared with the module ``dashboard_png``, which draws the
same queries.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.mlmon.monitoring.plugins.module_utils.dashboards import UnresolvedVariable
from ansible_collections.mlmon.monitoring.plugins.module_utils.dashboards import dashboard_queries as queries

DOCUMENTATION = r"""
name: dashboard_queries
short_description: List a Grafana dashboard's PromQL queries with template variables resolved
description:
  - Walks every panel (including the panels of collapsed rows) and returns one item per visible target with an C(expr).
  - Replaces C($var), C(${var}), C(${var:format}) and C([[var]]) by the values given; a dashboard template variable
    without a value given takes its saved C(current) value, as Grafana opens the dashboard.
options:
  _input:
    description: The dashboard JSON (a dict).
    type: dict
    required: true
  variables:
    description:
      - Variable name to value, for the dashboard's variables and Grafana built-ins such as C(__rate_interval).
      - These win over the values the dashboard is saved with.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: List the queries
  ansible.builtin.debug:
    msg: "{{ lookup('ansible.builtin.file', 'ml-model-api.json') | from_json
             | mlmon.monitoring.dashboard_queries(variables) }}"
  vars:
    variables: {job: model, namespace: house-price, __rate_interval: 1m}
"""

RETURN = r"""
_value:
  description: One item per query, C({name, panel, ref_id, expr}) in dashboard order; C(name) is
    C(<dashboard title> / <panel title> / <refId>).
  type: list
  elements: dict
"""


class UnresolvedVariableError(AnsibleFilterError):
    """A query uses a template variable the caller gave no value for."""


def dashboard_queries(dashboard: Mapping[str, Any], variables: Mapping[str, str]) -> list[dict[str, str]]:
    """Return ``{name, panel, ref_id, expr}`` for every visible PromQL target of the dashboard."""
    try:
        return queries(dashboard, variables)
    except UnresolvedVariable as error:
        raise UnresolvedVariableError(str(error)) from error


class FilterModule:
    """Ansible filter plugin entry point."""

    def filters(self) -> dict[str, Any]:
        return {"dashboard_queries": dashboard_queries}
