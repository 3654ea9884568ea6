"""The grafana_dashboards role, run by the real ansible-playbook against the Grafana stand-in.

Column: real (the Grafana stand-in, testbed/grafana_standin, runs as a real process; the role, the
collection's modules and ansible-playbook run for real). Each test gets a fresh Grafana and tells what the
role sent from the server's request log, and what it reported from the PLAY RECAP and the task output.
"""

from __future__ import annotations

import base64
import json
import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.ansible.test_grafana_modules import service_account_token
from tests.playbook_runner import PlaybookRun, run_playbook
from tests.testbed.fixtures import GrafanaStandin, running_grafana

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
PLAYBOOK = HERE / "playbooks" / "grafana_role.yml"
FOLDER_UID = "mlmon-tests"
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
CONCURRENT_EDIT = "Edited in the Grafana UI while the role ran."
NAME_EXISTS = "A dashboard with the same name in the folder already exists"

# A hook the proxy calls with each dashboard save it passes on: None forwards the save, a (status, body) pair is
# answered instead.
SaveHook = Callable[[dict[str, Any]], "tuple[int, dict[str, Any]] | None"]


@pytest.fixture
def dashboards(tmp_path: Path) -> list[Path]:
    """Copies of two test dashboards (one exported, one hand-written) that a test may edit."""
    target = tmp_path / "dashboards"
    target.mkdir()
    return [
        Path(shutil.copy(DATA / name, target / name)) for name in ("dashboard_api.json", "dashboard_handwritten.json")
    ]


@pytest.fixture
def api(grafana_standin: GrafanaStandin) -> Iterator[httpx.Client]:
    """The Grafana stand-in's API as its admin, to set up and read back what the role did."""
    with httpx.Client(base_url=grafana_standin.url, auth=grafana_standin.admin_auth, timeout=10) as client:
        yield client


def settings(url: str, password: str, files: list[Path], **overrides: object) -> dict[str, object]:
    """The role's variables for one run: the Grafana, its admin password, the files, short health retries."""
    return {
        "grafana_dashboards_url": url,
        "grafana_dashboards_password": password,
        "grafana_dashboards_files": [str(path) for path in files],
        "grafana_dashboards_folder_uid": FOLDER_UID,
        "grafana_dashboards_folder_title": "mlmon tests",
        "grafana_dashboards_health_retries": 3,
        "grafana_dashboards_health_delay": 1,
        **overrides,
    }


def as_admin(grafana: GrafanaStandin, files: list[Path], **overrides: object) -> dict[str, object]:
    """The role's variables for ``grafana`` with its admin password."""
    return settings(grafana.url, grafana.admin_password, files, **overrides)


def run_role(tmp_path: Path, variables: dict[str, object], *args: str) -> PlaybookRun:
    """ansible-playbook on the role, its variables in a file (`-e @file`) as a user would keep secrets."""
    vars_file = tmp_path / f"role-vars-{len(list(tmp_path.glob('role-vars-*')))}.json"
    vars_file.write_text(json.dumps(variables))
    return run_playbook(PLAYBOOK, "-e", f"@{vars_file}", *args)


def requests_since(grafana: GrafanaStandin, mark: int) -> list[dict[str, Any]]:
    return grafana.requests()[mark:]


def writes(requests: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(str(r["method"]), str(r["path"])) for r in requests if r["method"] in WRITE_METHODS]


def edit(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    model = json.loads(path.read_text())
    change(model)
    path.write_text(json.dumps(model, indent=2))


def rename_first_panel(model: dict[str, Any]) -> None:
    model["panels"][0]["title"] = "Requests per second"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SaveProxy:
    """An HTTP proxy in front of the Grafana stand-in that shows each dashboard save to a hook first.

    It forwards every request unchanged (credentials included), except that a ``POST /api/dashboards/db`` is
    handed to the hook, which may act on Grafana itself before the save goes on, or answer in Grafana's place.
    """

    def __init__(self, upstream: str, hook: SaveHook) -> None:
        self._client = httpx.Client(base_url=upstream, timeout=10)
        self._hook = hook
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _relay(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, headers, content = proxy.relay(self.command, self.path, dict(self.headers), body)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_PUT = do_DELETE = _relay

            def log_message(self, format: str, *args: object) -> None:
                """Keep the test output quiet."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def relay(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        if method == "POST" and path == "/api/dashboards/db":
            answer = self._hook(json.loads(body))
            if answer is not None:
                return answer[0], {"Content-Type": "application/json"}, json.dumps(answer[1]).encode()
        passed = {k: v for k, v in headers.items() if k.lower() in ("authorization", "content-type", "accept")}
        response = self._client.request(method, path, content=body, headers=passed)
        return response.status_code, {"Content-Type": response.headers["Content-Type"]}, response.content

    @contextmanager
    def running(self) -> Iterator[SaveProxy]:
        thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
            thread.join()
            self._client.close()


def edit_in_between(api: httpx.Client) -> SaveHook:
    """Someone saves the dashboard in Grafana after the role read it and before the role's save arrives."""

    def hook(save: dict[str, Any]) -> None:
        live = api.get(f"/api/dashboards/uid/{save['dashboard']['uid']}")
        if live.status_code == 200:
            model = {**live.json()["dashboard"], "description": CONCURRENT_EDIT}
            api.post("/api/dashboards/db", json={"dashboard": model, "folderUid": FOLDER_UID}).raise_for_status()

    return hook


def unique_titles(api: httpx.Client) -> SaveHook:
    """Grafana before 11.3: a title another dashboard in the folder has is refused unless overwrite is set."""

    def hook(save: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
        dashboard = save["dashboard"]
        hits = api.get("/api/search", params={"type": "dash-db", "folderUIDs": save.get("folderUid") or "general"})
        taken = any(h["title"] == dashboard["title"] and h["uid"] != dashboard["uid"] for h in hits.json())
        if taken and not save.get("overwrite"):
            return 412, {
                "message": "A dashboard with the same name in the folder already exists",
                "status": "name-exists",
            }
        return None

    return hook


def test_first_run_creates_and_a_rerun_sends_only_reads(
    grafana_standin: GrafanaStandin, api: httpx.Client, dashboards: list[Path], tmp_path: Path
) -> None:
    """Folder and dashboards are created and bound to the datasource; the second run changes nothing."""
    variables = as_admin(grafana_standin, dashboards)
    first = run_role(tmp_path, variables)
    assert first.returncode == 0, first.tail()
    assert first.changed == 2, first.tail()
    assert "mlmon-test-api: created, version 1" in first.output
    assert "mlmon-test-handwritten: created, version 1" in first.output

    assert api.get(f"/api/folders/{FOLDER_UID}").json()["title"] == "mlmon tests"
    for uid in ("mlmon-test-api", "mlmon-test-handwritten"):
        stored = api.get(f"/api/dashboards/uid/{uid}").json()
        assert stored["meta"]["folderUid"] == FOLDER_UID
        variable = stored["dashboard"]["templating"]["list"][0]
        assert variable["current"] == {"text": "Prometheus", "value": "prometheus"}
        assert all(
            p["datasource"] == {"type": "prometheus", "uid": "${datasource}"} for p in stored["dashboard"]["panels"]
        )

    mark = len(grafana_standin.requests())
    second = run_role(tmp_path, variables)
    assert second.returncode == 0, second.tail()
    assert second.changed == 0, second.tail()
    assert "mlmon-test-api: unchanged, version 1" in second.output
    sent = requests_since(grafana_standin, mark)
    assert sent and {r["method"] for r in sent} == {"GET"}, writes(sent)


def test_grafana_over_https_with_a_client_certificate(
    grafana_standin: GrafanaStandin, tls: dict[str, str], dashboards: list[Path], tmp_path: Path
) -> None:
    """The role's ca_path and client certificate reach every call: health, datasource, folder, dashboards."""
    url = tls["url"]
    variables = {
        **as_admin(grafana_standin, dashboards),
        "grafana_dashboards_url": url,
        "grafana_dashboards_ca_path": tls["ca"],
        "grafana_dashboards_client_cert": tls["cert"],
        "grafana_dashboards_client_key": tls["key"],
    }
    run = run_role(tmp_path, variables)
    assert run.returncode == 0, run.tail()
    assert run.changed == 2, run.tail()
    refused = run_role(tmp_path, {**variables, "grafana_dashboards_client_cert": None,
                                  "grafana_dashboards_client_key": None,
                                  "grafana_dashboards_health_retries": 1, "grafana_dashboards_health_delay": 1})
    assert refused.returncode != 0
    assert url in refused.output


def test_project_playbooks_load_the_real_dashboard_idempotently_and_tear_it_down(
    grafana_standin: GrafanaStandin, api: httpx.Client
) -> None:
    """playbooks/dashboards.yml with inventory/local and files/dashboards/, then with state absent.

    (playbooks/teardown.yml first looks for the chart's Grafana Service in a cluster; without one here,
    the same play's role is run with grafana_dashboards_state=absent.)
    """
    env = {"MLMON_GRAFANA_ADMIN_PASSWORD": grafana_standin.admin_password, "MLMON_GRAFANA_TOKEN": ""}
    extra = {"mlmon_grafana_url": grafana_standin.url}

    def play(playbook: str, **more: str) -> PlaybookRun:
        return run_playbook(
            playbook,
            "--tags",
            "grafana_dashboards",
            inventory="inventory/local",
            extra_vars={**extra, **more},
            env=env,
        )

    first = play("playbooks/dashboards.yml")
    assert first.returncode == 0, first.tail()
    assert first.changed == 2, first.tail()
    stored = api.get("/api/dashboards/uid/mlmon-ml-model-api").json()
    assert stored["meta"]["folderUid"] == "mlmon"
    variable = next(v for v in stored["dashboard"]["templating"]["list"] if v["name"] == "datasource")
    assert variable["current"] == {"text": "Prometheus", "value": "prometheus"}

    mark = len(grafana_standin.requests())
    second = play("playbooks/dashboards.yml")
    assert second.returncode == 0, second.tail()
    assert second.changed == 0, second.tail()
    assert writes(requests_since(grafana_standin, mark)) == []

    removed = play("playbooks/dashboards.yml", grafana_dashboards_state="absent")
    assert removed.returncode == 0, removed.tail()
    assert removed.changed == 2, removed.tail()
    assert api.get("/api/dashboards/uid/mlmon-ml-model-api").status_code == 404
    assert api.get("/api/folders/mlmon").status_code == 404


def test_edited_dashboard_is_saved_as_the_next_version(
    grafana_standin: GrafanaStandin, api: httpx.Client, dashboards: list[Path], tmp_path: Path
) -> None:
    """Only the edited dashboard is posted, with the commit message; Grafana's version goes from 1 to 2."""
    variables = as_admin(
        grafana_standin,
        dashboards,
        grafana_dashboards_commit_message="Retitled",
    )
    assert run_role(tmp_path, variables).returncode == 0
    edit(dashboards[0], rename_first_panel)
    mark = len(grafana_standin.requests())

    run = run_role(tmp_path, variables)
    assert run.returncode == 0, run.tail()
    assert run.changed == 1, run.tail()
    assert "mlmon-test-api: updated, version 2" in run.output
    assert "(changed: /panels/0/title)" in run.output
    assert "mlmon-test-handwritten: unchanged, version 1" in run.output
    assert writes(requests_since(grafana_standin, mark)) == [("POST", "/api/dashboards/db")]
    stored = api.get("/api/dashboards/uid/mlmon-test-api").json()["dashboard"]
    assert stored["version"] == 2
    assert stored["panels"][0]["title"] == "Requests per second"
    history = api.get("/api/dashboards/uid/mlmon-test-api/versions").json()["versions"]
    assert [(v["version"], v["message"]) for v in history] == [(2, "Retitled"), (1, "Initial save")]


def test_check_mode_reports_what_would_change_and_writes_nothing(
    grafana_standin: GrafanaStandin, api: httpx.Client, dashboards: list[Path], tmp_path: Path
) -> None:
    """--check --diff on an empty Grafana and on an edited file: changes reported and shown, no write sent."""
    variables = as_admin(grafana_standin, dashboards)
    empty = run_role(tmp_path, variables, "--check")
    assert empty.returncode == 0, empty.tail()
    assert empty.changed == 2, empty.tail()
    assert "mlmon-test-api: created" in empty.output
    assert writes(grafana_standin.requests()) == []

    assert run_role(tmp_path, variables).returncode == 0
    edit(dashboards[0], rename_first_panel)
    mark = len(grafana_standin.requests())
    run = run_role(tmp_path, variables, "--check", "--diff")
    assert run.returncode == 0, run.tail()
    assert run.changed == 1, run.tail()
    diff = [line.replace(" ", "") for line in run.output.splitlines() if line.startswith(("-", "+"))]
    assert diff == [
        "---before:dashboardmlmon-test-api(Grafana)",
        "+++after:dashboardmlmon-test-api(file)",
        '-"title":"Requestrate",',
        '+"title":"Requestspersecond",',
    ], run.tail(100)
    assert writes(requests_since(grafana_standin, mark)) == []
    stored = api.get("/api/dashboards/uid/mlmon-test-api").json()["dashboard"]
    assert (stored["version"], stored["panels"][0]["title"]) == (1, "Request rate")


def test_compare_only_reports_what_would_be_saved_without_a_change_or_a_write(
    grafana_standin: GrafanaStandin, dashboards: list[Path], tmp_path: Path
) -> None:
    """grafana_dashboards_compare_only (how verify runs the role): status says updated, changed=0, no write. Real."""
    variables = as_admin(grafana_standin, dashboards)
    assert run_role(tmp_path, variables).returncode == 0
    edit(dashboards[0], rename_first_panel)
    mark = len(grafana_standin.requests())
    run = run_role(tmp_path, {**variables, "grafana_dashboards_compare_only": True})
    assert run.returncode == 0, run.tail()
    assert run.changed == 0, run.tail()
    assert "mlmon-test-api: updated" in run.output
    assert writes(requests_since(grafana_standin, mark)) == []


def test_wrong_password_fails_naming_where_the_password_comes_from(
    grafana_standin: GrafanaStandin, dashboards: list[Path], tmp_path: Path
) -> None:
    """One refused login, then a failure that names the variables and the environment variable to fix."""
    wrong = "not-the-admin-password-7c1d"
    run = run_role(tmp_path, settings(grafana_standin.url, wrong, dashboards))
    assert run.returncode != 0
    assert "refused the credentials (HTTP 401: Invalid username or password)" in run.output
    for named in ("grafana_dashboards_password", "mlmon_grafana_admin_password", "MLMON_GRAFANA_ADMIN_PASSWORD"):
        assert named in run.output
    assert wrong not in run.output
    sent = grafana_standin.requests()
    assert [r["status"] for r in sent if r["path"] != "/api/health"] == [401]
    assert writes(sent) == []


def test_missing_credentials_fail_before_any_request(
    grafana_standin: GrafanaStandin, dashboards: list[Path], tmp_path: Path
) -> None:
    """No password and no token: preflight names both and the inventory's sources; Grafana is never called."""
    run = run_role(tmp_path, settings(grafana_standin.url, "", dashboards))
    assert run.returncode != 0
    for named in ("grafana_dashboards_password", "grafana_dashboards_token", "MLMON_GRAFANA_ADMIN_PASSWORD"):
        assert named in run.output
    assert grafana_standin.requests() == []


def test_nothing_listening_fails_after_the_retries_naming_the_url(dashboards: list[Path], tmp_path: Path) -> None:
    """A port nobody listens on: the configured retries, then the URL and the connection error."""
    url = f"http://127.0.0.1:{free_port()}"
    run = run_role(tmp_path, settings(url, "irrelevant", dashboards, grafana_dashboards_health_delay=0))
    assert run.returncode != 0
    assert f"Grafana at {url}/api/health did not report a healthy database after 3 retries" in run.output
    assert "Connection refused" in run.output
    assert run.output.count("FAILED - RETRYING: [localhost]: Wait for Grafana") == 3


def test_unhealthy_grafana_is_asked_a_bounded_number_of_times(dashboards: list[Path], tmp_path: Path) -> None:
    """A Grafana whose database stays down gets 1 + retries health checks and no other request."""
    with running_grafana(tmp_path / "grafana", ["--unhealthy-for", "3600"]) as grafana:
        run = run_role(
            tmp_path, settings(grafana.url, grafana.admin_password, dashboards, grafana_dashboards_health_delay=0)
        )
        sent = grafana.requests()
    assert run.returncode != 0
    assert f"Grafana at {grafana.url}/api/health did not report a healthy database" in run.output
    assert "Last answer: HTTP 503, database: failing" in run.output
    assert [(r["path"], r["status"]) for r in sent] == [("/api/health", 503)] * 4


def test_role_waits_for_grafana_to_become_healthy(dashboards: list[Path], tmp_path: Path) -> None:
    """A Grafana still starting up: the role keeps asking and calls the API only once the database is ok."""
    with running_grafana(tmp_path / "grafana", ["--unhealthy-for", "3"]) as grafana:
        variables = settings(grafana.url, grafana.admin_password, dashboards, grafana_dashboards_health_retries=30)
        run = run_role(tmp_path, variables)
        sent = grafana.requests()
    assert run.returncode == 0, run.tail()
    assert run.changed == 2, run.tail()
    health = [index for index, r in enumerate(sent) if r["path"] == "/api/health"]
    assert sent[health[-1]]["status"] == 200
    assert all(r["status"] == 503 for r in sent[health[0] : health[-1]] if r["path"] == "/api/health")
    assert all(index > health[-1] for index, r in enumerate(sent) if r["path"] != "/api/health")


def test_malformed_json_fails_naming_the_file_before_any_request(
    grafana_standin: GrafanaStandin, dashboards: list[Path], tmp_path: Path
) -> None:
    """Preflight parses every file; the file and the parser's line and column are in the failure."""
    broken = dashboards[1]
    text = broken.read_text()
    broken.write_text(text.replace('"tags": [],', '"tags": [,],'))
    with pytest.raises(json.JSONDecodeError) as parsed:
        json.loads(broken.read_text())
    run = run_role(tmp_path, as_admin(grafana_standin, dashboards))
    assert run.returncode != 0
    assert f"(item={broken})" in run.output
    assert f"{parsed.value.msg}: line {parsed.value.lineno} column {parsed.value.colno}" in run.output
    assert grafana_standin.requests() == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda model: model.pop("uid"), 'has no fixed "uid"'),
        (lambda model: model.update(uid="with spaces"), 'has no fixed "uid"'),
    ],
    ids=["no-uid", "invalid-uid"],
)
def test_dashboard_without_a_usable_uid_is_refused_before_any_request(
    grafana_standin: GrafanaStandin,
    dashboards: list[Path],
    tmp_path: Path,
    change: Callable[[dict[str, Any]], None],
    message: str,
) -> None:
    """Grafana would generate a uid the role could never find again, so preflight refuses the file."""
    edit(dashboards[0], change)
    run = run_role(tmp_path, as_admin(grafana_standin, dashboards))
    assert run.returncode != 0
    assert f"Dashboard file {dashboards[0]} {message}" in run.output
    assert grafana_standin.requests() == []


def test_missing_file_and_shared_uid_are_refused_before_any_request(
    grafana_standin: GrafanaStandin, dashboards: list[Path], tmp_path: Path
) -> None:
    """A listed file that does not exist, or two files with one uid, stop the role in preflight."""
    missing = dashboards[0].parent / "missing.json"
    run = run_role(tmp_path, as_admin(grafana_standin, [*dashboards, missing]))
    assert run.returncode != 0
    assert f"Dashboard file {missing} (in grafana_dashboards_files) does not exist" in run.output

    edit(dashboards[1], lambda model: model.update(uid="mlmon-test-api"))
    run = run_role(tmp_path, as_admin(grafana_standin, dashboards))
    assert run.returncode != 0
    assert "share a dashboard uid" in run.output
    assert grafana_standin.requests() == []


def test_unknown_datasource_name_fails_naming_the_variable(
    grafana_standin: GrafanaStandin, dashboards: list[Path], tmp_path: Path
) -> None:
    """The datasource is looked up by name before anything is written."""
    variables = as_admin(grafana_standin, dashboards, grafana_dashboards_datasource_name="Thanos")
    run = run_role(tmp_path, variables)
    assert run.returncode != 0
    assert 'has no datasource named "Thanos" (grafana_dashboards_datasource_name)' in run.output
    assert writes(grafana_standin.requests()) == []


def test_save_that_races_another_edit_is_refused_and_overwrite_saves_over_it(
    grafana_standin: GrafanaStandin, api: httpx.Client, dashboards: list[Path], tmp_path: Path
) -> None:
    """412 version-mismatch comes back with Grafana's message and the advice; overwrite: true wins the race."""
    assert run_role(tmp_path, as_admin(grafana_standin, dashboards)).returncode == 0
    edit(dashboards[0], rename_first_panel)

    with SaveProxy(grafana_standin.url, edit_in_between(api)).running() as proxy:
        refused = run_role(tmp_path, settings(proxy.url, grafana_standin.admin_password, dashboards))
        assert refused.returncode != 0
        assert (
            "Grafana answered 412 (version-mismatch): The dashboard has been changed by someone else" in refused.output
        )
        assert "grafana_dashboards_overwrite: true" in refused.output
        stored = api.get("/api/dashboards/uid/mlmon-test-api").json()["dashboard"]
        assert (stored["version"], stored["description"]) == (2, CONCURRENT_EDIT)

        forced = run_role(
            tmp_path,
            settings(proxy.url, grafana_standin.admin_password, dashboards, grafana_dashboards_overwrite=True),
        )
    assert forced.returncode == 0, forced.tail()
    assert "mlmon-test-api: updated, version 4" in forced.output
    stored = api.get("/api/dashboards/uid/mlmon-test-api").json()["dashboard"]
    assert stored["panels"][0]["title"] == "Requests per second"
    assert stored["description"] == json.loads(dashboards[0].read_text())["description"]


def test_title_taken_in_an_older_grafana_is_reported_with_what_to_do(
    grafana_standin: GrafanaStandin, api: httpx.Client, dashboards: list[Path], tmp_path: Path
) -> None:
    """412 name-exists (Grafana before 11.3, added by the proxy) names the conflict; removing it lets the role in."""
    api.post("/api/folders", json={"uid": FOLDER_UID, "title": "mlmon tests"}).raise_for_status()
    title = json.loads(dashboards[0].read_text())["title"]
    squatter = {"uid": "same-title-other-uid", "title": title}
    api.post("/api/dashboards/db", json={"dashboard": squatter, "folderUid": FOLDER_UID}).raise_for_status()

    with SaveProxy(grafana_standin.url, unique_titles(api)).running() as proxy:
        variables = settings(proxy.url, grafana_standin.admin_password, dashboards)
        refused = run_role(tmp_path, variables)
        assert refused.returncode != 0
        assert f"Grafana answered 412 (name-exists): {NAME_EXISTS}" in refused.output
        assert "Rename or delete that dashboard in Grafana" in refused.output

        api.delete("/api/dashboards/uid/same-title-other-uid").raise_for_status()
        resolved = run_role(tmp_path, variables)
    assert resolved.returncode == 0, resolved.tail()
    assert "mlmon-test-api: created, version 1" in resolved.output


def test_state_absent_deletes_the_dashboards_and_the_folder(
    grafana_standin: GrafanaStandin, api: httpx.Client, dashboards: list[Path], tmp_path: Path
) -> None:
    """absent removes what the role created; a second absent run has nothing to do and writes nothing."""
    assert run_role(tmp_path, as_admin(grafana_standin, dashboards)).returncode == 0
    absent = as_admin(grafana_standin, dashboards, grafana_dashboards_state="absent")
    mark = len(grafana_standin.requests())
    run = run_role(tmp_path, absent)
    assert run.returncode == 0, run.tail()
    assert run.changed == 2, run.tail()
    assert sorted(writes(requests_since(grafana_standin, mark))) == [
        ("DELETE", "/api/dashboards/uid/mlmon-test-api"),
        ("DELETE", "/api/dashboards/uid/mlmon-test-handwritten"),
        ("DELETE", f"/api/folders/{FOLDER_UID}"),
    ]
    assert api.get(f"/api/folders/{FOLDER_UID}").status_code == 404

    mark = len(grafana_standin.requests())
    again = run_role(tmp_path, absent)
    assert again.returncode == 0, again.tail()
    assert again.changed == 0, again.tail()
    assert writes(requests_since(grafana_standin, mark)) == []


def test_state_absent_keeps_a_folder_that_holds_other_dashboards(
    grafana_standin: GrafanaStandin, api: httpx.Client, dashboards: list[Path], tmp_path: Path
) -> None:
    """The role deletes its own dashboards, then refuses to delete a dashboard it did not load with the folder."""
    assert run_role(tmp_path, as_admin(grafana_standin, dashboards)).returncode == 0
    theirs = {"uid": "theirs", "title": "Their dashboard"}
    api.post("/api/dashboards/db", json={"dashboard": theirs, "folderUid": FOLDER_UID}).raise_for_status()
    absent = as_admin(grafana_standin, dashboards, grafana_dashboards_state="absent")
    run = run_role(tmp_path, absent)
    assert run.returncode != 0
    assert "still holds 1 dashboard(s) or folder(s): Their dashboard (theirs)" in run.output
    assert api.get("/api/dashboards/uid/mlmon-test-api").status_code == 404
    assert api.get("/api/dashboards/uid/theirs").status_code == 200


def test_service_account_token_is_used_instead_of_the_password(
    grafana_standin: GrafanaStandin, api: httpx.Client, dashboards: list[Path], tmp_path: Path
) -> None:
    """With grafana_dashboards_token every API request is made as the service account; a Viewer's is refused."""
    editor = service_account_token(api, "mlmon-loader", "Editor")
    mark = len(grafana_standin.requests())
    run = run_role(tmp_path, settings(grafana_standin.url, "", dashboards, grafana_dashboards_token=editor))
    assert run.returncode == 0, run.tail()
    assert run.changed == 2, run.tail()
    users = {r["user"] for r in requests_since(grafana_standin, mark) if r["path"] != "/api/health"}
    assert users == {"sa-1-mlmon-loader"}

    viewer = service_account_token(api, "mlmon-viewer", "Viewer")
    edit(dashboards[0], rename_first_panel)
    denied = run_role(tmp_path, settings(grafana_standin.url, "", dashboards, grafana_dashboards_token=viewer))
    assert denied.returncode != 0
    assert "Grafana answered 403" in denied.output
    assert "it needs the Editor or Admin role" in denied.output


def test_verbose_runs_never_show_the_credentials(
    grafana_standin: GrafanaStandin, api: httpx.Client, dashboards: list[Path], tmp_path: Path
) -> None:
    """-vvv output of a creating run, a failing run and a token run holds no password, token or auth header."""
    password = grafana_standin.admin_password
    token = service_account_token(api, "mlmon-verbose", "Editor")
    runs = [
        run_role(tmp_path, settings(grafana_standin.url, password, dashboards), "-vvv"),
        run_role(tmp_path, settings(grafana_standin.url, "wrong-password-3f9a", dashboards), "-vvv"),
        run_role(tmp_path, settings(grafana_standin.url, "", dashboards, grafana_dashboards_token=token), "-vvv"),
    ]
    assert [run.returncode == 0 for run in runs] == [True, False, True]
    secrets = [
        password,
        "wrong-password-3f9a",
        token,
        base64.b64encode(f"admin:{password}".encode()).decode(),
        base64.b64encode(b"admin:wrong-password-3f9a").decode(),
    ]
    for run in runs:
        assert "Look up the Prometheus datasource by name" in run.output
        for secret in secrets:
            assert secret not in run.output
