"""``/api/folders`` endpoints."""

from __future__ import annotations

from aiohttp import web

from . import bodies, folders
from .context import respond, signed_in, state
from .identity import require

routes = web.RouteTableDef()

SEARCH_LIMIT = 1000


@routes.get("/api/folders")
async def list_folders(request: web.Request) -> web.Response:
    require(signed_in(request), "folders:read")
    hits = folders.children(state(request), request.query.get("parentUid", ""),
                            bodies.query_int(request, "limit", SEARCH_LIMIT),
                            bodies.query_int(request, "page", 1))
    return respond(hits)


@routes.post("/api/folders")
async def create_folder(request: web.Request) -> web.Response:
    identity = signed_in(request)
    require(identity, "folders:create")
    body = await bodies.read_object(request)
    folder = folders.create(state(request), uid=bodies.text(body, "uid"),
                            title=bodies.text(body, "title"),
                            description=bodies.text(body, "description"),
                            parent_uid=bodies.text(body, "parentUid"), actor=identity)
    return respond(folders.dto(folder, identity))


@routes.get("/api/folders/{uid}")
async def get_folder(request: web.Request) -> web.Response:
    identity = signed_in(request)
    require(identity, "folders:read")
    return respond(folders.dto(folders.get(state(request), request.match_info["uid"]),
                               identity))


@routes.put("/api/folders/{uid}")
async def update_folder(request: web.Request) -> web.Response:
    identity = signed_in(request)
    require(identity, "folders:write")
    body = await bodies.read_object(request)
    change = folders.FolderUpdate(title=bodies.optional_text(body, "title"),
                                  description=bodies.optional_text(body, "description"),
                                  version=bodies.integer(body, "version"),
                                  overwrite=bodies.flag(body, "overwrite"))
    folder = folders.update(state(request), request.match_info["uid"], change, identity)
    return respond(folders.dto(folder, identity))


@routes.delete("/api/folders/{uid}")
async def delete_folder(request: web.Request) -> web.Response:
    require(signed_in(request), "folders:delete")
    folders.delete(state(request), request.match_info["uid"])
    return respond({"message": "Folder deleted"})
