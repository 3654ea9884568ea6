"""Request bodies decoded the way Grafana's ``web.Bind`` decodes them into Go structs.

A body that is not JSON, not an object, or gives a field the wrong JSON type is
``400 {"message": "bad request data"}``. Unknown fields are ignored, ``null`` is the zero
value, and field names match case-insensitively (an exact match wins), as in Go's
``encoding/json``. An integer field refuses ``2.0`` as Go's decoder does.
"""

from __future__ import annotations

import json

from aiohttp import web

from .errors import BAD_REQUEST_DATA, GrafanaError, plain

JsonObject = dict[str, object]


class _Float(float):
    """A JSON number written with a fraction or exponent."""


def bad_request() -> GrafanaError:
    return plain(400, BAD_REQUEST_DATA)


async def read_object(request: web.Request) -> JsonObject:
    """The JSON object in the body; an empty body is an empty object."""
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw, parse_float=_Float)
    except (UnicodeDecodeError, ValueError) as error:
        raise bad_request() from error
    if not isinstance(value, dict):
        raise bad_request()
    return value


def _lookup(body: JsonObject, name: str) -> object:
    if name in body:
        return body[name]
    matches = [value for key, value in body.items() if key.lower() == name.lower()]
    return matches[-1] if matches else None


def text(body: JsonObject, name: str) -> str:
    value = _lookup(body, name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise bad_request()
    return value


def optional_text(body: JsonObject, name: str) -> str | None:
    """A ``*string`` field: ``None`` when absent or ``null``."""
    value = _lookup(body, name)
    if value is not None and not isinstance(value, str):
        raise bad_request()
    return value


def flag(body: JsonObject, name: str) -> bool:
    value = _lookup(body, name)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise bad_request()
    return value


def integer(body: JsonObject, name: str) -> int:
    value = _lookup(body, name)
    if value is None:
        return 0
    if isinstance(value, bool | _Float) or not isinstance(value, int):
        raise bad_request()
    return value


def json_value(body: JsonObject, name: str) -> object:
    """A ``*simplejson.Json`` field: any JSON, with plain floats."""
    return _plain_floats(_lookup(body, name))


def _plain_floats(value: object) -> object:
    if isinstance(value, _Float):
        return float(value)
    if isinstance(value, dict):
        return {key: _plain_floats(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain_floats(item) for item in value]
    return value


def query_int(request: web.Request, name: str, default: int) -> int:
    """``c.QueryInt``: a missing or non-numeric parameter is ``default``."""
    raw = request.query.get(name, "")
    try:
        value = int(raw)
    except ValueError:
        return default
    return value or default
