"""Column: real (stand-in process). The folder API's rules over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from testbed.grafana_standin.launcher import GrafanaStandin

VERSION_MISMATCH = {"message": "the folder has been changed by someone else",
                    "status": "version-mismatch"}


@pytest.fixture(scope="module")
def admin(shared_grafana_standin: GrafanaStandin) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=shared_grafana_standin.url,
                      auth=shared_grafana_standin.admin_auth) as client:
        yield client


def _create(admin: httpx.Client, **body: object) -> httpx.Response:
    return admin.post("/api/folders", json=body)


def test_create_answers_the_folder(admin: httpx.Client) -> None:
    answer = _create(admin, uid="f-create", title="Model Monitoring")
    assert answer.status_code == 200
    body = answer.json()
    assert list(body) == ["id", "uid", "orgId", "title", "url", "hasAcl", "canSave", "canEdit",
                          "canAdmin", "canDelete", "createdBy", "created", "updatedBy",
                          "updated", "version"]
    assert (body["uid"], body["title"], body["url"], body["version"], body["createdBy"]) == \
        ("f-create", "Model Monitoring", "/dashboards/f/f-create/model-monitoring", 1, "admin")


def test_get_folder(admin: httpx.Client) -> None:
    _create(admin, uid="f-get", title="Get Me")
    answer = admin.get("/api/folders/f-get")
    assert answer.status_code == 200
    assert answer.json()["title"] == "Get Me"


def test_missing_folder_is_404(admin: httpx.Client) -> None:
    answer = admin.get("/api/folders/f-missing")
    assert answer.status_code == 404
    assert answer.json() == {"message": "folder not found", "status": "not-found"}


def test_duplicate_uid_is_412_version_mismatch(admin: httpx.Client) -> None:
    """Grafana 12 creates folders via its k8s-style API: AlreadyExists maps to 412."""
    assert _create(admin, uid="f-twice", title="Once").status_code == 200
    again = _create(admin, uid="f-twice", title="Twice")
    assert again.status_code == 412
    assert again.json() == VERSION_MISMATCH
    assert admin.get("/api/folders/f-twice").json()["title"] == "Once"


def test_duplicate_title_creates_another_folder(admin: httpx.Client) -> None:
    """Folder titles are not unique since Grafana 11.3."""
    first = _create(admin, uid="f-title-1", title="Same Title").json()
    second = _create(admin, uid="f-title-2", title="Same Title")
    assert second.status_code == 200
    assert second.json()["id"] != first["id"]
    titles = [f["title"] for f in admin.get("/api/folders").json()]
    assert titles.count("Same Title") == 2


def test_create_without_uid_generates_one(admin: httpx.Client) -> None:
    body = _create(admin, title="No Uid").json()
    assert len(body["uid"]) == 14


@pytest.mark.parametrize(("body", "message"), [
    ({"uid": "f-no-title"}, "folder title cannot be empty"),
    ({"uid": "bad uid!", "title": "x"}, "uid contains illegal characters"),
    ({"uid": "u" * 41, "title": "x"}, "uid too long, max 40 characters"),
])
def test_invalid_folder_is_400(admin: httpx.Client, body: dict[str, str], message: str) -> None:
    answer = _create(admin, **body)
    assert answer.status_code == 400
    assert answer.json() == {"message": message}


def test_wrong_json_type_is_bad_request_data(admin: httpx.Client) -> None:
    answer = _create(admin, uid="f-types", title=42)
    assert answer.status_code == 400
    assert answer.json() == {"message": "bad request data"}


def test_list_shows_root_folders_only(admin: httpx.Client) -> None:
    _create(admin, uid="f-parent", title="Parent")
    _create(admin, uid="f-child", title="Child", parentUid="f-parent")
    root = {f["uid"] for f in admin.get("/api/folders").json()}
    assert "f-parent" in root
    assert "f-child" not in root
    children = admin.get("/api/folders", params={"parentUid": "f-parent"}).json()
    assert children == [{"id": children[0]["id"], "uid": "f-child", "title": "Child",
                         "parentUid": "f-parent"}]


def test_update_needs_the_current_version(admin: httpx.Client) -> None:
    _create(admin, uid="f-update", title="Before")
    stale = admin.put("/api/folders/f-update", json={"title": "After", "version": 0})
    assert stale.status_code == 412
    assert stale.json() == {"message": "The dashboard has been changed by someone else"}
    current = admin.put("/api/folders/f-update", json={"title": "After", "version": 1})
    assert current.status_code == 200
    assert (current.json()["title"], current.json()["version"]) == ("After", 2)
    forced = admin.put("/api/folders/f-update", json={"title": "Forced", "overwrite": True})
    assert (forced.json()["title"], forced.json()["version"]) == ("Forced", 3)


def test_update_missing_folder_is_404(admin: httpx.Client) -> None:
    answer = admin.put("/api/folders/f-nowhere", json={"title": "x", "overwrite": True})
    assert answer.status_code == 404
    assert answer.json()["status"] == "not-found"


def test_update_with_empty_title_is_400(admin: httpx.Client) -> None:
    _create(admin, uid="f-blank", title="Blank")
    answer = admin.put("/api/folders/f-blank", json={"title": "  ", "overwrite": True})
    assert answer.status_code == 400
    assert answer.json() == {"message": "Dashboard title cannot be empty"}


def test_delete_removes_the_folders_dashboards(admin: httpx.Client) -> None:
    _create(admin, uid="f-delete", title="Delete Me")
    saved = admin.post("/api/dashboards/db", json={"dashboard": {"title": "Inside",
                                                                 "uid": "d-inside"},
                                                   "folderUid": "f-delete"})
    assert saved.status_code == 200
    answer = admin.delete("/api/folders/f-delete")
    assert answer.status_code == 200
    assert answer.json() == {"message": "Folder deleted"}
    assert admin.get("/api/folders/f-delete").status_code == 404
    assert admin.get("/api/dashboards/uid/d-inside").status_code == 404


def test_delete_missing_folder_is_404(admin: httpx.Client) -> None:
    answer = admin.delete("/api/folders/f-gone")
    assert answer.status_code == 404
    assert answer.json() == {"message": "folder not found", "status": "not-found"}
