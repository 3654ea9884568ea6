"""Column: real (stand-in process). ``GET /api/search`` filters and hit shape over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from testbed.grafana_standin.launcher import GrafanaStandin


@pytest.fixture(scope="module")
def admin(shared_grafana_standin: GrafanaStandin) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=shared_grafana_standin.url,
                      auth=shared_grafana_standin.admin_auth) as client:
        client.post("/api/folders", json={"uid": "s-folder", "title": "Search Folder"})
        for uid, title, folder, tags in (
                ("s-api", "ML Model API", "s-folder", ["mlmon", "api"]),
                ("s-quality", "ML Model Quality", "s-folder", ["mlmon"]),
                ("s-general", "Cluster Overview", "", [])):
            saved = client.post("/api/dashboards/db", json={
                "dashboard": {"uid": uid, "title": title, "tags": tags}, "folderUid": folder})
            assert saved.status_code == 200
        yield client


def _search(admin: httpx.Client, **params: str | int) -> list[dict[str, object]]:
    answer = admin.get("/api/search", params=params)
    assert answer.status_code == 200
    hits = answer.json()
    assert isinstance(hits, list)
    return hits


def test_dashboard_hit_shape(admin: httpx.Client) -> None:
    hits = _search(admin, type="dash-db", dashboardUIDs="s-api")
    assert len(hits) == 1
    hit = hits[0]
    assert list(hit) == ["id", "uid", "orgId", "title", "uri", "url", "slug", "type", "tags",
                         "isStarred", "folderId", "folderUid", "folderTitle", "folderUrl",
                         "sortMeta"]
    assert {key: hit[key] for key in ("uid", "title", "uri", "url", "slug", "type", "tags",
                                      "folderUid", "folderTitle", "folderUrl")} == {
        "uid": "s-api", "title": "ML Model API", "uri": "db/ml-model-api",
        "url": "/d/s-api/ml-model-api", "slug": "", "type": "dash-db",
        "tags": ["api", "mlmon"], "folderUid": "s-folder", "folderTitle": "Search Folder",
        "folderUrl": "/dashboards/f/s-folder/search-folder"}


def test_dashboard_in_general_has_no_folder_fields(admin: httpx.Client) -> None:
    hit = _search(admin, dashboardUIDs="s-general")[0]
    assert not any(key.startswith("folder") for key in hit)


def test_query_matches_part_of_the_title_in_any_case(admin: httpx.Client) -> None:
    assert [h["uid"] for h in _search(admin, query="model", type="dash-db")] == \
        ["s-api", "s-quality"]


def test_type_folder_lists_folders(admin: httpx.Client) -> None:
    hits = _search(admin, type="dash-folder", query="Search Folder")
    assert [(h["uid"], h["type"], h["url"]) for h in hits] == [
        ("s-folder", "dash-folder", "/dashboards/f/s-folder/search-folder")]


def test_without_type_folders_come_first(admin: httpx.Client) -> None:
    hits = _search(admin, query="s")
    types = [h["type"] for h in hits]
    assert types == sorted(types, key=lambda kind: kind != "dash-folder")


def test_folder_uids_filter(admin: httpx.Client) -> None:
    in_folder = _search(admin, type="dash-db", folderUIDs="s-folder")
    assert [h["uid"] for h in in_folder] == ["s-api", "s-quality"]
    general = {h["uid"] for h in _search(admin, type="dash-db", folderUIDs="general")}
    assert "s-general" in general
    assert "s-api" not in general


def test_several_dashboard_uids(admin: httpx.Client) -> None:
    hits = admin.get("/api/search", params=[("dashboardUIDs", "s-api"),
                                            ("dashboardUIDs", "s-general")]).json()
    assert [h["uid"] for h in hits] == ["s-general", "s-api"]


def test_tag_filter_needs_every_tag(admin: httpx.Client) -> None:
    assert [h["uid"] for h in _search(admin, tag="mlmon")] == ["s-api", "s-quality"]
    both = admin.get("/api/search", params=[("tag", "mlmon"), ("tag", "api")]).json()
    assert [h["uid"] for h in both] == ["s-api"]


def test_limit_and_page(admin: httpx.Client) -> None:
    first = _search(admin, type="dash-db", query="ML", limit=1)
    second = _search(admin, type="dash-db", query="ML", limit=1, page=2)
    assert [h["uid"] for h in first + second] == ["s-api", "s-quality"]


def test_no_match_is_an_empty_list(admin: httpx.Client) -> None:
    assert _search(admin, dashboardUIDs="s-nothing") == []
