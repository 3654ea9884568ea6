"""Folder rules of Grafana 12's folder API (``/api/folders``).

* Titles are not unique (since Grafana 11.3): a second folder with the same title and
  another uid is created.
* A uid that already exists is refused. Grafana 12 creates folders through its
  ``folder.grafana.app`` API, whose ``AlreadyExists`` error the legacy API maps to
  ``412 {"message": "the folder has been changed by someone else",
  "status": "version-mismatch"}`` (``apierrors.ToFolderErrorResponse``).
* ``PUT`` needs the current ``version`` unless ``overwrite``; a stale one is a 412 whose
  body is the dashboard error's message only.
* ``DELETE`` removes the folder's subfolders and every dashboard in them.
* Listing without ``parentUid`` shows root folders only (nested folders are on).
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import GrafanaError, plain, with_status
from .identity import Identity, Role
from .naming import check_uid, folder_url, new_uid, slugify
from .state import Folder, State, go_time, now

GENERAL_UID = "general"


@dataclass(frozen=True)
class FolderUpdate:
    title: str | None
    description: str | None
    version: int
    overwrite: bool


def not_found() -> GrafanaError:
    return with_status(404, "folder not found", "not-found")


def get(state: State, uid: str) -> Folder:
    folder = state.folders.get(uid)
    if folder is None:
        raise not_found()
    return folder


def create(state: State, *, uid: str, title: str, description: str, parent_uid: str,
           actor: Identity) -> Folder:
    uid = uid.strip()
    if uid == GENERAL_UID:
        raise plain(500, "Folder API error")
    if uid:
        check_uid(uid)
    if not title:
        raise plain(400, "folder title cannot be empty")
    if parent_uid:
        get(state, parent_uid)
    if uid in state.folders:
        raise with_status(412, "the folder has been changed by someone else",
                          "version-mismatch")
    moment = now()
    folder = Folder(id=state.next_object_id(), uid=uid or new_uid(), title=title,
                    description=description, parent_uid=parent_uid, version=1,
                    created=moment, updated=moment, created_by=actor.display,
                    updated_by=actor.display)
    state.folders[folder.uid] = folder
    return folder


def update(state: State, uid: str, change: FolderUpdate, actor: Identity) -> Folder:
    check_uid(uid)
    title = None if change.title is None else change.title.strip()
    if title == "":
        raise plain(400, "Dashboard title cannot be empty")
    folder = get(state, uid)
    if not change.overwrite and change.version != folder.version:
        raise plain(412, "The dashboard has been changed by someone else")
    if title is not None:
        folder.title = title
    if change.description is not None:
        folder.description = change.description
    folder.version += 1
    folder.updated = now()
    folder.updated_by = actor.display
    return folder


def delete(state: State, uid: str) -> None:
    doomed = _with_descendants(state, get(state, uid).uid)
    for dashboard_uid in [d.uid for d in state.dashboards.values() if d.folder_uid in doomed]:
        del state.dashboards[dashboard_uid]
    for folder_uid in doomed:
        del state.folders[folder_uid]


def _with_descendants(state: State, uid: str) -> set[str]:
    found = {uid}
    frontier = [uid]
    while frontier:
        parent = frontier.pop()
        children = [f.uid for f in state.folders.values() if f.parent_uid == parent]
        found.update(children)
        frontier.extend(children)
    return found


def children(state: State, parent_uid: str, limit: int, page: int) -> list[dict[str, object]]:
    """``GET /api/folders``: the folders directly under ``parent_uid`` (root if empty)."""
    if parent_uid and parent_uid != GENERAL_UID:
        get(state, parent_uid)
    parent = "" if parent_uid == GENERAL_UID else parent_uid
    hits = sorted((f for f in state.folders.values() if f.parent_uid == parent),
                  key=lambda f: f.title)
    start = limit * (page - 1)
    return [_hit(folder) for folder in hits[start:start + limit]]


def _hit(folder: Folder) -> dict[str, object]:
    hit: dict[str, object] = {"id": folder.id, "uid": folder.uid, "title": folder.title}
    if folder.parent_uid:
        hit["parentUid"] = folder.parent_uid
    return hit


def url(folder: Folder) -> str:
    return folder_url(folder.uid, slugify(folder.title))


def dto(folder: Folder, viewer: Identity) -> dict[str, object]:
    """``dtos.Folder`` as the API returns it to ``viewer``."""
    can_write = viewer.can("folders:write")
    body: dict[str, object] = {
        "id": folder.id,
        "uid": folder.uid,
        "orgId": 1,
        "title": folder.title,
        "url": url(folder),
        "hasAcl": False,
        "canSave": can_write,
        "canEdit": can_write,
        "canAdmin": viewer.role is Role.ADMIN,
        "canDelete": viewer.can("folders:delete"),
        "createdBy": folder.created_by,
        "created": go_time(folder.created),
        "updatedBy": folder.updated_by,
        "updated": go_time(folder.updated),
        "version": folder.version,
    }
    if folder.parent_uid:
        body["parentUid"] = folder.parent_uid
    return body
