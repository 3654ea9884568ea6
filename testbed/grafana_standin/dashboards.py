"""Dashboard rules of ``/api/dashboards`` in Grafana 12.

Saving (``BuildSaveDashboardCommand`` and ``ValidateDashboardBeforeSave``), in order:

1. ``isFolder`` is refused; the title is trimmed and must not be empty
   (``400 {"message": "Dashboard title cannot be empty", "status": "empty-name"}``) nor
   over 5000 characters; the commit message is at most 500 characters; the uid may hold
   only ``[a-zA-Z0-9_-]`` and at most 40 characters;
2. ``refresh`` must parse and be at least ``min_refresh_interval`` (5s);
3. a ``folderUid`` (or deprecated ``folderId``) must name a folder, else
   ``400 {"message": "folder not found"}``;
4. an ``id`` that matches nothing is a 404; an ``id`` and a ``uid`` naming two different
   dashboards is ``400 "A dashboard with the same uid already exists"``;
5. if a dashboard with that id or uid exists, the posted ``version`` (missing = 0) must
   equal the stored one unless ``overwrite`` is true, else ``412 {"message": "The dashboard
   has been changed by someone else", "status": "version-mismatch"}``. Titles are not
   unique (since Grafana 11.3), so there is no ``name-exists`` check any more.

A save always writes a new version (stored version + 1, or 1), even when nothing changed.
The stored JSON is :func:`savemodel.save_model` of the posted one; reading it back adds
``id``, ``uid`` and ``version``.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import folders, refresh
from .errors import GrafanaError, plain, with_status
from .gojson import sorted_map
from .identity import Identity, Role
from .naming import check_uid, dashboard_url, new_uid, slugify
from .savemodel import save_model
from .state import Dashboard, DashboardVersion, State, go_time, now

TITLE_MAX_LENGTH = 5000
MESSAGE_MAX_LENGTH = 500


@dataclass(frozen=True)
class SaveCommand:
    """The body of ``POST /api/dashboards/db``."""

    dashboard: dict[str, object]
    folder_uid: str
    folder_id: int
    overwrite: bool
    message: str
    is_folder: bool


def _text(model: dict[str, object], key: str) -> str:
    value = model.get(key)
    return value if isinstance(value, str) else ""


def _number(model: dict[str, object], key: str) -> int:
    value = model.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return int(value)


def not_found() -> GrafanaError:
    return plain(404, "Dashboard not found")


def get(state: State, uid: str) -> Dashboard:
    dashboard = state.dashboards.get(uid)
    if dashboard is None:
        raise not_found()
    return dashboard


def save(state: State, command: SaveCommand, actor: Identity) -> Dashboard:
    """Create or update a dashboard, or raise the error Grafana answers."""
    if command.is_folder:
        raise plain(400, "Use folders endpoint for saving folders.")
    model = dict(command.dashboard)
    title = _text(model, "title").strip()
    uid = _text(model, "uid").strip()
    model["title"] = title
    _check_properties(title, uid, command.message)
    refresh.check(model.get("refresh"))
    folder_uid = _resolve_folder(state, command)
    existing = _existing(state, _number(model, "id"), uid)
    if existing is not None:
        uid = existing.uid
        if _number(model, "version") != existing.version and not command.overwrite:
            raise with_status(412, "The dashboard has been changed by someone else",
                              "version-mismatch")
    moment = now()
    spec = save_model(model)
    if existing is None:
        dashboard = Dashboard(id=state.next_object_id(), uid=uid or new_uid(), title=title,
                              folder_uid=folder_uid, spec=spec, version=1, created=moment,
                              updated=moment, created_by=actor.display,
                              updated_by=actor.display)
        state.dashboards[dashboard.uid] = dashboard
    else:
        dashboard = existing
        dashboard.title = title
        dashboard.folder_uid = folder_uid
        dashboard.spec = spec
        dashboard.version += 1
        dashboard.updated = moment
        dashboard.updated_by = actor.display
    dashboard.history.append(DashboardVersion(id=state.next_version_id(),
                                              version=dashboard.version, created=moment,
                                              created_by=actor.display,
                                              message=command.message))
    return dashboard


def _check_properties(title: str, uid: str, message: str) -> None:
    if not title:
        raise with_status(400, "Dashboard title cannot be empty", "empty-name")
    if len(title) > TITLE_MAX_LENGTH:
        raise with_status(400, "Dashboard title cannot contain more than 5 000 characters",
                          "title-too-long")
    if len(message) > MESSAGE_MAX_LENGTH:
        raise plain(400, f"message too long, max {MESSAGE_MAX_LENGTH} characters")
    check_uid(uid)


def _resolve_folder(state: State, command: SaveCommand) -> str:
    if command.folder_uid:
        if command.folder_uid not in state.folders:
            raise plain(400, "folder not found")
        return command.folder_uid
    if command.folder_id:
        match = next((f for f in state.folders.values() if f.id == command.folder_id), None)
        if match is None:
            raise plain(400, "folder not found")
        return match.uid
    return ""


def _existing(state: State, dashboard_id: int, uid: str) -> Dashboard | None:
    by_id = None
    if dashboard_id > 0:
        by_id = next((d for d in state.dashboards.values() if d.id == dashboard_id), None)
        if by_id is None:
            raise with_status(404, "Dashboard not found", "not-found")
    by_uid = state.dashboards.get(uid or (by_id.uid if by_id else ""))
    if by_id is not None and by_uid is not None and by_id.id != by_uid.id:
        raise plain(400, "A dashboard with the same uid already exists")
    return by_id or by_uid


def delete(state: State, uid: str) -> Dashboard:
    dashboard = get(state, uid)
    del state.dashboards[uid]
    return dashboard


def slug(dashboard: Dashboard) -> str:
    return slugify(dashboard.title)


def url(dashboard: Dashboard) -> str:
    return dashboard_url(dashboard.uid, slug(dashboard))


def save_result(dashboard: Dashboard) -> dict[str, object]:
    """The body of a successful ``POST /api/dashboards/db`` (a Go map: keys sorted)."""
    return sorted_map({
        "id": dashboard.id,
        "uid": dashboard.uid,
        "url": url(dashboard),
        "status": "success",
        "version": dashboard.version,
        "slug": slug(dashboard),
        "folderUid": dashboard.folder_uid,
    })


def full(state: State, dashboard: Dashboard, viewer: Identity) -> dict[str, object]:
    """``dtos.DashboardFullWithMeta``: ``meta`` in struct order, ``dashboard`` sorted."""
    model = dict(dashboard.spec)
    model.update(id=dashboard.id, uid=dashboard.uid, version=dashboard.version)
    folder = state.folders.get(dashboard.folder_uid)
    can_write = viewer.can("dashboards:write")
    meta: dict[str, object] = {
        "type": "db",
        "canSave": can_write,
        "canEdit": can_write,
        "canAdmin": viewer.role is Role.ADMIN,
        "canStar": True,
        "canDelete": viewer.can("dashboards:delete"),
        "slug": slug(dashboard),
        "url": url(dashboard),
        "expires": "0001-01-01T00:00:00Z",
        "created": go_time(dashboard.created),
        "updated": go_time(dashboard.updated),
        "updatedBy": dashboard.updated_by,
        "createdBy": dashboard.created_by,
        "version": dashboard.version,
        "hasAcl": False,
        "isFolder": False,
        "folderId": folder.id if folder else 0,
        "folderUid": folder.uid if folder else "",
        "folderTitle": folder.title if folder else "General",
        "folderUrl": folders.url(folder) if folder else "",
        "provisioned": False,
        "provisionedExternalId": "",
        "annotationsPermissions": {
            "dashboard": _annotation_actions(viewer),
            "organization": _annotation_actions(viewer),
        },
        "publicDashboardAccessToken": "",
        "publicDashboardEnabled": False,
    }
    return {"meta": meta, "dashboard": sorted_map(model)}


def _annotation_actions(viewer: Identity) -> dict[str, bool]:
    allowed = viewer.role in (Role.EDITOR, Role.ADMIN)
    return {"canAdd": allowed, "canEdit": allowed, "canDelete": allowed}


def versions(dashboard: Dashboard) -> dict[str, object]:
    """``GET /api/dashboards/uid/:uid/versions``, newest first."""
    listed = [{
        "id": entry.id,
        "dashboardId": dashboard.id,
        "uid": dashboard.uid,
        "parentVersion": entry.version - 1,
        "restoredFrom": 0,
        "version": entry.version,
        "created": go_time(entry.created),
        "createdBy": entry.created_by,
        "message": "Initial save" if entry.version == 1 else entry.message,
    } for entry in reversed(dashboard.history)]
    return {"versions": listed, "continueToken": ""}
