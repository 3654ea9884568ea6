"""HTTP metrics and the /metrics endpoint, all in one app's own registry.

``HttpMetricsMiddleware`` records, for every request but probes and scrapes (``EXCLUDED_HANDLERS``):

* ``http_requests_total{handler,method,status}``: counter, status grouped as ``2xx``, ``4xx``...;
* ``http_request_duration_seconds{handler,method}`` and ``http_request_duration_highr_seconds``
  (no labels): histograms with ``LATENCY_BUCKETS``, 5 ms to 5 s;
* ``http_request_size_bytes{handler}`` / ``http_response_size_bytes{handler}``: summaries of the
  Content-Length headers (0 without one);
* ``http_requests_inprogress{handler,method}``: gauge of requests being served.

``handler`` is the route template; requests no route matches are grouped as ``handler="none"``.

These are the series prometheus-fastapi-instrumentator 8.1 made (names, labels, types and
documentation), which the dashboards and alerts read. Its middleware cost about 100 us a request in
process (a Request, a Response and an Info built per request, the routes matched twice with its
in-progress gauge, an ``asyncio.gather`` of nothing, a label look-up per series): more than the
model once the model answers in microseconds. This middleware resolves a request's handler once,
from a cache of the app's static routes, and keeps the labelled series it has seen, so a request
costs a few dictionary look-ups and the observations themselves.

The series are plain Python numbers (``house_price.plain_metrics``), added to on the event loop and
read by the scrape: prometheus_client's own classes take a lock for every value they add to, ten
times a request here, which nothing needs since every request is recorded on the loop's one thread.
"""

from collections.abc import Iterable
from timeit import default_timer

from fastapi import FastAPI
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from house_price.plain_metrics import Counter, CounterSeries, Gauge, Histogram, Summary

METRICS_PATH = "/metrics"
EXCLUDED_HANDLERS: tuple[str, ...] = (METRICS_PATH, "/health", "/ready")
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


class _Route:
    """The series one (handler, method) adds to, looked up once: a request then costs no label look-up."""

    def __init__(self, metrics: "HttpMetrics", handler: str, method: str) -> None:
        self._metrics = metrics
        self._handler = handler
        self._method = method
        self.inprogress = metrics.inprogress.labels(handler, method)
        self._latency = metrics.latency.labels(method, handler)
        self._request_size = metrics.request_size.labels(handler)
        self._response_size = metrics.response_size.labels(handler)
        # By status class (2 for 2xx): a class's series is created with its first answer.
        self._requests: dict[int, CounterSeries] = {}

    def answered(self, status: int, request_bytes: int, response_bytes: int, seconds: float) -> None:
        """Record one finished request."""
        status_class = status // 100
        requests = self._requests.get(status_class)
        if requests is None:
            requests = self._requests[status_class] = self._metrics.requests.labels(
                self._method, f"{status_class}xx", self._handler
            )
        requests.inc()
        self._request_size.observe(request_bytes)
        self._response_size.observe(response_bytes)
        self._latency.observe(seconds)
        self._metrics.latency_highr.observe(seconds)


class HttpMetrics:
    """The HTTP series, registered in one registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "http_requests_total",
            "Total number of requests by method, status and handler.",
            ["method", "status", "handler"],
            registry=registry,
        )
        self.request_size = Summary(
            "http_request_size_bytes",
            "Content length of incoming requests by handler. Only value of header is respected. Otherwise "
            "ignored. No percentile calculated. ",
            ["handler"],
            registry=registry,
        )
        self.response_size = Summary(
            "http_response_size_bytes",
            "Content length of outgoing responses by handler. Only value of header is respected. Otherwise "
            "ignored. No percentile calculated. ",
            ["handler"],
            registry=registry,
        )
        self.latency_highr = Histogram(
            "http_request_duration_highr_seconds",
            "Latency with many buckets but no API specific labels. Made for more accurate percentile calculations. ",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Latency with only few buckets by handler. Made to be only used if aggregation by handler is important. ",
            ["method", "handler"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.inprogress = Gauge(
            "http_requests_inprogress",
            "HTTP requests being served, by handler and method.",
            ["handler", "method"],
            registry=registry,
        )
        self._routes: dict[tuple[str, str], _Route] = {}

    def route(self, handler: str, method: str) -> _Route:
        key = (handler, method)
        found = self._routes.get(key)
        if found is None:
            found = self._routes[key] = _Route(self, handler, method)
        return found


def _content_length(headers: Iterable[tuple[bytes, bytes]]) -> int:
    for name, value in headers:
        if name.lower() == b"content-length":
            return int(value) if value.isdigit() else 0
    return 0


class HttpMetricsMiddleware:
    """Pure ASGI middleware recording ``HttpMetrics`` for every request but the excluded handlers."""

    def __init__(self, app: ASGIApp, *, metrics: HttpMetrics, excluded: tuple[str, ...]) -> None:
        self._app = app
        self._metrics = metrics
        self._excluded = frozenset(excluded)
        # (method, path) -> template, for full matches of routes without parameters: bounded by the
        # app's routes, whatever paths clients send.
        self._static: dict[tuple[str, str], str] = {}

    def _handler(self, scope: Scope) -> str:
        key = (scope["method"], scope["path"])
        cached = self._static.get(key)
        if cached is not None:
            return cached
        routes: list[BaseRoute] = scope["app"].routes
        partial = None
        for route in routes:
            match, _ = route.matches(scope)
            if match is Match.FULL:
                template: str = getattr(route, "path", UNMATCHED_HANDLER)
                if template == scope["path"]:
                    self._static[key] = template
                return template
            if match is Match.PARTIAL and partial is None:
                partial = getattr(route, "path", None)
        return partial or UNMATCHED_HANDLER

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        handler = self._handler(scope)
        if handler in self._excluded:
            await self._app(scope, receive, send)
            return
        method = scope["method"]
        started = default_timer()
        status = 500
        response_size = 0

        async def send_recording(message: Message) -> None:
            nonlocal status, response_size
            if message["type"] == "http.response.start":
                status = message["status"]
                response_size = _content_length(message.get("headers", ()))
            await send(message)

        route = self._metrics.route(handler, method)
        route.inprogress.inc()
        try:
            await self._app(scope, receive, send_recording)
        finally:
            duration = max(default_timer() - started, 0.0)
            route.inprogress.dec()
            route.answered(status, _content_length(scope["headers"]), response_size, duration)


def instrument(app: FastAPI, registry: CollectorRegistry) -> None:
    """Record HTTP metrics for ``app`` in ``registry`` and serve them at /metrics."""
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    app.add_middleware(HttpMetricsMiddleware, metrics=HttpMetrics(registry), excluded=EXCLUDED_HANDLERS)

    @app.get(METRICS_PATH, include_in_schema=False)
    def metrics(_: Request) -> Response:
        """The registry in Prometheus's text format.

        A plain function, so Starlette runs it in its thread pool while the event loop goes on adding
        to the series. That is safe enough without a lock: each number is read in one step, atomic
        under the GIL, so no value is torn and no counter reads lower than at the last scrape; a
        scrape can catch one request half recorded (its counter and not yet its histogram), which
        Prometheus stores like any sample, each series on its own, and the next scrape makes whole
        (``house_price.plain_metrics`` says more).
        """
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
