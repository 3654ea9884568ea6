"""A Grafana dashboard's panels and their PromQL queries as Grafana would run them, template variables resolved.

Shared by the filter ``dashboard_queries`` (the verify role asks Prometheus each query) and the module
``dashboard_png`` (which draws the same queries over a time range), so both see the same queries: panels inside
collapsed rows included, hidden targets skipped, the dashboard's template variables (``$job``, ``${namespace}``,
``[[job]]``, ``${job:regex}``) and Grafana's built-in interval variables (``$__rate_interval``...) replaced by values
the caller supplies. A template variable the caller gives no value for takes the value the dashboard is saved with
(its ``current`` value), as Grafana opens it; a variable with neither is an error rather than a query that silently
returns nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

VARIABLE = re.compile(r"\$\{(?P<braced>\w+)(?::\w+)?\}|\[\[(?P<bracketed>\w+)\]\]|\$(?P<plain>\w+)")


class UnresolvedVariable(ValueError):
    """A query uses a template variable the caller gave no value for."""


def panels(dashboard: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Every panel in dashboard order, each row followed by the panels it holds when collapsed."""

    def walk(items: list[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
        for panel in items:
            yield panel
            yield from walk(panel.get("panels", []))

    return walk(dashboard.get("panels", []))


def saved_values(dashboard: Mapping[str, Any]) -> dict[str, str]:
    """The template variables' values the dashboard is saved with (``current.value``), where it has one."""
    values = {}
    for variable in dashboard.get("templating", {}).get("list", []):
        value = (variable.get("current") or {}).get("value")
        if isinstance(value, str) and value:
            values[variable["name"]] = value
    return values


def with_saved_values(dashboard: Mapping[str, Any], variables: Mapping[str, str]) -> dict[str, str]:
    """The caller's values, and the saved value of each template variable the caller gives none for."""
    return {**saved_values(dashboard), **variables}


def resolve(expr: str, variables: Mapping[str, str], where: str) -> str:
    """Replace every template variable in ``expr`` by its value."""

    def substitute(match: re.Match[str]) -> str:
        name = match["braced"] or match["bracketed"] or match["plain"]
        if name not in variables:
            raise UnresolvedVariable(f"{where}: no value for template variable ${name} in: {expr}")
        return str(variables[name])

    return VARIABLE.sub(substitute, expr)


def panel_queries(panel: Mapping[str, Any], variables: Mapping[str, str]) -> list[dict[str, str]]:
    """``{ref_id, expr, legend}`` for every visible PromQL target of one panel; ``legend`` is its legendFormat."""
    queries = []
    for target in panel.get("targets", []):
        if target.get("hide") or not target.get("expr"):
            continue
        where = f"panel {panel.get('title', panel.get('id'))!r} target {target.get('refId')}"
        queries.append(
            {
                "ref_id": target.get("refId", ""),
                "expr": resolve(target["expr"], variables, where),
                "legend": target.get("legendFormat", ""),
            }
        )
    return queries


def dashboard_queries(dashboard: Mapping[str, Any], variables: Mapping[str, str]) -> list[dict[str, str]]:
    """Return ``{name, panel, ref_id, expr}`` for every visible PromQL target of the dashboard."""
    variables = with_saved_values(dashboard, variables)
    queries = []
    for panel in panels(dashboard):
        title = panel.get("title", "")
        for query in panel_queries(panel, variables):
            queries.append(
                {
                    "name": f"{dashboard.get('title', '')} / {title} / {query['ref_id']}",
                    "panel": title,
                    "ref_id": query["ref_id"],
                    "expr": query["expr"],
                }
            )
    return queries
