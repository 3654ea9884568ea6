"""``/api/dashboards`` and ``/api/search`` endpoints."""

from __future__ import annotations

from aiohttp import web

from . import bodies, dashboards, search
from .context import respond, signed_in, state
from .gojson import sorted_map
from .identity import require

routes = web.RouteTableDef()

SEARCH_LIMIT = 1000
SEARCH_MAX_LIMIT = 5000


@routes.post("/api/dashboards/db")
async def save_dashboard(request: web.Request) -> web.Response:
    identity = signed_in(request)
    require(identity, "dashboards:create", "dashboards:write", any_of=True)
    body = await bodies.read_object(request)
    model = bodies.json_value(body, "dashboard")
    if model is None:
        raise bodies.bad_request()
    command = dashboards.SaveCommand(
        dashboard=model if isinstance(model, dict) else {},
        folder_uid=bodies.text(body, "folderUid"),
        folder_id=bodies.integer(body, "folderId"),
        overwrite=bodies.flag(body, "overwrite"),
        message=bodies.text(body, "message"),
        is_folder=bodies.flag(body, "isFolder"),
    )
    dashboard = dashboards.save(state(request), command, identity)
    return respond(dashboards.save_result(dashboard))


@routes.get("/api/dashboards/uid/{uid}")
async def get_dashboard(request: web.Request) -> web.Response:
    identity = signed_in(request)
    require(identity, "dashboards:read")
    dashboard = dashboards.get(state(request), request.match_info["uid"])
    return respond(dashboards.full(state(request), dashboard, identity))


@routes.delete("/api/dashboards/uid/{uid}")
async def delete_dashboard(request: web.Request) -> web.Response:
    require(signed_in(request), "dashboards:delete")
    dashboard = dashboards.delete(state(request), request.match_info["uid"])
    return respond(sorted_map({"title": dashboard.title, "uid": dashboard.uid,
                           "message": f"Dashboard {dashboard.title} deleted"}))


@routes.get("/api/dashboards/uid/{uid}/versions")
async def dashboard_versions(request: web.Request) -> web.Response:
    require(signed_in(request), "dashboards:write")
    dashboard = dashboards.get(state(request), request.match_info["uid"])
    return respond(dashboards.versions(dashboard))


@routes.get("/api/search")
async def search_dashboards(request: web.Request) -> web.Response:
    identity = signed_in(request)
    query = request.query
    limit = min(bodies.query_int(request, "limit", SEARCH_LIMIT), SEARCH_MAX_LIMIT)
    wanted = search.SearchQuery(
        query=query.get("query", ""),
        kind=query.get("type", ""),
        folder_uids=tuple(query.getall("folderUIDs", [])),
        dashboard_uids=tuple(query.getall("dashboardUIDs", [])),
        tags=tuple(query.getall("tag", [])),
        limit=limit,
        page=bodies.query_int(request, "page", 1),
    )
    return respond(search.run(state(request), wanted, identity))
