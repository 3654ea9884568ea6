"""What every handler needs: the app's shared objects, the caller, and Go-style answers."""

from __future__ import annotations

from aiohttp import web

from .auth import Authenticator
from .config import GrafanaConfig
from .errors import GrafanaError, plain
from .gojson import dumps
from .identity import Identity
from .requestlog import RequestLog
from .state import State

CONFIG = web.AppKey("config", GrafanaConfig)
STATE = web.AppKey("state", State)
AUTHENTICATOR = web.AppKey("authenticator", Authenticator)
REQUEST_LOG = web.AppKey("request_log", RequestLog)
STARTED = web.AppKey("started", float)

IDENTITY = "grafana_identity"
AUTH_ERROR = "grafana_auth_error"


def state(request: web.Request) -> State:
    return request.app[STATE]


def signed_in(request: web.Request) -> Identity:
    """The caller, or the error Grafana answers to a request without a valid user."""
    error = request.get(AUTH_ERROR)
    if isinstance(error, GrafanaError):
        raise GrafanaError(error.status, dict(error.body))
    identity = request.get(IDENTITY)
    if not isinstance(identity, Identity):
        raise plain(401, "Unauthorized")
    return identity


def respond(payload: object, status: int = 200, *, indent: int | None = None,
            content_type: str = "application/json") -> web.Response:
    """A response whose body is ``payload`` encoded as Go's ``encoding/json`` would."""
    return web.Response(status=status, body=dumps(payload, indent).encode(),
                        headers={"Content-Type": content_type, "Cache-Control": "no-store"})
