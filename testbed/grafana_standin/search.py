"""``GET /api/search``: folders and dashboards the caller may read, as ``search.Hit``s.

Filters: ``query`` (case-insensitive part of the title), ``type`` (``dash-db`` or
``dash-folder``; anything else means both), ``folderUIDs`` (``general`` is the root),
``dashboardUIDs``, ``tag`` (all must be present), ``limit`` (default 1000) and ``page``.
Hits are sorted folders first, then by lower-cased title.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import dashboards, folders
from .identity import Identity
from .naming import slugify
from .state import Dashboard, Folder, State

DASHBOARD_TYPE = "dash-db"
FOLDER_TYPE = "dash-folder"


@dataclass(frozen=True)
class SearchQuery:
    query: str
    kind: str
    folder_uids: tuple[str, ...]
    dashboard_uids: tuple[str, ...]
    tags: tuple[str, ...]
    limit: int
    page: int


def run(state: State, search: SearchQuery, viewer: Identity) -> list[dict[str, object]]:
    if not viewer.can("dashboards:read"):
        return []
    hits: list[tuple[int, str, dict[str, object]]] = []
    if search.kind != DASHBOARD_TYPE and not search.tags:
        hits += [(0, f.title.lower(), _folder_hit(state, f))
                 for f in state.folders.values() if _wanted(search, f.title, f.uid, f.parent_uid)]
    if search.kind != FOLDER_TYPE:
        hits += [(1, d.title.lower(), _dashboard_hit(state, d))
                 for d in state.dashboards.values()
                 if _wanted(search, d.title, d.uid, d.folder_uid) and _tagged(search, d)]
    hits.sort(key=lambda hit: hit[:2])
    start = search.limit * (search.page - 1)
    return [hit for _, _, hit in hits[start:start + search.limit]]


def _wanted(search: SearchQuery, title: str, uid: str, parent_uid: str) -> bool:
    parents = {"" if p == folders.GENERAL_UID else p for p in search.folder_uids}
    return (search.query.lower() in title.lower()
            and (not search.dashboard_uids or uid in search.dashboard_uids)
            and (not parents or parent_uid in parents))


def _tagged(search: SearchQuery, dashboard: Dashboard) -> bool:
    tags = dashboard.spec.get("tags")
    present = set(tags) if isinstance(tags, list) else set()
    return all(tag in present for tag in search.tags)


def _folder_fields(state: State, parent_uid: str) -> dict[str, object]:
    parent = state.folders.get(parent_uid)
    if parent is None:
        return {}
    return {"folderId": parent.id, "folderUid": parent.uid, "folderTitle": parent.title,
            "folderUrl": folders.url(parent)}


def _folder_hit(state: State, folder: Folder) -> dict[str, object]:
    return {
        "id": folder.id,
        "uid": folder.uid,
        "orgId": 1,
        "title": folder.title,
        "uri": f"db/{slugify(folder.title)}",
        "url": folders.url(folder),
        "slug": "",
        "type": FOLDER_TYPE,
        "tags": [],
        "isStarred": False,
        **_folder_fields(state, folder.parent_uid),
        "sortMeta": 0,
    }


def _dashboard_hit(state: State, dashboard: Dashboard) -> dict[str, object]:
    tags = dashboard.spec.get("tags")
    return {
        "id": dashboard.id,
        "uid": dashboard.uid,
        "orgId": 1,
        "title": dashboard.title,
        "uri": f"db/{dashboards.slug(dashboard)}",
        "url": dashboards.url(dashboard),
        "slug": "",
        "type": DASHBOARD_TYPE,
        "tags": sorted(t for t in tags if isinstance(t, str)) if isinstance(tags, list) else [],
        "isStarred": False,
        **_folder_fields(state, dashboard.folder_uid),
        "sortMeta": 0,
    }
