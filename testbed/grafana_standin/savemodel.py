"""What Grafana stores when a dashboard JSON model is saved.

Grafana 12 saves ``/api/dashboards/db`` through its dashboard API (``dashboard.grafana.app``
v1), whose admission ``Mutate`` hook strips ``uid``/``id``/``version`` from the spec and
runs the backend schema migration (``apps/dashboard/pkg/migration``): first the defaults
the frontend ``DashboardModel``/``PanelModel`` constructors apply, then the frontend's
``getSaveModel`` clean-up, then the per-``schemaVersion`` migrations up to the latest.

Copied here (facts, not code):

* dashboard defaults when a key is missing or ``null``: ``tags []``, ``timezone ""``,
  ``weekStart ""``, ``editable true``, ``graphTooltip 0``, ``time {from: now-6h, to: now}``,
  ``timepicker {}``, ``fiscalYearStartMonth 0``, ``links []``, ``templating.list []``,
  ``annotations.list`` with the built-in "Annotations & Alerts" query first; ``liveNow``
  and ``refresh`` are *not* defaulted;
* panel defaults, then clean-up: every panel (rows' nested panels too) gets a unique
  positive ``id``, targets get ``refId`` letters, properties equal to the ``PanelModel``
  defaults are dropped (``gridPos {x0,y0,h3,w6}``, ``targets [{refId: A}]``,
  ``transparent false``, ``options {}``, ``links []``, empty ``fieldConfig``, ``title ""``),
  ``null`` values are dropped, empty ``transformations`` dropped, ``fieldConfig`` gains
  ``overrides []``, angular panels are auto-migrated (``graph`` → ``timeseries`` with
  ``autoMigrateFrom``), top-level panels are ordered by ``gridPos`` (y, then x);
* dashboard clean-up: ``meta``, ``variables``, transient keys, ``gnetId: null``,
  ``style: "dark"``, ``hideControls: false``, ``id: null`` removed; template variables
  lose ``index`` and ``null`` values, query variables gain ``options []``;
* schema migrations V40 (``refresh`` becomes a string), V41 (``timepicker.time_options``
  removed) and V42 (``hideFrom.viz`` implies ``hideFrom.tooltip``); ``schemaVersion``
  ends at 42. Migrations V1 to V39 are not replicated: an older dashboard only has its
  ``schemaVersion`` raised.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import TypeGuard

LATEST_SCHEMA_VERSION = 42

Json = dict[str, object]

_BUILT_IN_ANNOTATION: Json = {
    "builtIn": 1,
    "datasource": {"type": "grafana", "uid": "-- Grafana --"},
    "enable": True,
    "hide": True,
    "iconColor": "rgba(0, 211, 255, 1)",
    "name": "Annotations & Alerts",
    "type": "dashboard",
}

_DASHBOARD_DEFAULTS: dict[str, Callable[[], object]] = {
    "tags": list,
    "timezone": str,
    "weekStart": str,
    "editable": lambda: True,
    "graphTooltip": lambda: 0,
    "time": lambda: {"from": "now-6h", "to": "now"},
    "timepicker": dict,
    "schemaVersion": lambda: 0,
    "fiscalYearStartMonth": lambda: 0,
    "links": list,
}

_PANEL_DEFAULTS: dict[str, object] = {
    "gridPos": {"x": 0, "y": 0, "h": 3, "w": 6},
    "targets": [{"refId": "A"}],
    "cachedPluginOptions": {},
    "transparent": False,
    "options": {},
    "links": [],
    "fieldConfig": {"defaults": {}, "overrides": []},
    "title": "",
}

_PANEL_TRANSIENT = (
    "events", "isViewing", "isEditing", "isInView", "hasRefreshed", "cachedPluginOptions",
    "plugin", "queryRunner", "replaceVariables", "configRev", "hasSavedPanelEditChange",
    "getDisplayTitle", "dataSupport", "key", "isNew", "refreshWhenInView", "scopedVars",
)

_DASHBOARD_TRANSIENT = (
    "events", "meta", "originalTime", "originalTemplating", "originalLibraryPanels",
    "panelInEdit", "panelInView", "getVariablesFromState", "formatDate",
    "appEventsSubscription", "panelsAffectedByVariableChange", "lastRefresh",
    "timeRangeUpdatedDuringEditOrView", "originalDashboard", "variables", "preload",
    "iteration",
)

_ANGULAR_REPLACEMENTS = {
    "table-old": "table",
    "singlestat": "stat",
    "grafana-singlestat-panel": "stat",
    "grafana-piechart-panel": "piechart",
    "grafana-worldmap-panel": "geomap",
    "natel-discrete-panel": "state-timeline",
}

_LEGACY_TABLE_KEYS = ("pageSize", "scroll", "fontSize", "showHeader", "sort")


def save_model(posted: Json) -> Json:
    """Return the spec Grafana stores for the posted dashboard model (input untouched)."""
    dashboard = copy.deepcopy(posted)
    for key in ("uid", "version", "id"):
        dashboard.pop(key, None)
    _apply_dashboard_defaults(dashboard)
    panels = _panels_with_nested(dashboard)
    for panel in panels:
        _apply_panel_defaults(panel)
    _assign_panel_ids(panels)
    _clean_dashboard(dashboard)
    _migrate(dashboard)
    return dashboard


def schema_version(dashboard: Json) -> int:
    """``schemaVersion`` read as Grafana reads it (numbers, numeric strings, else 0)."""
    value = dashboard.get("schemaVersion")
    if isinstance(value, bool):
        return 0
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return 0


def go_equal(left: object, right: object) -> bool:
    """Equality as Go compares decoded JSON: a bool never equals a number."""
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    if isinstance(left, int | float) and isinstance(right, int | float):
        return float(left) == float(right)
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(go_equal(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(go_equal, left, right))
    return type(left) is type(right) and left == right


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _apply_dashboard_defaults(dashboard: Json) -> None:
    for key, default in _DASHBOARD_DEFAULTS.items():
        if dashboard.get(key) is None:
            dashboard[key] = default()
    for key in ("templating", "annotations"):
        section = dashboard.get(key)
        if isinstance(section, dict):
            if section.get("list") is None:
                section["list"] = []
        else:
            dashboard[key] = {"list": []}
    _add_built_in_annotation(dashboard["annotations"])
    _drop_null_variable_values(dashboard["templating"])


def _add_built_in_annotation(annotations: object) -> None:
    existing = annotations.get("list") if isinstance(annotations, dict) else None
    if not isinstance(annotations, dict) or not isinstance(existing, list):
        return
    if not any(isinstance(item, dict) and _is_number(item.get("builtIn"))
               and item["builtIn"] == 1 for item in existing):
        annotations["list"] = [copy.deepcopy(_BUILT_IN_ANNOTATION), *existing]


def _drop_null_variable_values(templating: object) -> None:
    if not isinstance(templating, dict) or not isinstance(templating.get("list"), list):
        return
    for variable in templating["list"]:
        current = variable.get("current") if isinstance(variable, dict) else None
        if not isinstance(current, dict) or "value" not in current:
            continue
        value = current["value"]
        if value is None or (isinstance(value, list) and None in value):
            del current["value"]


def _panels_with_nested(dashboard: Json) -> list[Json]:
    """Top-level panels, each followed by the panels nested in it (depth-first)."""
    found: list[Json] = []
    top = dashboard.get("panels")
    for panel in top if isinstance(top, list) else []:
        if isinstance(panel, dict):
            found.append(panel)
            nested = panel.get("panels")
            found.extend(p for p in (nested if isinstance(nested, list) else [])
                         if isinstance(p, dict))
    return found


def _apply_panel_defaults(panel: Json) -> None:
    for key, default in _PANEL_DEFAULTS.items():
        if key == "fieldConfig":
            continue
        if panel.get(key) is None:
            panel[key] = copy.deepcopy(default)
    if "fieldConfig" not in panel:
        panel["fieldConfig"] = {"defaults": {}, "overrides": []}
    elif isinstance(panel["fieldConfig"], dict) and "overrides" not in panel["fieldConfig"]:
        panel["fieldConfig"]["overrides"] = []
    _assign_ref_ids(panel.get("targets"))


def _assign_ref_ids(targets: object) -> None:
    if not isinstance(targets, list):
        return
    queries = [target for target in targets if isinstance(target, dict)]
    taken = {query["refId"] for query in queries if isinstance(query.get("refId"), str)}
    letters = iter("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    for query in queries:
        if query.get("refId") is not None:
            continue
        letter = next((candidate for candidate in letters if candidate not in taken), None)
        if letter is not None:
            query["refId"] = letter
            taken.add(letter)


def _assign_panel_ids(panels: list[Json]) -> None:
    ids = [float(current) for panel in panels
           if _is_number(current := panel.get("id")) and current > 0]
    next_id = int(max(ids, default=0)) + 1
    seen: set[float] = set()
    for panel in panels:
        current = panel.get("id")
        if _is_number(current) and current > 0 and float(current) not in seen:
            seen.add(float(current))
            continue
        panel["id"] = next_id
        next_id += 1


def _clean_dashboard(dashboard: Json) -> None:
    for key in _DASHBOARD_TRANSIENT:
        dashboard.pop(key, None)
    for key, dropped in (("gnetId", None), ("style", "dark"), ("hideControls", False),
                         ("id", None)):
        if key in dashboard and go_equal(dashboard[key], dropped):
            del dashboard[key]
    templating = dashboard.get("templating")
    if isinstance(templating, dict):
        _drop_nulls(templating)
        variables = templating.get("list")
        for variable in variables if isinstance(variables, list) else []:
            if isinstance(variable, dict):
                _clean_variable(variable)
    panels = dashboard.get("panels")
    kept = [panel for panel in (panels if isinstance(panels, list) else [])
            if isinstance(panel, dict)
            and "repeatPanelId" not in panel and "repeatedByRow" not in panel]
    for panel in kept:
        _clean_panel(panel, nested=False)
        nested = panel.get("panels")
        for child in nested if isinstance(nested, list) else []:
            if isinstance(child, dict):
                _clean_panel(child, nested=True)
    kept.sort(key=_grid_order)
    dashboard["panels"] = kept


def _clean_variable(variable: Json) -> None:
    variable.pop("index", None)
    kind = variable.get("type")
    if kind == "query":
        variable.setdefault("options", [])
    elif kind == "constant":
        variable.pop("options", None)
    elif kind == "datasource":
        variable["options"] = []


def _grid_order(panel: Json) -> tuple[float, float]:
    grid = panel.get("gridPos")
    if not isinstance(grid, dict):
        return (0.0, 0.0)
    y, x = grid.get("y"), grid.get("x")
    return (float(y) if _is_number(y) else 0.0, float(x) if _is_number(x) else 0.0)


def _clean_panel(panel: Json, *, nested: bool) -> None:
    if not nested:
        _auto_migrate(panel)
    if panel.get("libraryPanel") is not None:
        kept = {key: panel[key] for key in ("id", "title", "gridPos", "libraryPanel")
                if panel.get(key) is not None}
        panel.clear()
        panel.update(kept)
        return
    if panel.get("type") == "row" and panel.get("repeat") == "":
        del panel["repeat"]
    for key in _PANEL_TRANSIENT:
        panel.pop(key, None)
    if panel.get("transformations") == []:
        del panel["transformations"]
    for key, default in _PANEL_DEFAULTS.items():
        if key in panel and go_equal(panel[key], default):
            del panel[key]
    _drop_nulls(panel)
    if panel.get("type") == "table" and panel.get("autoMigrateFrom") != "table-old":
        for key in _LEGACY_TABLE_KEYS:
            panel.pop(key, None)
    if panel.get("targets") == []:
        del panel["targets"]


def _auto_migrate(panel: Json) -> None:
    kind = panel.get("type")
    if not isinstance(kind, str):
        return
    replacement = _ANGULAR_REPLACEMENTS.get(kind)
    if kind == "graph":
        replacement = _graph_replacement(panel)
    if replacement is not None:
        panel["autoMigrateFrom"] = kind
        panel["type"] = replacement


def _graph_replacement(panel: Json) -> str:
    xaxis = panel.get("xaxis")
    mode = xaxis.get("mode") if isinstance(xaxis, dict) else None
    if mode == "histogram":
        return "histogram"
    if mode == "series":
        legend = panel.get("legend")
        return "bargauge" if isinstance(legend, dict) and legend.get("values") is True \
            else "barchart"
    return "timeseries"


def _drop_nulls(value: object) -> None:
    if isinstance(value, dict):
        for key in [key for key, item in value.items() if item is None]:
            del value[key]
        for item in value.values():
            _drop_nulls(item)
    elif isinstance(value, list):
        for item in value:
            _drop_nulls(item)


def _migrate(dashboard: Json) -> None:
    source = schema_version(dashboard)
    dashboard["schemaVersion"] = source
    for version in range(source + 1, LATEST_SCHEMA_VERSION + 1):
        step = _MIGRATIONS.get(version)
        if step is not None:
            step(dashboard)
        dashboard["schemaVersion"] = version


def _v40_refresh_is_a_string(dashboard: Json) -> None:
    if not isinstance(dashboard.get("refresh"), str):
        dashboard["refresh"] = ""


def _v41_drop_time_options(dashboard: Json) -> None:
    timepicker = dashboard.get("timepicker")
    if isinstance(timepicker, dict):
        timepicker.pop("time_options", None)


def _v42_hidden_from_tooltip(dashboard: Json) -> None:
    panels = dashboard.get("panels")
    for panel in _panels_with_nested(dashboard) if isinstance(panels, list) else []:
        field_config = panel.get("fieldConfig")
        overrides = field_config.get("overrides") if isinstance(field_config, dict) else None
        for override in overrides if isinstance(overrides, list) else []:
            properties = override.get("properties") if isinstance(override, dict) else None
            for prop in properties if isinstance(properties, list) else []:
                if not isinstance(prop, dict) or prop.get("id") != "custom.hideFrom":
                    continue
                value = prop.get("value")
                if isinstance(value, dict) and value.get("viz") is True:
                    value["tooltip"] = True


_MIGRATIONS: dict[int, Callable[[Json], None]] = {
    40: _v40_refresh_is_a_string,
    41: _v41_drop_time_options,
    42: _v42_hidden_from_tooltip,
}
