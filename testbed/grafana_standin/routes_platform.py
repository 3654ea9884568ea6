"""Health, datasource and service-account endpoints."""

from __future__ import annotations

import time
from collections.abc import Callable

from aiohttp import web

from . import bodies, serviceaccounts
from .context import CONFIG, STARTED, respond, signed_in, state
from .datasources import DataSource, detail, list_item
from .errors import plain, public
from .gojson import sorted_map
from .identity import require
from .state import go_time

routes = web.RouteTableDef()


@routes.get("/api/health")
async def health(request: web.Request) -> web.Response:
    """No authentication; 503 ``database: failing`` while ``--unhealthy-for`` lasts."""
    config = request.app[CONFIG]
    failing = time.monotonic() - request.app[STARTED] < config.unhealthy_for
    body = {"database": "failing" if failing else "ok", "version": config.version,
            "commit": config.commit}
    return respond(body, 503 if failing else 200, indent=2,
                   content_type="application/json; charset=UTF-8")


@routes.get("/api/datasources")
async def list_datasources(request: web.Request) -> web.Response:
    require(signed_in(request), "datasources:read")
    sources = sorted(state(request).datasources, key=lambda source: source.name.lower())
    return respond([list_item(source) for source in sources])


@routes.get("/api/datasources/name/{name}")
async def datasource_by_name(request: web.Request) -> web.Response:
    require(signed_in(request), "datasources:read")
    name = request.match_info["name"]
    return _datasource(request, lambda source: source.name == name)


@routes.get("/api/datasources/uid/{uid}")
async def datasource_by_uid(request: web.Request) -> web.Response:
    require(signed_in(request), "datasources:read")
    uid = request.match_info["uid"]
    return _datasource(request, lambda source: source.uid == uid)


def _datasource(request: web.Request, wanted: Callable[[DataSource], bool]) -> web.Response:
    match = next((source for source in state(request).datasources if wanted(source)), None)
    if match is None:
        raise plain(404, "Data source not found")
    return respond(detail(match))


def _account_id(request: web.Request) -> int:
    try:
        return int(request.match_info["id"])
    except ValueError as error:
        raise public(400, "serviceaccounts.ErrInvalidId",
                     "invalid service account id specified") from error


@routes.post("/api/serviceaccounts")
async def create_service_account(request: web.Request) -> web.Response:
    require(signed_in(request), "serviceaccounts:create")
    body = await bodies.read_object(request)
    name = bodies.text(body, "name")
    role = bodies.optional_text(body, "role")
    bodies.flag(body, "isDisabled")
    if not name:
        raise bodies.bad_request()
    account = serviceaccounts.create(state(request), name, role)
    return respond(serviceaccounts.dto(state(request), account), 201)


@routes.get("/api/serviceaccounts/search")
async def search_service_accounts(request: web.Request) -> web.Response:
    require(signed_in(request), "serviceaccounts:read")
    result = serviceaccounts.search(state(request), request.query.get("query", ""),
                                    bodies.query_int(request, "perpage", 1000),
                                    bodies.query_int(request, "page", 1))
    return respond(result)


@routes.get("/api/serviceaccounts/{id}")
async def get_service_account(request: web.Request) -> web.Response:
    require(signed_in(request), "serviceaccounts:read")
    account = serviceaccounts.get(state(request), _account_id(request))
    return respond(serviceaccounts.dto(state(request), account))


@routes.post("/api/serviceaccounts/{id}/tokens")
async def create_token(request: web.Request) -> web.Response:
    require(signed_in(request), "serviceaccounts:write")
    account_id = _account_id(request)
    body = await bodies.read_object(request)
    name = bodies.text(body, "name")
    bodies.integer(body, "secondsToLive")
    if not name:
        raise bodies.bad_request()
    token, secret = serviceaccounts.add_token(state(request), account_id, name)
    return respond(sorted_map({"id": token.id, "name": token.name, "key": secret}))


@routes.get("/api/serviceaccounts/{id}/tokens")
async def list_tokens(request: web.Request) -> web.Response:
    require(signed_in(request), "serviceaccounts:read")
    account = serviceaccounts.get(state(request), _account_id(request))
    tokens = [t for t in state(request).tokens.values() if t.service_account_id == account.id]
    return respond([{
        "id": token.id,
        "name": token.name,
        "created": go_time(token.created),
        "expiration": None,
        "secondsUntilExpiration": 0,
        "hasExpired": False,
    } for token in tokens])
