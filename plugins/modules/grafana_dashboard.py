"""Ansible module mlmon.monitoring.grafana_dashboard: a Grafana dashboard, keyed by its uid."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: grafana_dashboard
short_description: Load a dashboard JSON into Grafana only when it differs, keyed by its uid
version_added: "0.1.0"
description:
  - Ensures the dashboard in a JSON file (O(path)) or given as a dict (O(dashboard)) is saved in Grafana, in the
    folder O(folder_uid), or deletes it.
  - The dashboard is found by its fixed C(uid); a dashboard without one is refused, because Grafana would generate a
    uid and the next run could never find the dashboard again.
  - The file is read and checked before any request is sent; a malformed file fails naming the file and the line and
    column of the JSON error.
  - Reads the live dashboard (C(GET /api/dashboards/uid/<uid>)), compares it with the desired JSON by the rule in the
    notes, and saves (C(POST /api/dashboards/db)) only when they differ, so a second run reports C(changed=false)
    and sends no write.
  - With O(datasource_uid), the dashboard's datasource template variable (O(datasource_variable)) is bound to that
    datasource (its default, C(current)); panel datasource references such as C(${datasource}) are left as they are.
author:
  - mlmon maintainers (@mlmon)
extends_documentation_fragment:
  - mlmon.monitoring.grafana
options:
  path:
    description:
      - Dashboard JSON file (the dashboard model itself, as Grafana's "Export as JSON" writes it), read on the host
        that runs the module.
      - Exactly one of O(path) and O(dashboard) is required.
    type: path
  dashboard:
    description:
      - The dashboard model as a dict, instead of O(path).
      - With O(state=absent) only its C(uid) is used.
    type: dict
  folder_uid:
    description:
      - uid of the folder the dashboard is filed in; the folder must exist (see M(mlmon.monitoring.grafana_folder)).
      - The empty string is Grafana's root folder (General). A dashboard in another folder is moved.
    type: str
    default: ""
  overwrite:
    description:
      - Send Grafana's C(overwrite) flag. Without it, an update carries the version this task read, and Grafana
        answers HTTP 412 (C(version-mismatch)) when someone saved the dashboard in between; with it, the save goes
        through regardless.
      - Grafana before 11.3 also answers 412 (C(name-exists)) when another dashboard in the folder has the same
        title. C(overwrite) does not resolve that, because Grafana would save over the other dashboard under I(its)
        uid, and the next run would still not find this uid. Rename or delete the other dashboard instead.
    type: bool
    default: false
  commit_message:
    description: Message Grafana records in the dashboard's version history with each save.
    type: str
  datasource_variable:
    description: Name of the dashboard's template variable of type C(datasource) that O(datasource_uid) binds.
    type: str
    default: datasource
  datasource_uid:
    description:
      - uid of the datasource the O(datasource_variable) variable defaults to. The dashboard must have that variable.
      - When not set, the dashboard's variables are saved as they are.
    type: str
  datasource_name:
    description: Name shown for that datasource (the variable's C(current.text)); defaults to O(datasource_uid).
    type: str
  state:
    description: Whether the dashboard should exist.
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Reads the live dashboard and reports whether it would be created, updated or deleted; sends no write.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: Shows the folder uid and the dashboard as JSON text before and after, limited to the keys the file sets.
notes:
  - "Comparison rule: Grafana fills in defaults and drops some values when it saves, so the live dashboard is never
    byte-equal to the file. The dashboard is unchanged when the live folder uid equals O(folder_uid) and the desired
    JSON is contained in the live one: every key the desired JSON sets must be present in the live JSON with an
    equal value, compared recursively for objects (keys only Grafana has are ignored) and element by element for
    lists (lengths must match); numbers compare by value and never equal booleans."
  - "Exceptions, each one a thing Grafana does on save: C(id) and C(version) are not compared (Grafana assigns
    them); a desired key whose value is null, false, an empty string, list or object matches a key Grafana dropped;
    C(schemaVersion) matches when Grafana's is the same or newer (it migrates dashboards up); top-level panels are
    compared in C(gridPos) order (row, then column), the order Grafana stores them in; Grafana's built-in
    C(Annotations & Alerts) annotation is ignored unless the desired JSON has one."
  - Idempotence therefore holds for dashboards in the form Grafana exports them. A dashboard that relies on other
    save-time changes (an old C(schemaVersion) whose migrations rewrite fields, angular panels such as C(graph)
    that Grafana converts, a datasource variable with non-empty C(options)) is saved again on every run; the list
    of differing paths in RV(changes) shows which keys.
seealso:
  - module: mlmon.monitoring.grafana_folder
  - name: Grafana dashboard HTTP API
    description: The endpoints this module uses.
    link: https://grafana.com/docs/grafana/latest/developers/http_api/dashboard/
"""

EXAMPLES = r"""
- name: Load the model dashboard and bind its datasource variable to Prometheus
  mlmon.monitoring.grafana_dashboard:
    url: http://127.0.0.1:30200
    url_username: admin
    url_password: "{{ grafana_admin_password }}"
    path: files/dashboards/ml-model-api.json
    folder_uid: mlmon
    datasource_uid: prometheus
    datasource_name: Prometheus
    commit_message: Updated by mlmon

- name: Save over a change someone made in the Grafana UI meanwhile
  mlmon.monitoring.grafana_dashboard:
    url: https://grafana.example.org
    token: "{{ grafana_token }}"
    dashboard: "{{ lookup('ansible.builtin.file', 'ml-model-api.json') | ansible.builtin.from_json }}"
    folder_uid: mlmon
    overwrite: true

- name: Delete a dashboard by uid
  mlmon.monitoring.grafana_dashboard:
    url: http://127.0.0.1:30200
    url_password: "{{ grafana_admin_password }}"
    dashboard:
      uid: mlmon-ml-model-api
    state: absent
"""

RETURN = r"""
status:
  description: What the task did (or, in check mode, would do).
  returned: always
  type: str
  choices: [created, updated, unchanged, deleted]
  sample: updated
uid:
  description: uid of the dashboard.
  returned: always
  type: str
  sample: mlmon-ml-model-api
title:
  description: Title of the dashboard.
  returned: always
  type: str
  sample: ML Model API
url:
  description: Address of the dashboard in Grafana; null when it does not exist (or would only be created).
  returned: always
  type: str
  sample: http://127.0.0.1:30200/d/mlmon-ml-model-api/ml-model-api
version:
  description:
    - Version of the dashboard Grafana holds after the task (in check mode, the version it holds now).
    - For a deleted dashboard, the last version it had; null when it does not exist.
  returned: always
  type: int
  sample: 2
folder_uid:
  description: uid of the folder the dashboard is filed in; empty for the root folder.
  returned: always
  type: str
  sample: mlmon
changes:
  description: JSON pointers of the desired values the live dashboard does not match (C(folderUid) for a move).
  returned: always
  type: list
  elements: str
  sample: [/panels/0/title, /refresh]
http_status:
  description: HTTP status of the request that failed (-1 when Grafana did not answer).
  returned: failure
  type: int
  sample: 412
grafana_message:
  description: Grafana's C(message) for the request that failed.
  returned: failure
  type: str
  sample: The dashboard has been changed by someone else
grafana_status:
  description: Grafana's C(status) word for the request that failed, when it gave one.
  returned: failure
  type: str
  sample: version-mismatch
"""

import copy
import json
import re
from collections.abc import Callable
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mlmon.monitoring.plugins.module_utils.grafana_api import (
    GRAFANA_MUTUALLY_EXCLUSIVE,
    GRAFANA_REQUIRED_ONE_OF,
    GrafanaAPIError,
    GrafanaClient,
    failure,
    grafana_argument_spec,
    path_segment,
)

UID = re.compile(r"[A-Za-z0-9_-]{1,40}")
ASSIGNED_BY_GRAFANA = ("id", "version")

CONFLICT_ADVICE = {
    "version-mismatch": (
        "Someone saved this dashboard in Grafana while this task ran. Run it again to compare with their "
        "version, or set overwrite: true (grafana_dashboards_overwrite: true for the grafana_dashboards role) "
        "to save over their change"
    ),
    "name-exists": (
        "Another dashboard in the folder has the same title (Grafana before 11.3 requires unique titles per "
        "folder). Rename or delete that dashboard in Grafana, or change this dashboard's title. overwrite: true "
        "does not help here: Grafana would save over the other dashboard under its uid, and this uid would still "
        "be missing on the next run"
    ),
}
OTHER_CONFLICT_ADVICE = "Resolve the conflict in Grafana, or set overwrite: true to save regardless"


class DashboardError(Exception):
    """The desired dashboard cannot be read, has no usable uid, or cannot be bound."""


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON value")


def load_dashboard(path: str) -> dict[str, Any]:
    """The dashboard model in the file at ``path``."""
    try:
        with open(path, encoding="utf-8-sig") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as error:
        raise DashboardError(f"Cannot read dashboard file {path}: {error}") from error
    try:
        model = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        raise DashboardError(
            f"Dashboard file {path} is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from error
    except ValueError as error:
        raise DashboardError(f"Dashboard file {path} is not valid JSON: {error}") from error
    if not isinstance(model, dict):
        raise DashboardError(f"Dashboard file {path} holds a JSON {type(model).__name__}, not a dashboard object")
    return model


def dashboard_uid(model: dict[str, Any], source: str) -> str:
    """The dashboard's fixed uid, or an error naming ``source``."""
    uid = model.get("uid")
    if not isinstance(uid, str) or not uid:
        envelope = ' (it looks like an API answer: save its "dashboard" object instead)' if "meta" in model else ""
        raise DashboardError(
            f'{source} has no fixed "uid"{envelope}. Without one Grafana generates a uid on every save and '
            'the dashboard cannot be found again; add a "uid" (letters, digits, - and _, at most 40 characters)'
        )
    if not UID.fullmatch(uid):
        raise DashboardError(
            f"{source}: uid {uid!r} is not a Grafana uid (letters, digits, - and _, at most 40 characters)"
        )
    return uid


def bind_datasource(model: dict[str, Any], variable: str, uid: str, name: str, source: str) -> None:
    """Make the datasource variable ``variable`` default to the datasource ``uid``."""
    templating = model.get("templating")
    variables = templating.get("list") if isinstance(templating, dict) else None
    found = [v for v in variables or [] if isinstance(v, dict) and v.get("name") == variable]
    if not found:
        raise DashboardError(
            f"{source} has no template variable named {variable!r} to bind datasource_uid to: add a variable of "
            "type datasource with that name, set datasource_variable to its name, or leave datasource_uid unset"
        )
    if found[0].get("type") != "datasource":
        raise DashboardError(
            f"{source}: template variable {variable!r} is of type {found[0].get('type')!r}, not 'datasource'"
        )
    found[0]["current"] = {"text": name, "value": uid}


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _grid_position(panel: object) -> tuple[float, float]:
    grid = panel.get("gridPos") if isinstance(panel, dict) else None
    if not isinstance(grid, dict):
        return (0.0, 0.0)
    row, column = grid.get("y"), grid.get("x")
    return (float(row) if _is_number(row) else 0.0, float(column) if _is_number(column) else 0.0)


def _is_built_in(annotation: object) -> bool:
    return isinstance(annotation, dict) and _is_number(annotation.get("builtIn")) and annotation["builtIn"] == 1


def comparable(desired: dict[str, Any], live: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Both models with what Grafana does on save taken out (the exceptions in the notes)."""
    want = {key: value for key, value in desired.items() if key not in ASSIGNED_BY_GRAFANA}
    have = dict(live)
    wanted_schema, live_schema = want.get("schemaVersion"), have.get("schemaVersion")
    if _is_number(wanted_schema) and _is_number(live_schema) and live_schema >= wanted_schema:
        del want["schemaVersion"]
    for model in (want, have):
        if isinstance(model.get("panels"), list):
            model["panels"] = sorted(model["panels"], key=_grid_position)
    wanted_annotations, live_annotations = want.get("annotations"), have.get("annotations")
    if isinstance(live_annotations, dict) and isinstance(live_annotations.get("list"), list):
        wanted_list = wanted_annotations.get("list") if isinstance(wanted_annotations, dict) else None
        if not any(_is_built_in(a) for a in wanted_list or []):
            kept = [a for a in live_annotations["list"] if not _is_built_in(a)]
            have["annotations"] = {**live_annotations, "list": kept}
    return want, have


def _is_empty(value: object) -> bool:
    """Null, false, or an empty string, list or object: values Grafana drops on save."""
    return value is None or value is False or (isinstance(value, (str, list, dict)) and not value)


def _same_scalar(want: object, have: object) -> bool:
    if isinstance(want, bool) or isinstance(have, bool):
        return type(want) is type(have) and want == have
    if _is_number(want) and _is_number(have):
        return float(want) == float(have)
    return type(want) is type(have) and want == have


def _pointer(parent: str, key: object) -> str:
    return f"{parent}/{str(key).replace('~', '~0').replace('/', '~1')}"


def differences(want: object, have: object, pointer: str = "") -> list[str]:
    """JSON pointers of the values in ``want`` that ``have`` does not contain."""
    if isinstance(want, dict):
        if not isinstance(have, dict):
            return [pointer]
        found: list[str] = []
        for key, value in want.items():
            if key in have:
                found += differences(value, have[key], _pointer(pointer, key))
            elif not _is_empty(value):
                found.append(_pointer(pointer, key))
        return found
    if isinstance(want, list):
        if not isinstance(have, list) or len(want) != len(have):
            return [pointer]
        return [p for index, item in enumerate(want) for p in differences(item, have[index], _pointer(pointer, index))]
    return [] if _same_scalar(want, have) else [pointer]


def projection(have: object, want: object) -> object:
    """``have`` limited to the keys ``want`` sets, so a diff shows only what is compared."""
    if isinstance(want, dict) and isinstance(have, dict):
        return {key: projection(have[key], value) for key, value in want.items() if key in have}
    if isinstance(want, list) and isinstance(have, list) and len(want) == len(have):
        return [projection(have[index], item) for index, item in enumerate(want)]
    return have


def save(client: GrafanaClient, desired: dict[str, Any], version: object, params: dict[str, Any]) -> dict[str, Any]:
    """POST the dashboard; ``version`` is the live one (``None`` to create)."""
    model = dict(desired, id=None)
    if version is None:
        model.pop("version", None)
    else:
        model["version"] = version
    body: dict[str, Any] = {"dashboard": model, "folderUid": params["folder_uid"], "overwrite": params["overwrite"]}
    if params["commit_message"]:
        body["message"] = params["commit_message"]
    try:
        return client.post("/api/dashboards/db", body)
    except GrafanaAPIError as error:
        if error.status == 412:
            error.hint = CONFLICT_ADVICE.get(error.status_word, OTHER_CONFLICT_ADVICE)
        elif error.status == 400 and error.message == "folder not found":
            error.hint = f"Create the folder {params['folder_uid']!r} first (mlmon.monitoring.grafana_folder)"
        raise


def _json_text(value: dict[str, Any]) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n" if value else ""


def _result(
    status: str,
    uid: str,
    title: object,
    folder_uid: str,
    url: str | None,
    version: object,
    changes: list[str],
    before: dict[str, Any],
    after: dict[str, Any],
) -> dict[str, Any]:
    return {
        "changed": status != "unchanged",
        "status": status,
        "uid": uid,
        "title": title,
        "url": url,
        "version": version,
        "folder_uid": folder_uid,
        "changes": changes,
        # JSON text, keys sorted on both sides, so the diff reads as the dashboard's JSON and shows only what moved.
        "diff": {
            "before": _json_text(before),
            "after": _json_text(after),
            "before_header": f"dashboard {uid} (Grafana)",
            "after_header": f"dashboard {uid} (file)",
        },
    }


def check_stored(client: GrafanaClient, desired: dict[str, Any], uid: str, warn: Callable[[str], None]) -> None:
    """Read the dashboard back after a save and warn about values Grafana rewrote.

    What still differs right after this module's own save is something Grafana changes on every save: the next
    run would save the dashboard again, so the user is told which keys to write the way Grafana stores them.
    """
    stored = client.get(f"/api/dashboards/uid/{path_segment(uid)}")
    rewritten = differences(*comparable(desired, stored.get("dashboard") or {}))
    if rewritten:
        warn(
            f"Grafana rewrote {', '.join(rewritten)} of dashboard {uid} when saving it, so every run will save it "
            "again. Write these values the way Grafana stores them (its JSON model of the dashboard) or leave them out."
        )


def ensure_present(
    client: GrafanaClient,
    desired: dict[str, Any],
    uid: str,
    params: dict[str, Any],
    check_mode: bool,
    warn: Callable[[str], None],
) -> dict[str, Any]:
    """Create or update the dashboard when the live one does not contain the desired one."""
    folder_uid = params["folder_uid"]
    title = desired.get("title")
    live = client.find(f"/api/dashboards/uid/{path_segment(uid)}")
    if live is None:
        status, version, url, changes = "created", None, None, []
        before: dict[str, Any] = {}
        after = {"folderUid": folder_uid, "dashboard": comparable(desired, {})[0]}
    else:
        model = live.get("dashboard") or {}
        meta = live.get("meta") or {}
        live_folder = meta.get("folderUid") or ""
        want, have = comparable(desired, model)
        changes = ([] if live_folder == folder_uid else ["folderUid"]) + differences(want, have)
        status = "updated" if changes else "unchanged"
        version = model.get("version")
        url = client.absolute(meta["url"]) if meta.get("url") else None
        before = {"folderUid": live_folder, "dashboard": projection(have, want)}
        after = {"folderUid": folder_uid, "dashboard": want}
    if status != "unchanged" and not check_mode:
        saved = save(client, desired, version, params)
        version, url = saved.get("version"), client.absolute(saved["url"])
        check_stored(client, desired, uid, warn)
    return _result(status, uid, title, folder_uid, url, version, changes, before, after)


def ensure_absent(client: GrafanaClient, uid: str, check_mode: bool) -> dict[str, Any]:
    """Delete the dashboard when it exists."""
    path = f"/api/dashboards/uid/{path_segment(uid)}"
    live = client.find(path)
    if live is None:
        return _result("unchanged", uid, None, "", None, None, [], {}, {})
    model = live.get("dashboard") or {}
    folder_uid = (live.get("meta") or {}).get("folderUid") or ""
    if not check_mode:
        client.delete(path)
    before = {"folderUid": folder_uid, "dashboard": model}
    return _result("deleted", uid, model.get("title"), folder_uid, None, model.get("version"), [], before, {})


def main() -> None:
    argument_spec = grafana_argument_spec()
    argument_spec.update(
        path={"type": "path"},
        dashboard={"type": "dict"},
        folder_uid={"type": "str", "default": ""},
        overwrite={"type": "bool", "default": False},
        commit_message={"type": "str"},
        datasource_variable={"type": "str", "default": "datasource"},
        datasource_uid={"type": "str"},
        datasource_name={"type": "str"},
        state={"type": "str", "choices": ["present", "absent"], "default": "present"},
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        mutually_exclusive=[*GRAFANA_MUTUALLY_EXCLUSIVE, ("path", "dashboard")],
        required_one_of=[*GRAFANA_REQUIRED_ONE_OF, ("path", "dashboard")],
    )
    params = module.params
    source = f"Dashboard file {params['path']}" if params["path"] else "The dashboard option"
    try:
        desired = load_dashboard(params["path"]) if params["path"] else copy.deepcopy(params["dashboard"])
        uid = dashboard_uid(desired, source)
        if params["datasource_uid"] and params["state"] == "present":
            name = params["datasource_name"] or params["datasource_uid"]
            bind_datasource(desired, params["datasource_variable"], params["datasource_uid"], name, source)
    except DashboardError as error:
        module.fail_json(msg=str(error))
    client = GrafanaClient.from_params(params)
    try:
        if params["state"] == "present":
            result = ensure_present(client, desired, uid, params, module.check_mode, module.warn)
        else:
            result = ensure_absent(client, uid, module.check_mode)
    except GrafanaAPIError as error:
        module.fail_json(uid=uid, **failure(error))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
