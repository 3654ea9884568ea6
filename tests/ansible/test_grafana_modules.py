"""The collection's Grafana modules, called by the real ansible-playbook against the Grafana stand-in.

Column: real (the Grafana stand-in, testbed/grafana_standin, runs as a real process; mlmon.monitoring.grafana_folder and
mlmon.monitoring.grafana_dashboard run inside a real ansible-playbook, through tests/ansible/playbooks/
grafana_modules.yml). The playbook's results are read from the ansible.posix.json callback, and what the
modules sent from the server's request log.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.playbook_runner import BIN, REPO, playbook_env, run_playbook_json
from tests.testbed.fixtures import GrafanaStandin

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
PLAYBOOK = HERE / "playbooks" / "grafana_modules.yml"
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass
class ModuleRun:
    """One run of the module playbook: each module call's result, the warnings, stderr."""

    returncode: int
    folders: list[dict[str, Any]]
    dashboards: list[dict[str, Any]]
    warnings: list[str]
    stderr: str


def _item_results(task: dict[str, Any] | None) -> list[dict[str, Any]]:
    if task is None:
        return []
    result = task["hosts"]["localhost"]
    return list(result.get("results", []))


def call_modules(
    grafana: GrafanaStandin,
    tmp_path: Path,
    *args: str,
    folders: list[dict[str, Any]] | None = None,
    dashboards: list[dict[str, Any]] | None = None,
    **auth: str,
) -> ModuleRun:
    """Run the module playbook; ``auth`` is ``grafana_token=...``, else the admin password is used."""
    settings = {
        "grafana_url": grafana.url,
        **(auth or {"grafana_password": grafana.admin_password}),
        "grafana_folders": folders or [],
        "grafana_dashboards": dashboards or [],
    }
    vars_file = tmp_path / f"module-vars-{len(list(tmp_path.glob('module-vars-*')))}.json"
    returncode, report, stderr = run_playbook_json(PLAYBOOK, vars_file, settings, *args)
    tasks = {task["task"]["name"]: task for task in report["plays"][0]["tasks"]}
    return ModuleRun(
        returncode=returncode,
        folders=_item_results(tasks.get("Call grafana_folder")),
        dashboards=_item_results(tasks.get("Call grafana_dashboard")),
        warnings=[w for task in tasks.values() for w in task["hosts"]["localhost"].get("warnings", [])],
        stderr=stderr,
    )


def writes(grafana: GrafanaStandin, since: int = 0) -> list[tuple[str, str]]:
    """The write requests the server answered, after the first ``since`` requests."""
    return [(r["method"], r["path"]) for r in grafana.requests()[since:] if r["method"] in WRITE_METHODS]


def load(name: str) -> dict[str, Any]:
    return json.loads((DATA / name).read_text())


def dashboard_file(tmp_path: Path, model: dict[str, Any]) -> str:
    """``model`` written to a file the module playbook passes as the dashboard option."""
    path = tmp_path / f"dashboard-{len(list(tmp_path.glob('dashboard-*')))}.json"
    path.write_text(json.dumps(model))
    return str(path)


@pytest.fixture
def api(grafana_standin: GrafanaStandin) -> Iterator[httpx.Client]:
    """The Grafana stand-in's API as its admin, to set up and read back what the modules did."""
    with httpx.Client(base_url=grafana_standin.url, auth=grafana_standin.admin_auth, timeout=10) as client:
        yield client


def service_account_token(api: httpx.Client, name: str, role: str) -> str:
    account = api.post("/api/serviceaccounts", json={"name": name, "role": role})
    account.raise_for_status()
    token = api.post(f"/api/serviceaccounts/{account.json()['id']}/tokens", json={"name": f"{name}-token"})
    token.raise_for_status()
    return str(token.json()["key"])


def test_folder_is_created_left_alone_renamed_and_deleted_by_uid(
    grafana_standin: GrafanaStandin, api: httpx.Client, tmp_path: Path
) -> None:
    """present creates, a rerun sends no write, another title renames, absent deletes (then has nothing to do)."""
    run = call_modules(
        grafana_standin,
        tmp_path,
        folders=[
            {"uid": "team-a", "title": "Team A"},
            {"uid": "team-a", "title": "Team A"},
            {"uid": "team-a", "title": "Team A, renamed"},
        ],
    )
    assert run.returncode == 0, run.stderr
    assert [r["status"] for r in run.folders] == ["created", "unchanged", "updated"]
    assert [r["changed"] for r in run.folders] == [True, False, True]
    assert run.folders[2]["version"] == 2
    assert run.folders[2]["url"] == f"{grafana_standin.url}/dashboards/f/team-a/team-a-renamed"
    assert writes(grafana_standin) == [("POST", "/api/folders"), ("PUT", "/api/folders/team-a")]
    assert api.get("/api/folders/team-a").json()["title"] == "Team A, renamed"

    mark = len(grafana_standin.requests())
    absent = {"uid": "team-a", "state": "absent"}
    run = call_modules(grafana_standin, tmp_path, folders=[absent, absent])
    assert [r["status"] for r in run.folders] == ["deleted", "unchanged"]
    assert writes(grafana_standin, mark) == [("DELETE", "/api/folders/team-a")]
    assert api.get("/api/folders/team-a").status_code == 404


def test_folder_rename_in_check_mode_shows_the_diff_and_writes_nothing(
    grafana_standin: GrafanaStandin, api: httpx.Client, tmp_path: Path
) -> None:
    """--check --diff reports the rename with the old and new title; Grafana keeps the old one."""
    api.post("/api/folders", json={"uid": "team-b", "title": "Team B"}).raise_for_status()
    mark = len(grafana_standin.requests())
    run = call_modules(
        grafana_standin, tmp_path, "--check", "--diff", folders=[{"uid": "team-b", "title": "Team B, renamed"}]
    )
    assert run.returncode == 0, run.stderr
    assert run.folders[0]["status"] == "updated"
    assert run.folders[0]["diff"] == {
        "before": {"uid": "team-b", "title": "Team B"},
        "after": {"uid": "team-b", "title": "Team B, renamed"},
    }
    assert writes(grafana_standin, mark) == []
    assert api.get("/api/folders/team-b").json()["title"] == "Team B"


def test_folder_holding_other_dashboards_is_kept_unless_forced(
    grafana_standin: GrafanaStandin, api: httpx.Client, tmp_path: Path
) -> None:
    """absent refuses a folder that is not empty, naming what it holds; force deletes it with its contents."""
    api.post("/api/folders", json={"uid": "team-c", "title": "Team C"}).raise_for_status()
    foreign = {"uid": "someone-elses", "title": "Someone else's dashboard"}
    api.post("/api/dashboards/db", json={"dashboard": foreign, "folderUid": "team-c"}).raise_for_status()
    mark = len(grafana_standin.requests())

    run = call_modules(grafana_standin, tmp_path, folders=[{"uid": "team-c", "state": "absent"}])
    assert run.returncode != 0
    assert run.folders[0]["failed"] is True
    assert "Someone else's dashboard (someone-elses)" in run.folders[0]["msg"]
    assert "force: true" in run.folders[0]["msg"]
    assert writes(grafana_standin, mark) == []

    run = call_modules(grafana_standin, tmp_path, folders=[{"uid": "team-c", "state": "absent", "force": True}])
    assert run.returncode == 0, run.stderr
    assert run.folders[0]["status"] == "deleted"
    assert api.get("/api/dashboards/uid/someone-elses").status_code == 404


def test_dashboard_given_as_a_dict_is_created_then_deleted_by_uid_alone(
    grafana_standin: GrafanaStandin, api: httpx.Client, tmp_path: Path
) -> None:
    """The dashboard option works like path; state absent needs nothing but the uid."""
    model = dashboard_file(tmp_path, load("dashboard_api.json"))
    run = call_modules(
        grafana_standin,
        tmp_path,
        dashboards=[{"dashboard_file": model, "commit_message": "first save"}, {"dashboard_file": model}],
    )
    assert run.returncode == 0, run.stderr
    assert [r["status"] for r in run.dashboards] == ["created", "unchanged"]
    created = run.dashboards[0]
    assert created["uid"] == "mlmon-test-api"
    assert created["version"] == 1
    assert created["folder_uid"] == ""
    assert created["url"] == f"{grafana_standin.url}/d/mlmon-test-api/mlmon-test-api"
    assert api.get("/api/dashboards/uid/mlmon-test-api").json()["meta"]["folderUid"] == ""

    run = call_modules(
        grafana_standin,
        tmp_path,
        dashboards=[
            {"dashboard": {"uid": "mlmon-test-api"}, "state": "absent"},
            {"dashboard": {"uid": "mlmon-test-api"}, "state": "absent"},
        ],
    )
    assert [r["status"] for r in run.dashboards] == ["deleted", "unchanged"]
    assert run.dashboards[0]["version"] == 1
    assert api.get("/api/dashboards/uid/mlmon-test-api").status_code == 404


def test_changes_and_diff_show_only_what_differs_and_check_mode_writes_nothing(
    grafana_standin: GrafanaStandin, api: httpx.Client, tmp_path: Path
) -> None:
    """An edited panel title is the one reported change; the diff is limited to the keys the file sets."""
    model = load("dashboard_api.json")
    first = dashboard_file(tmp_path, model)
    assert call_modules(grafana_standin, tmp_path, dashboards=[{"dashboard_file": first}]).returncode == 0
    model["panels"][1]["title"] = "Error ratio (5m)"
    edited = dashboard_file(tmp_path, model)
    mark = len(grafana_standin.requests())

    run = call_modules(grafana_standin, tmp_path, "--check", "--diff", dashboards=[{"dashboard_file": edited}])
    assert run.returncode == 0, run.stderr
    result = run.dashboards[0]
    assert result["status"] == "updated"
    assert result["changes"] == ["/panels/1/title"]
    assert result["version"] == 1
    diff = result["diff"]
    assert diff["after"].startswith("{\n  ") and diff["after_header"] == "dashboard mlmon-test-api (file)"
    before, after = json.loads(diff["before"])["dashboard"], json.loads(diff["after"])["dashboard"]
    assert before["panels"][1]["title"] == "Error ratio"
    assert after["panels"][1]["title"] == "Error ratio (5m)"
    assert "refId" in before["panels"][1]["targets"][0]
    assert "overrides" not in before["panels"][1]["fieldConfig"]["defaults"]
    assert "version" not in before and "id" not in before, "keys Grafana assigns are not part of the diff"
    assert writes(grafana_standin, mark) == []
    assert api.get("/api/dashboards/uid/mlmon-test-api").json()["dashboard"]["version"] == 1


def test_dashboard_is_moved_to_the_folder_it_should_be_in(
    grafana_standin: GrafanaStandin, api: httpx.Client, tmp_path: Path
) -> None:
    """A dashboard whose JSON is unchanged but which sits in another folder is updated: folderUid differs."""
    path = str(DATA / "dashboard_api.json")
    run = call_modules(
        grafana_standin,
        tmp_path,
        folders=[{"uid": "team-d", "title": "Team D"}],
        dashboards=[{"path": path}, {"path": path, "folder_uid": "team-d"}],
    )
    assert run.returncode == 0, run.stderr
    assert [r["status"] for r in run.dashboards] == ["created", "updated"]
    assert run.dashboards[1]["changes"] == ["folderUid"]
    assert run.dashboards[1]["version"] == 2
    assert api.get("/api/dashboards/uid/mlmon-test-api").json()["meta"]["folderUid"] == "team-d"


def test_save_into_a_missing_folder_says_to_create_it(grafana_standin: GrafanaStandin, tmp_path: Path) -> None:
    """Grafana's 400 "folder not found" comes back with its status and the module that creates folders."""
    run = call_modules(
        grafana_standin, tmp_path, dashboards=[{"path": str(DATA / "dashboard_api.json"), "folder_uid": "nowhere"}]
    )
    assert run.returncode != 0
    result = run.dashboards[0]
    assert result["http_status"] == 400
    assert result["grafana_message"] == "folder not found"
    assert "mlmon.monitoring.grafana_folder" in result["msg"]


def test_values_grafana_rewrites_on_save_are_named_in_a_warning(
    grafana_standin: GrafanaStandin, tmp_path: Path
) -> None:
    """Keys Grafana rewrites on every save make a dashboard non-idempotent; the module names them after saving."""
    path = str(DATA / "dashboard_rewritten.json")
    run = call_modules(grafana_standin, tmp_path, dashboards=[{"path": path}, {"path": path}])
    assert run.returncode == 0, run.stderr
    assert [r["status"] for r in run.dashboards] == ["created", "updated"]
    assert run.dashboards[1]["changes"] == ["/style", "/templating/list/0/index"]
    warning = "Grafana rewrote /style, /templating/list/0/index of dashboard mlmon-test-rewritten when saving it"
    assert [w for w in run.warnings if w.startswith(warning)], run.warnings


def test_datasource_variable_is_bound_and_panel_references_are_kept(
    grafana_standin: GrafanaStandin, api: httpx.Client, tmp_path: Path
) -> None:
    """datasource_uid sets the variable's current value; ${datasource} in the panels stays as written."""
    path = str(DATA / "dashboard_api.json")
    bound = {"path": path, "datasource_uid": "prometheus", "datasource_name": "Prometheus"}
    run = call_modules(grafana_standin, tmp_path, dashboards=[bound, bound])
    assert [r["status"] for r in run.dashboards] == ["created", "unchanged"]
    stored = api.get("/api/dashboards/uid/mlmon-test-api").json()["dashboard"]
    variable = stored["templating"]["list"][0]
    assert variable["current"] == {"text": "Prometheus", "value": "prometheus"}
    refs = [panel["datasource"] for panel in stored["panels"]]
    refs += [target["datasource"] for panel in stored["panels"] for target in panel["targets"]]
    assert refs and all(ref == {"type": "prometheus", "uid": "${datasource}"} for ref in refs)

    run = call_modules(
        grafana_standin, tmp_path, dashboards=[{"path": path, "datasource_uid": "other", "datasource_name": "Other"}]
    )
    assert run.dashboards[0]["status"] == "updated"
    assert run.dashboards[0]["changes"] == ["/templating/list/0/current/text", "/templating/list/0/current/value"]


@pytest.mark.parametrize(
    ("dashboard", "datasource_variable", "message"),
    [
        ({"uid": "no-variable", "title": "t"}, "datasource", "has no template variable named 'datasource'"),
        (
            {"uid": "wrong-type", "title": "t", "templating": {"list": [{"name": "ds", "type": "custom"}]}},
            "ds",
            "template variable 'ds' is of type 'custom', not 'datasource'",
        ),
        ({"title": "no uid"}, "datasource", 'has no fixed "uid"'),
        ({"uid": "has spaces", "title": "t"}, "datasource", "uid 'has spaces' is not a Grafana uid"),
    ],
    ids=["missing-variable", "variable-of-another-type", "no-uid", "bad-uid"],
)
def test_unusable_dashboard_fails_before_any_request(
    grafana_standin: GrafanaStandin,
    tmp_path: Path,
    dashboard: dict[str, Any],
    datasource_variable: str,
    message: str,
) -> None:
    """A dashboard the module cannot key or bind is refused without sending anything."""
    call = {"dashboard": dashboard, "datasource_uid": "prometheus", "datasource_variable": datasource_variable}
    run = call_modules(grafana_standin, tmp_path, dashboards=[call])
    assert run.returncode != 0
    assert message in run.dashboards[0]["msg"]
    assert grafana_standin.requests() == []


def test_malformed_file_fails_naming_the_file_and_the_position(
    grafana_standin: GrafanaStandin, tmp_path: Path
) -> None:
    """The JSON parser's message, line and column, with the file name, and no request sent."""
    broken = tmp_path / "broken.json"
    broken.write_text('{\n  "uid": "broken",\n  "title": "Broken",\n  "panels": [1,]\n}\n')
    run = call_modules(grafana_standin, tmp_path, dashboards=[{"path": str(broken)}])
    assert run.returncode != 0
    assert run.dashboards[0]["msg"] == (
        f"Dashboard file {broken} is not valid JSON: Expecting value at line 4 column 16"
    )
    assert grafana_standin.requests() == []


def test_viewer_token_is_denied_with_the_role_it_needs(
    grafana_standin: GrafanaStandin, api: httpx.Client, tmp_path: Path
) -> None:
    """A Viewer token reads but cannot create: the 403 comes with Grafana's message and the role needed."""
    token = service_account_token(api, "viewer", "Viewer")
    run = call_modules(grafana_standin, tmp_path, folders=[{"uid": "team-e", "title": "Team E"}], grafana_token=token)
    assert run.returncode != 0
    result = run.folders[0]
    assert result["http_status"] == 403
    assert "Permissions needed: folders:create" in result["grafana_message"]
    assert "needs the Editor or Admin role" in result["msg"]
    assert token not in json.dumps(run.folders) + run.stderr


def test_unknown_token_is_refused_as_a_token(grafana_standin: GrafanaStandin, tmp_path: Path) -> None:
    """A 401 for a token says the token is wrong, expired or revoked (not the password)."""
    token = "glsa_" + "x" * 32 + "_00000000"
    run = call_modules(grafana_standin, tmp_path, folders=[{"uid": "team-f", "title": "Team F"}], grafana_token=token)
    result = run.folders[0]
    assert result["http_status"] == 401
    assert "service account token: it is wrong, expired or revoked" in result["msg"]


def test_grafana_that_does_not_answer_is_named(grafana_standin: GrafanaStandin, tmp_path: Path) -> None:
    """Without an answer the result says so (http_status -1), naming the URL that was tried."""
    grafana_standin.process.terminate()
    grafana_standin.process.wait(timeout=10)
    run = call_modules(grafana_standin, tmp_path, folders=[{"uid": "team-g", "title": "Team G"}])
    result = run.folders[0]
    assert result["http_status"] == -1
    assert f"GET {grafana_standin.url}/api/folders/team-g got no answer from Grafana" in result["msg"]
    assert "Connection refused" in result["msg"]


class _SpecCaptured(Exception):
    """Raised in place of building the AnsibleModule, once its argument spec is known."""


def test_https_with_a_ca_file_and_a_client_certificate_reaches_grafana(
    grafana_standin: GrafanaStandin, tls: dict[str, str], tmp_path: Path
) -> None:
    """ca_path verifies the server, client_cert/client_key answer its request for a certificate."""
    grafana = dataclasses.replace(grafana_standin, url=tls["url"])
    run = call_modules(
        grafana,
        tmp_path,
        folders=[{"uid": "tls", "title": "Over TLS"}],
        grafana_password=grafana_standin.admin_password,
        grafana_ca_path=tls["ca"],
        grafana_client_cert=tls["cert"],
        grafana_client_key=tls["key"],
    )
    assert run.returncode == 0, run.stderr
    assert run.folders[0]["changed"] is True
    assert writes(grafana_standin) == [("POST", "/api/folders")]


@pytest.mark.parametrize(
    ("left_out", "named"),
    [("grafana_ca_path", "CERTIFICATE_VERIFY_FAILED"), ("grafana_client_cert", "got no answer from Grafana")],
)
def test_https_without_the_ca_or_the_client_certificate_fails_and_sends_nothing(
    grafana_standin: GrafanaStandin, tls: dict[str, str], tmp_path: Path, left_out: str, named: str
) -> None:
    """Without ca_path the server's certificate is refused; without a client certificate the server refuses."""
    grafana = dataclasses.replace(grafana_standin, url=tls["url"])
    options = {"grafana_ca_path": tls["ca"], "grafana_client_cert": tls["cert"], "grafana_client_key": tls["key"]}
    options.pop(left_out)
    if left_out == "grafana_client_cert":
        options.pop("grafana_client_key")
    run = call_modules(
        grafana,
        tmp_path,
        folders=[{"uid": "tls", "title": "Over TLS"}],
        grafana_password=grafana_standin.admin_password,
        **options,
    )
    assert run.returncode != 0
    assert named in run.folders[0]["msg"], run.folders[0]["msg"]
    assert grafana_standin.requests() == []


@pytest.mark.parametrize("name", ["grafana_folder", "grafana_dashboard"])
def test_documentation_matches_the_argument_spec(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Column: real (ansible-doc renders the module as users read it). Every documented option is in the module's
    argument spec with the same type, default and choices, and the credentials are no_log."""
    rendered = subprocess.run(
        [str(BIN / "ansible-doc"), "--json", f"mlmon.monitoring.{name}"],
        cwd=REPO,
        env=playbook_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    documented = json.loads(rendered.stdout)[f"mlmon.monitoring.{name}"]["doc"]["options"]

    monkeypatch.syspath_prepend(str(REPO / ".ansible" / "collections"))
    module = importlib.import_module(f"ansible_collections.mlmon.monitoring.plugins.modules.{name}")
    captured: dict[str, Any] = {}

    def capture(**kwargs: Any) -> None:
        captured.update(kwargs)
        raise _SpecCaptured

    monkeypatch.setattr(module, "AnsibleModule", capture)
    with pytest.raises(_SpecCaptured):
        module.main()
    spec = captured["argument_spec"]
    assert sorted(documented) == sorted(spec)
    for option, doc in documented.items():
        for key in ("type", "default", "choices"):
            assert doc.get(key) == spec[option].get(key), f"{name}: {option}.{key}"
        assert bool(doc.get("required")) == bool(spec[option].get("required")), f"{name}: {option}.required"
    assert spec["url_password"]["no_log"] and spec["token"]["no_log"]
    assert captured["supports_check_mode"] is True
