#!/usr/bin/python
"""Ansible module mlmon.monitoring.dashboard_png: draw each dashboard's panels from Prometheus into a PNG."""

from __future__ import annotations

DOCUMENTATION = r"""
module: dashboard_png
short_description: Draw every panel of Grafana dashboards from Prometheus into one PNG per dashboard
description:
  - For each dashboard, asks the Prometheus HTTP API (C(/api/v1/query_range)) every visible PromQL query of every
    panel over O(start) to O(end), with the dashboard's template variables replaced by O(variables) as the filter
    P(mlmon.monitoring.dashboard_queries#filter) replaces them, and draws the panels where Grafana's grid puts them,
    one plot per panel with a line per series, into C(<dest>/<uid>.png).
  - A panel whose queries return no finite value is drawn with C(No data) in it and listed in
    RV(dashboards[].empty_panels); the module does not fail for it, so the caller decides.
  - Draws with matplotlib's Agg backend, on the host the module runs on (the controller, for the mlmon roles).
version_added: 0.1.0
options:
  dashboards:
    description: The dashboards, as Grafana JSON models; each needs a C(uid), which names its file.
    type: list
    elements: dict
    required: true
  variables:
    description:
      - Variable name to value, for the dashboards' template variables and Grafana built-ins such as C(__rate_interval).
      - A template variable without a value here takes the value the dashboard is saved with (its C(current) value), as
        Grafana opens it.
      - A query that uses a variable with neither fails the module, naming the panel and the variable.
    type: dict
    default: {}
  prometheus_url:
    description: Base URL of Prometheus, for example C(http://127.0.0.1:30300).
    type: str
    required: true
  start:
    description: Start of the time range, in Unix seconds.
    type: float
    required: true
  end:
    description: End of the time range, in Unix seconds; the time of the call when not set.
    type: float
  step:
    description: Seconds between two points of a line; when not set, the range divided into 240 steps, at least 1 s.
    type: float
  dest:
    description: Directory the PNG files are written to; created when missing.
    type: path
    required: true
  validate_certs:
    description: Verify the TLS certificate of an https URL.
    type: bool
    default: true
  timeout:
    description: Seconds to wait for each answer of Prometheus.
    type: int
    default: 30
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Queries and draws, and reports whether a file would change, but writes none.
requirements:
  - matplotlib
notes:
  - C(changed) is true when a file's bytes differ from the file already there; new data draws a new picture.
author: mlmon maintainers (@mlmon)
"""

EXAMPLES = r"""
- name: Draw the model dashboard over the last ten minutes
  mlmon.monitoring.dashboard_png:
    dashboards:
      - "{{ lookup('ansible.builtin.file', 'files/dashboards/ml-model-api.json') | ansible.builtin.from_json }}"
    variables: {job: model, namespace: house-price, datasource: prometheus, __rate_interval: 1m, __interval: 1m}
    prometheus_url: http://127.0.0.1:30300
    start: "{{ now().timestamp() - 600 }}"
    dest: build/verify
"""

RETURN = r"""
dashboards:
  description: One item per dashboard, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    uid: {description: The dashboard's uid., type: str}
    title: {description: The dashboard's title., type: str}
    path: {description: Absolute path of its PNG file., type: str}
    panels: {description: Panels with a PromQL query (rows and text panels are not drawn)., type: int}
    axes: {description: Plots the figure holds; one per panel., type: int}
    empty_panels: {description: Titles of the panels whose queries returned no finite value., type: list, elements: str}
    plots:
      description: Each panel as drawn.
      type: list
      elements: dict
      contains:
        title: {description: The panel's title., type: str}
        box: {description: "Its plot's box in the PNG, in pixels: left, top, right, bottom (origin top left).",
              type: list, elements: int}
        series: {description: Lines with at least one finite value., type: int}
        has_data: {description: Whether any of its queries returned a finite value., type: bool}
start:
  description: Start of the time range queried, in Unix seconds.
  returned: always
  type: float
end:
  description: End of the time range queried, in Unix seconds.
  returned: always
  type: float
step:
  description: Seconds between two points.
  returned: always
  type: float
"""

import math
import os
import re
import tempfile
import time
from collections.abc import Mapping
from typing import Any

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.mlmon.monitoring.plugins.module_utils.dashboard_picture import (
    MATPLOTLIB_IMPORT_ERROR,
    Panel,
    Series,
    draw,
    layout,
    series_of,
)
from ansible_collections.mlmon.monitoring.plugins.module_utils.dashboards import (
    UnresolvedVariable,
    panel_queries,
    panels,
    with_saved_values,
)
from ansible_collections.mlmon.monitoring.plugins.module_utils.prometheus_api import PrometheusError, get

STEPS = 240
UID = re.compile(r"[A-Za-z0-9_-]{1,40}")


class PictureError(Exception):
    """A dashboard that cannot be drawn, with the reason a user can act on."""


def picture(
    module: AnsibleModule, dashboard: Mapping[str, Any], start: float, end: float, step: float
) -> dict[str, Any]:
    """Query and draw one dashboard; write its PNG unless in check mode."""
    params = module.params
    uid, title = str(dashboard.get("uid", "")), str(dashboard.get("title", ""))
    if not UID.fullmatch(uid):
        raise PictureError(f"dashboard {title!r} has no uid of 1 to 40 letters, digits, - or _ (got {uid!r})")
    try:
        variables = with_saved_values(dashboard, params["variables"])
        queries = [(entry, panel_queries(entry, variables)) for entry in panels(dashboard)]
    except UnresolvedVariable as error:
        raise PictureError(f"dashboard {title!r}: {error}") from error
    placed, rows = layout([entry for entry, asked in queries if entry.get("type") == "row" or asked])
    to_draw = []
    asked_of_panels = [asked for entry, asked in queries if entry.get("type") != "row" and asked]
    for (entry, column, row, width, height), asked in zip(placed, asked_of_panels, strict=True):
        panel = Panel(
            title=str(entry.get("title", "")),
            unit=str(entry.get("fieldConfig", {}).get("defaults", {}).get("unit", "")),
            column=column,
            row=row,
            width=width,
            height=height,
        )
        for query in asked:
            try:
                panel.series += _range(params, query, start, end, step)
            except PrometheusError as error:
                raise PictureError(
                    f"{title} / {panel.title} / {query['ref_id']}: Prometheus at {params['prometheus_url']} "
                    f"answered: {error} (query: {query['expr']})"
                ) from error
        to_draw.append(panel)
    png, drawn, axes = draw(title, to_draw, rows, start, end)
    path = os.path.abspath(os.path.join(params["dest"], f"{uid}.png"))
    changed = _differs(path, png)
    if changed and not module.check_mode:
        _write(module, path, png)
    return {
        "changed": changed,
        "uid": uid,
        "title": title,
        "path": path,
        "panels": len(to_draw),
        "axes": axes,
        "empty_panels": [plot.title for plot in drawn if not plot.has_data],
        "plots": [
            {"title": plot.title, "box": list(plot.box), "series": plot.series, "has_data": plot.has_data}
            for plot in drawn
        ],
    }


def _range(params: dict[str, Any], query: dict[str, str], start: float, end: float, step: float) -> list[Series]:
    """The lines of one panel query over the time range."""
    window = {"query": query["expr"], "start": str(start), "end": str(end), "step": str(step)}
    answer = get(params["prometheus_url"], "/api/v1/query_range", window, params["validate_certs"], params["timeout"])
    return series_of(answer, query["legend"])


def _differs(path: str, content: bytes) -> bool:
    try:
        with open(path, "rb") as existing:
            return existing.read() != content
    except FileNotFoundError:
        return True


def _write(module: AnsibleModule, path: str, content: bytes) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".dashboard_png-")
    with os.fdopen(handle, "wb") as output:
        output.write(content)
    module.atomic_move(temporary, path)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "dashboards": {"type": "list", "elements": "dict", "required": True},
            "variables": {"type": "dict", "default": {}},
            "prometheus_url": {"type": "str", "required": True},
            "start": {"type": "float", "required": True},
            "end": {"type": "float"},
            "step": {"type": "float"},
            "dest": {"type": "path", "required": True},
            "validate_certs": {"type": "bool", "default": True},
            "timeout": {"type": "int", "default": 30},
        },
        supports_check_mode=True,
    )
    if MATPLOTLIB_IMPORT_ERROR is not None:
        module.fail_json(msg=missing_required_lib("matplotlib"), exception=MATPLOTLIB_IMPORT_ERROR)
    params = module.params
    params["prometheus_url"] = params["prometheus_url"].rstrip("/")
    start = params["start"]
    end = params["end"] if params["end"] is not None else time.time()
    if not end > start:
        module.fail_json(msg=f"end ({end}) must be later than start ({start})")
    step = params["step"] if params["step"] is not None else max(1.0, math.ceil((end - start) / STEPS))
    if step <= 0:
        module.fail_json(msg=f"step must be a positive number of seconds, got {step}")
    results = []
    for dashboard in params["dashboards"]:
        try:
            results.append(picture(module, dashboard, start, end, step))
        except PictureError as error:
            module.fail_json(msg=str(error), dashboards=results, start=start, end=end, step=step)
    changed = [result.pop("changed") for result in results]
    module.exit_json(changed=any(changed), dashboards=results, start=start, end=end, step=step)


if __name__ == "__main__":
    main()
