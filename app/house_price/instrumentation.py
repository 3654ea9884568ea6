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
model once the model answers in microseconds. This middleware finds a request's series with one
look-up, from a cache of the app's static routes (``(method, path)`` to the route's series), and
adds to them in place (``_Route``).

The series are plain Python numbers (``house_price.plain_metrics``), added to on the event loop and
read by the scrape: prometheus_client's own classes take a lock for every value they add to, ten
times a request here, which nothing needs since every request is recorded on the loop's one thread.
"""

from bisect import bisect_left
from collections.abc import Iterable
from math import inf
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
_UNRESOLVED = object()
# The histograms' upper bounds with +Inf, as their series keep them.
LATENCY_BOUNDS: tuple[float, ...] = (*LATENCY_BUCKETS, inf)


class _Route:
    """The series one (handler, method) adds to, looked up once and added to in place.

    The middleware adds to the plain numbers of ``house_price.plain_metrics`` directly rather than
    through ``inc`` and ``observe``, and the two latency histograms, which share their buckets, share
    one bucket search. With the start message kept and read once, the middleware around a trivial
    app went from 2.9 to 2.4 us a request (callgrind: 24,800 to 20,900 instructions), in a request
    whose model now answers in microseconds.
    """

    __slots__ = ("_handler", "_method", "_metrics", "_requests", "highr", "inprogress", "latency", "sizes")

    def __init__(self, metrics: "HttpMetrics", handler: str, method: str) -> None:
        self._metrics = metrics
        self._handler = handler
        self._method = method
        self.inprogress = metrics.inprogress.labels(handler, method)
        self.latency = metrics.latency.labels(method, handler)
        self.highr = metrics.latency_highr.labels()
        self.sizes = (metrics.request_size.labels(handler), metrics.response_size.labels(handler))
        if self.latency.bounds != LATENCY_BOUNDS or self.highr.bounds != LATENCY_BOUNDS:
            raise ValueError("the latency histograms must have LATENCY_BUCKETS: they share one bucket search")
        # By status class (2 for 2xx): a class's series is created with its first answer.
        self._requests: dict[int, CounterSeries] = {}

    def answered(self, status: int, request_bytes: int, response_bytes: int, seconds: float) -> None:
        """Record one finished request (the in-progress gauge is the caller's)."""
        status_class = status // 100
        requests = self._requests.get(status_class)
        if requests is None:
            requests = self._requests[status_class] = self._metrics.requests.labels(
                self._method, f"{status_class}xx", self._handler
            )
        requests.value += 1
        request_size, response_size = self.sizes
        request_size.count += 1
        request_size.sum += request_bytes
        response_size.count += 1
        response_size.sum += response_bytes
        bucket = bisect_left(LATENCY_BOUNDS, seconds)
        latency, highr = self.latency, self.highr
        latency.counts[bucket] += 1
        latency.sum += seconds
        highr.counts[bucket] += 1
        highr.sum += seconds


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
    # ASGI servers and Starlette give header names in lower case (Starlette's own Headers relies on it).
    for name, value in headers:
        if name == b"content-length":
            return int(value) if value.isdigit() else 0
    return 0


class HttpMetricsMiddleware:
    """Pure ASGI middleware recording ``HttpMetrics`` for every request but the excluded handlers."""

    def __init__(self, app: ASGIApp, *, metrics: HttpMetrics, excluded: tuple[str, ...]) -> None:
        self._app = app
        self._metrics = metrics
        self._excluded = frozenset(excluded)
        # (method, path) -> the route's series (None: an excluded handler), for full matches of routes
        # without parameters: one look-up a request, bounded by the app's routes whatever paths
        # clients send.
        self._static: dict[tuple[str, str], _Route | None] = {}

    def _handler(self, scope: Scope) -> tuple[str, bool]:
        """The route template matching the request, and whether it is the path itself (no parameters)."""
        routes: list[BaseRoute] = scope["app"].routes
        partial = None
        for route in routes:
            match, _ = route.matches(scope)
            if match is Match.FULL:
                template: str = getattr(route, "path", UNMATCHED_HANDLER)
                return template, template == scope["path"]
            if match is Match.PARTIAL and partial is None:
                partial = getattr(route, "path", None)
        return partial or UNMATCHED_HANDLER, False

    def _route(self, scope: Scope) -> _Route | None:
        """The series of the request's handler and method; None when the handler is excluded."""
        key = (scope["method"], scope["path"])
        handler, static = self._handler(scope)
        route = None if handler in self._excluded else self._metrics.route(handler, scope["method"])
        if static:
            self._static[key] = route
        return route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        route = self._static.get((scope["method"], scope["path"]), _UNRESOLVED)
        if route is _UNRESOLVED:
            route = self._route(scope)
        if route is None:
            await self._app(scope, receive, send)
            return
        started = default_timer()
        start: Message | None = None

        async def send_recording(message: Message) -> None:
            # The first message of a response is its start (status and headers), by the ASGI spec.
            nonlocal start
            if start is None:
                start = message
            await send(message)

        inprogress = route.inprogress
        inprogress.value += 1
        try:
            await self._app(scope, receive, send_recording)
        finally:
            duration = default_timer() - started  # a monotonic clock: never negative
            inprogress.value -= 1
            if start is None:  # no response: the server answers 500
                route.answered(500, _content_length(scope["headers"]), 0, duration)
            else:
                route.answered(
                    start["status"],
                    _content_length(scope["headers"]),
                    _content_length(start.get("headers", ())),
                    duration,
                )


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
