"""Grafana's error bodies, as its handlers build them.

Grafana answers errors in four shapes, and clients (and tests) see the difference:

* ``response.Error`` in production mode: ``{"message": ...}``;
* a ``DashboardErr`` that has a status word: ``{"message": ..., "status": ...}``;
* an ``errutil`` error written by ``WriteErrOrFallback`` (authentication):
  ``{"extra": null, "message": ..., "messageId": ..., "statusCode": ..., "traceID": ""}``;
* the access-control middleware's 403:
  ``{"accessErrorId": "ACE…", "message": ..., "title": "Access denied"}``.

All are Go maps, so their keys are written sorted.
"""

from __future__ import annotations

import secrets

from .gojson import sorted_map


class GrafanaError(Exception):
    """An HTTP error answer: status code and the JSON body Grafana writes for it."""

    def __init__(self, status: int, body: dict[str, object]) -> None:
        super().__init__(f"{status}: {body.get('message')}")
        self.status = status
        self.body = sorted_map(body)


def plain(status: int, message: str) -> GrafanaError:
    """``response.Error(status, message, err)`` as written in production mode."""
    return GrafanaError(status, {"message": message})


def with_status(status: int, message: str, status_word: str) -> GrafanaError:
    """A ``DashboardErr`` (or folder error) whose body carries a ``status`` word."""
    return GrafanaError(status, {"message": message, "status": status_word})


def errutil(status: int, message_id: str, message: str) -> GrafanaError:
    """An ``errutil.Error`` written through ``ReqContext.WriteErrOrFallback``."""
    return GrafanaError(status, {
        "extra": None,
        "message": message,
        "messageId": message_id,
        "statusCode": status,
        "traceID": "",
    })


def public(status: int, message_id: str, message: str) -> GrafanaError:
    """An ``errutil.Error`` written through ``response.Err`` (no trace fields)."""
    return GrafanaError(status, {"message": message, "messageId": message_id,
                                 "statusCode": status})


def access_denied(needed: str) -> GrafanaError:
    """The RBAC middleware's answer when the caller lacks ``needed``."""
    return GrafanaError(403, {
        "accessErrorId": f"ACE{secrets.randbelow(10**10):010d}",
        "message": "You'll need additional permissions to perform this action. "
                   f"Permissions needed: {needed}",
        "title": "Access denied",
    })


BAD_REQUEST_DATA = "bad request data"
