"""Column: real (stand-in process). ``/api/dashboards`` save, read and delete rules over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from testbed.grafana_standin.launcher import GrafanaStandin

VERSION_MISMATCH = {"message": "The dashboard has been changed by someone else",
                    "status": "version-mismatch"}


@pytest.fixture(scope="module")
def admin(shared_grafana_standin: GrafanaStandin) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=shared_grafana_standin.url,
                      auth=shared_grafana_standin.admin_auth) as client:
        client.post("/api/folders", json={"uid": "mlmon", "title": "ML Monitoring"})
        yield client


def _save(admin: httpx.Client, dashboard: dict[str, object], **body: object) -> httpx.Response:
    return admin.post("/api/dashboards/db", json={"dashboard": dashboard, **body})


def test_create_answers_success(admin: httpx.Client) -> None:
    answer = _save(admin, {"title": "ML Model API", "uid": "d-create"}, folderUid="mlmon",
                   message="first")
    assert answer.status_code == 200
    body = answer.json()
    assert answer.text.startswith('{"folderUid":"mlmon","id":')
    assert {key: body[key] for key in ("folderUid", "slug", "status", "uid", "url",
                                       "version")} == {
        "folderUid": "mlmon", "slug": "ml-model-api", "status": "success", "uid": "d-create",
        "url": "/d/d-create/ml-model-api", "version": 1}
    assert isinstance(body["id"], int)


def test_update_with_the_stored_version_bumps_it(admin: httpx.Client) -> None:
    _save(admin, {"title": "Versioned", "uid": "d-versioned"})
    second = _save(admin, {"title": "Versioned", "uid": "d-versioned", "version": 1})
    assert (second.status_code, second.json()["version"]) == (200, 2)
    unchanged = _save(admin, {"title": "Versioned", "uid": "d-versioned", "version": 2})
    assert unchanged.json()["version"] == 3, "every save is a new version, changed or not"
    assert admin.get("/api/dashboards/uid/d-versioned").json()["meta"]["version"] == 3


def test_existing_uid_without_version_is_412_version_mismatch(admin: httpx.Client) -> None:
    """A "new" dashboard (no id, no version) whose uid exists is not silently replaced."""
    _save(admin, {"title": "Taken", "uid": "d-taken"})
    again = _save(admin, {"title": "Taken again", "uid": "d-taken"})
    assert again.status_code == 412
    assert again.text == ('{"message":"The dashboard has been changed by someone else",'
                          '"status":"version-mismatch"}')
    assert admin.get("/api/dashboards/uid/d-taken").json()["dashboard"]["title"] == "Taken"


def test_stale_version_is_412(admin: httpx.Client) -> None:
    _save(admin, {"title": "Stale", "uid": "d-stale"})
    _save(admin, {"title": "Stale", "uid": "d-stale", "version": 1})
    stale = _save(admin, {"title": "Stale", "uid": "d-stale", "version": 1})
    assert (stale.status_code, stale.json()) == (412, VERSION_MISMATCH)


def test_overwrite_ignores_the_version(admin: httpx.Client) -> None:
    _save(admin, {"title": "Overwritten", "uid": "d-overwrite"})
    forced = _save(admin, {"title": "Overwritten", "uid": "d-overwrite", "version": 99},
                   overwrite=True)
    assert (forced.status_code, forced.json()["version"]) == (200, 2)


def test_same_title_in_same_folder_with_another_uid_is_allowed(admin: httpx.Client) -> None:
    """Titles are not unique since Grafana 11.3: there is no ``name-exists`` any more."""
    first = _save(admin, {"title": "Twin", "uid": "d-twin-1"}, folderUid="mlmon")
    second = _save(admin, {"title": "Twin", "uid": "d-twin-2"}, folderUid="mlmon")
    assert (first.status_code, second.status_code) == (200, 200)


def test_unknown_folder_is_400(admin: httpx.Client) -> None:
    answer = _save(admin, {"title": "Lost", "uid": "d-lost"}, folderUid="no-such-folder")
    assert answer.status_code == 400
    assert answer.json() == {"message": "folder not found"}
    assert admin.get("/api/dashboards/uid/d-lost").status_code == 404


def test_unknown_folder_id_is_400(admin: httpx.Client) -> None:
    answer = _save(admin, {"title": "Lost", "uid": "d-lost-id"}, folderId=98765)
    assert (answer.status_code, answer.json()) == (400, {"message": "folder not found"})


def test_saving_moves_the_dashboard_between_folders(admin: httpx.Client) -> None:
    _save(admin, {"title": "Mover", "uid": "d-mover"}, folderUid="mlmon")
    moved = _save(admin, {"title": "Mover", "uid": "d-mover", "version": 1})
    assert moved.json()["folderUid"] == ""
    meta = admin.get("/api/dashboards/uid/d-mover").json()["meta"]
    assert (meta["folderUid"], meta["folderTitle"], meta["folderId"]) == ("", "General", 0)


@pytest.mark.parametrize(("dashboard", "expected"), [
    ({"uid": "d-untitled"},
     {"message": "Dashboard title cannot be empty", "status": "empty-name"}),
    ({"title": "   ", "uid": "d-blank"},
     {"message": "Dashboard title cannot be empty", "status": "empty-name"}),
    ({"title": "x" * 5001},
     {"message": "Dashboard title cannot contain more than 5 000 characters",
      "status": "title-too-long"}),
    ({"title": "Bad uid", "uid": "has space"}, {"message": "uid contains illegal characters"}),
    ({"title": "Long uid", "uid": "u" * 41}, {"message": "uid too long, max 40 characters"}),
    ({"title": "Fast", "refresh": "1s"}, {"message": "Dashboard refresh interval is too low"}),
])
def test_invalid_dashboard_is_400(admin: httpx.Client, dashboard: dict[str, object],
                                  expected: dict[str, str]) -> None:
    answer = _save(admin, dashboard)
    assert (answer.status_code, answer.json()) == (400, expected)


def test_refresh_at_the_minimum_is_accepted(admin: httpx.Client) -> None:
    assert _save(admin, {"title": "Five", "uid": "d-five", "refresh": "5s"}).status_code == 200


def test_long_commit_message_is_400(admin: httpx.Client) -> None:
    answer = _save(admin, {"title": "Chatty", "uid": "d-chatty"}, message="m" * 501)
    assert (answer.status_code, answer.json()) == (
        400, {"message": "message too long, max 500 characters"})


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b'{"dashboard": {"title": "x"}'])
def test_body_that_is_not_a_json_object_is_400(admin: httpx.Client, raw: bytes) -> None:
    answer = admin.post("/api/dashboards/db", content=raw,
                        headers={"Content-Type": "application/json"})
    assert (answer.status_code, answer.text) == (400, '{"message":"bad request data"}')


@pytest.mark.parametrize("body", [
    {"folderUid": "mlmon"},
    {"dashboard": None},
    {"dashboard": {"title": "x"}, "overwrite": "yes"},
    {"dashboard": {"title": "x"}, "folderId": 1.5},
    {"dashboard": {"title": "x"}, "folderUid": 7},
])
def test_missing_dashboard_or_wrong_field_type_is_bad_request_data(
        admin: httpx.Client, body: dict[str, object]) -> None:
    answer = admin.post("/api/dashboards/db", json=body)
    assert (answer.status_code, answer.json()) == (400, {"message": "bad request data"})


def test_is_folder_is_refused(admin: httpx.Client) -> None:
    answer = _save(admin, {"title": "Folderish"}, isFolder=True)
    assert (answer.status_code, answer.json()) == (
        400, {"message": "Use folders endpoint for saving folders."})


def test_unknown_id_is_404(admin: httpx.Client) -> None:
    answer = _save(admin, {"title": "Ghost", "id": 424242})
    assert (answer.status_code, answer.json()) == (
        404, {"message": "Dashboard not found", "status": "not-found"})


def test_id_and_uid_of_different_dashboards_is_400(admin: httpx.Client) -> None:
    first = _save(admin, {"title": "One", "uid": "d-one"}).json()
    _save(admin, {"title": "Two", "uid": "d-two"})
    clash = _save(admin, {"title": "Clash", "uid": "d-two", "id": first["id"], "version": 1})
    assert (clash.status_code, clash.json()) == (
        400, {"message": "A dashboard with the same uid already exists"})


def test_update_by_id_keeps_the_uid(admin: httpx.Client) -> None:
    created = _save(admin, {"title": "By id", "uid": "d-by-id"}).json()
    updated = _save(admin, {"title": "By id", "id": created["id"], "version": 1})
    assert (updated.status_code, updated.json()["uid"]) == (200, "d-by-id")


def test_create_without_uid_generates_one(admin: httpx.Client) -> None:
    body = _save(admin, {"title": "Anonymous"}).json()
    assert len(body["uid"]) == 14
    assert admin.get(f"/api/dashboards/uid/{body['uid']}").status_code == 200


def test_get_answers_meta(admin: httpx.Client) -> None:
    _save(admin, {"title": "Meta", "uid": "d-meta"}, folderUid="mlmon")
    answer = admin.get("/api/dashboards/uid/d-meta")
    assert answer.status_code == 200
    assert answer.text.startswith('{"meta":{"type":"db","canSave":true')
    meta = answer.json()["meta"]
    assert {key: meta[key] for key in (
        "folderUid", "folderTitle", "folderUrl", "version", "createdBy", "updatedBy", "slug",
        "url", "provisioned", "canSave", "isFolder")} == {
        "folderUid": "mlmon", "folderTitle": "ML Monitoring",
        "folderUrl": "/dashboards/f/mlmon/ml-monitoring", "version": 1, "createdBy": "admin",
        "updatedBy": "admin", "slug": "meta", "url": "/d/d-meta/meta", "provisioned": False,
        "canSave": True, "isFolder": False}
    assert meta["created"].endswith("Z") and meta["updated"].endswith("Z")


def test_missing_dashboard_is_404(admin: httpx.Client) -> None:
    answer = admin.get("/api/dashboards/uid/d-nowhere")
    assert (answer.status_code, answer.text) == (404, '{"message":"Dashboard not found"}')


def test_delete_answers_title_and_uid(admin: httpx.Client) -> None:
    _save(admin, {"title": "Doomed", "uid": "d-doomed"})
    answer = admin.delete("/api/dashboards/uid/d-doomed")
    assert answer.status_code == 200
    assert answer.text == ('{"message":"Dashboard Doomed deleted","title":"Doomed",'
                           '"uid":"d-doomed"}')
    assert admin.get("/api/dashboards/uid/d-doomed").status_code == 404
    assert admin.delete("/api/dashboards/uid/d-doomed").status_code == 404


def test_versions_keep_the_commit_messages(admin: httpx.Client) -> None:
    _save(admin, {"title": "History", "uid": "d-history"}, message="created by the role")
    _save(admin, {"title": "History", "uid": "d-history", "version": 1},
          message="ansible: panels changed")
    answer = admin.get("/api/dashboards/uid/d-history/versions")
    assert answer.status_code == 200
    versions = answer.json()["versions"]
    assert [(v["version"], v["message"]) for v in versions] == [
        (2, "ansible: panels changed"), (1, "Initial save")]
