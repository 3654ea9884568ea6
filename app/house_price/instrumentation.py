"""HTTP metrics and the /metrics endpoint, all in one app's own registry.

prometheus-fastapi-instrumentator records ``http_requests_total{handler,method,status}``
(status grouped as ``2xx``...), ``http_request_duration_seconds{handler,method}`` and
``http_request_duration_highr_seconds`` (both with ``LATENCY_BUCKETS``, 5 ms to 5 s), and the
``http_request_size_bytes`` / ``http_response_size_bytes`` summaries. Requests no route matches
are grouped under ``handler="none"``; probes and scrapes (``EXCLUDED_HANDLERS``) are not counted.

The instrumentator's own in-progress gauge is always created in the process-wide default
registry (trallnag/prometheus-fastapi-instrumentator#317), which breaks a per-app registry, so
``InProgressMiddleware`` keeps ``http_requests_inprogress{handler,method}`` here instead, under
the same name and labels.
"""

import re

from fastapi import FastAPI
from prometheus_client import (
    CollectorRegistry,
    Gauge,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_fastapi_instrumentator import Instrumentator
from prometheus_fastapi_instrumentator.routing import get_route_name
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

EXCLUDED_HANDLERS: tuple[str, ...] = ("/metrics", "/health", "/ready")
LATENCY_BUCKETS: tuple[float, ...] = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.075,
    0.1,
    0.25,
    0.5,
    0.75,
    1.0,
    1.5,
    2.0,
    5.0,
)
UNMATCHED_HANDLER = "none"


class InProgressMiddleware:
    """Gauge of requests being served, by route template and method."""

    def __init__(self, app: ASGIApp, *, registry: CollectorRegistry, excluded: tuple[str, ...]) -> None:
        self._app = app
        self._excluded = frozenset(excluded)
        self._gauge = Gauge(
            "http_requests_inprogress",
            "HTTP requests being served, by handler and method.",
            ["handler", "method"],
            registry=registry,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        handler = get_route_name(HTTPConnection(scope), should_include_root_path=False)
        if handler in self._excluded:
            await self._app(scope, receive, send)
            return
        with self._gauge.labels(handler or UNMATCHED_HANDLER, scope["method"]).track_inprogress():
            await self._app(scope, receive, send)


def instrument(app: FastAPI, registry: CollectorRegistry) -> None:
    """Record HTTP metrics for ``app`` in ``registry`` and serve them at /metrics."""
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    Instrumentator(
        should_group_status_codes=True,
        should_ignore_untemplated=False,
        should_group_untemplated=True,
        excluded_handlers=[f"^{re.escape(path)}$" for path in EXCLUDED_HANDLERS],
        registry=registry,
    ).instrument(app, latency_lowr_buckets=LATENCY_BUCKETS, latency_highr_buckets=LATENCY_BUCKETS).expose(
        app, include_in_schema=False
    )
    app.add_middleware(InProgressMiddleware, registry=registry, excluded=EXCLUDED_HANDLERS)
