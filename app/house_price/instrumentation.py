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
The unlabelled latency histogram, the sizes' counts and the in-progress gauge are not added to at
all: the scrape derives them from the labelled histogram, the request counters (which hold the same
counts) and each route's requests started (``_InProgress``).
"""

from bisect import bisect_left
from collections.abc import Awaitable, Iterable
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
from prometheus_client.metrics_core import Metric
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
FIRST_LATENCY_BOUND = LATENCY_BOUNDS[0]
# Content-Length values parsed so far, as sent (bytes) to their number, or 0 for a value that is not a
# number: a request's two look-ups cost 1,700 instructions less than checking and parsing each value
# (callgrind, the middleware around a trivial app). Clients send a few sizes over and over; bounded,
# whatever they send.
_LENGTHS: dict[bytes, int] = {}
LENGTHS_KEPT = 4096


def _length(value: bytes) -> int:
    """A Content-Length header's value as a number, 0 when it is not one; kept in ``_LENGTHS``."""
    length = int(value) if value.isdigit() else 0
    if len(_LENGTHS) < LENGTHS_KEPT:
        _LENGTHS[value] = length
    return length


class _ResponseStart:
    """One request's ``send``, keeping the first message, the response's start (status and headers, by
    the ASGI spec), and handing every message on to the server's ``send``: a plain method returning
    the server's awaitable, no coroutine of its own per message.

    Made with ``object.__new__`` and its two fields set after (``HttpMetricsMiddleware.__call__``): a
    Python ``__init__`` is one more frame a request, 480 instructions; a closure over the message and
    ``send`` (a function object and two cells a request) cost 1,140 more than this object."""

    __slots__ = ("message", "server_send")

    message: Message | None
    server_send: Send

    def send(self, message: Message) -> Awaitable[None]:
        if self.message is None:
            self.message = message
        return self.server_send(message)


_new = object.__new__


class _Route:
    """The series one (handler, method) adds to, looked up once and added to in place.

    A request adds one to ``started`` as it comes in, and ``finished`` records it in one call: its
    status class's counter, the sums of the two Content-Lengths, the labelled latency histogram.
    Everything else is derived from those at the scrape (``_SummedHistogram``, ``_SizeSummary``,
    ``_InProgress``): each addition a request makes costs about 350 instructions. Around a trivial app
    the middleware costs 13,700 instructions a request (callgrind; 20,400 when a request added to all
    nine series through a closure over ``send``), in a request whose model answers in microseconds.
    """

    __slots__ = ("_handler", "_method", "_metrics", "_requests", "latency", "sizes", "started")

    def __init__(self, metrics: "HttpMetrics", handler: str, method: str) -> None:
        self._metrics = metrics
        self._handler = handler
        self._method = method
        # Requests started; those answered are in ``_requests``, and the in-progress gauge is the difference
        # (``_InProgress``).
        self.started = 0
        self.latency = metrics.latency.labels(method, handler)
        if self.latency.bounds != LATENCY_BOUNDS:
            raise ValueError("the latency histogram must have LATENCY_BUCKETS")
        self.sizes = (metrics.request_size.labels(handler), metrics.response_size.labels(handler))
        # By status code: the counter of its class (2xx...), created with the class's first answer.
        self._requests: dict[int, CounterSeries] = {}

    def finished(self, start: Message | None, request_headers: Iterable[tuple[bytes, bytes]], seconds: float) -> None:
        """Record one request of ``seconds``, ``start`` its response's start message (None: no response,
        which the server answers 500): counted as answered, it is no longer in progress."""
        if start is None:
            status, response_headers = 500, ()
        else:
            status, response_headers = start["status"], start.get("headers", ())
        requests = self._requests.get(status)
        if requests is None:
            requests = self._requests[status] = self._metrics.requests.labels(
                self._method, f"{status // 100}xx", self._handler
            )
        requests.value += 1
        request_size, response_size = self.sizes
        # The Content-Length headers, 0 without one (or with one that is not a number). ASGI servers and
        # Starlette give header names in lower case (Starlette's own Headers relies on it). The two
        # loops are written out rather than calling one helper twice: the two calls cost 770
        # instructions a request (callgrind, middleware around a trivial app). A value of 0 (kept as
        # 0, so falsy) is parsed again each time: correct, and rarer than a branch is worth.
        lengths = _LENGTHS
        for name, value in request_headers:
            if name == b"content-length":
                request_size.sum += lengths.get(value) or _length(value)
                break
        for name, value in response_headers:
            if name == b"content-length":
                response_size.sum += lengths.get(value) or _length(value)
                break
        latency = self.latency
        # Most requests fall in the first bucket: one float comparison instead of a bisection (which
        # compares through the generic path, about 500 instructions more).
        latency.counts[0 if seconds <= FIRST_LATENCY_BOUND else bisect_left(LATENCY_BOUNDS, seconds)] += 1
        latency.sum += seconds

    def answered(self) -> float:
        """The requests recorded (``finished``), whatever their status."""
        return sum(series.value for series in self._requests.copy().values())


class _InProgress(Gauge):
    """``http_requests_inprogress`` by handler and method: at each scrape, each route's requests started
    less those answered. A request adds to its route's ``started`` and, answered, to its status's
    counter, which it does anyway: the gauge costs it nothing more (its own addition and subtraction
    cost 390 instructions a request)."""

    def __init__(
        self, name: str, documentation: str, *, routes: dict[tuple[str, str], _Route], registry: CollectorRegistry
    ) -> None:
        self._routes = routes
        super().__init__(name, documentation, ["handler", "method"], registry=registry)

    def collect(self) -> Iterable[Metric]:
        for (handler, method), route in self._routes.copy().items():
            # Answered first: a request counts as started before it counts as answered, so the later
            # read of ``started`` is never below it, whatever the event loop records meanwhile.
            answered = route.answered()
            self.labels(handler, method).value = route.started - answered
        return super().collect()


class _SummedHistogram(Histogram):
    """A histogram without labels whose one series is, at each scrape, the sum of ``of``'s series.

    ``http_request_duration_highr_seconds`` counts the same requests in the same buckets as
    ``http_request_duration_seconds`` summed over its labels, so the requests add to the latter only.
    """

    def __init__(self, name: str, documentation: str, *, of: Histogram, registry: CollectorRegistry) -> None:
        self._of = of
        super().__init__(name, documentation, buckets=LATENCY_BUCKETS, registry=registry)

    def collect(self) -> Iterable[Metric]:
        total = self._only()
        counts = [0] * len(total.bounds)
        summed = 0.0
        for _, series in self._of.series():
            for bucket, count in enumerate(series.counts):
                counts[bucket] += count
            summed += series.sum
        total.counts, total.sum = counts, summed
        return super().collect()


class _SizeSummary(Summary):
    """A summary by ``handler`` whose counts are, at each scrape, the handler's requests in ``requests``
    (a counter with a ``handler`` label): every request observes one size, so the requests add to the
    sums only."""

    def __init__(self, name: str, documentation: str, *, requests: Counter, registry: CollectorRegistry) -> None:
        self._requests = requests
        super().__init__(name, documentation, ["handler"], registry=registry)

    def collect(self) -> Iterable[Metric]:
        handler = self._requests.labelnames.index("handler")
        answered: dict[str, float] = {}
        for labels, series in self._requests.series():
            answered[labels[handler]] = answered.get(labels[handler], 0.0) + series.value
        for (name,), series in self.series():
            series.count = answered.get(name, 0.0)
        return super().collect()


class HttpMetrics:
    """The HTTP series, registered in one registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "http_requests_total",
            "Total number of requests by method, status and handler.",
            ["method", "status", "handler"],
            registry=registry,
        )
        # The exposition keeps prometheus-fastapi-instrumentator's order: the derived series are
        # registered before the ones they are derived from, which they read when collected.
        latency = Histogram(
            "http_request_duration_seconds",
            "Latency with only few buckets by handler. Made to be only used if aggregation by handler is important. ",
            ["method", "handler"],
            buckets=LATENCY_BUCKETS,
        )
        self.request_size = _SizeSummary(
            "http_request_size_bytes",
            "Content length of incoming requests by handler. Only value of header is respected. Otherwise "
            "ignored. No percentile calculated. ",
            requests=self.requests,
            registry=registry,
        )
        self.response_size = _SizeSummary(
            "http_response_size_bytes",
            "Content length of outgoing responses by handler. Only value of header is respected. Otherwise "
            "ignored. No percentile calculated. ",
            requests=self.requests,
            registry=registry,
        )
        self.latency_highr = _SummedHistogram(
            "http_request_duration_highr_seconds",
            "Latency with many buckets but no API specific labels. Made for more accurate percentile calculations. ",
            of=latency,
            registry=registry,
        )
        registry.register(latency)
        self.latency = latency
        self._routes: dict[tuple[str, str], _Route] = {}
        self.inprogress = _InProgress(
            "http_requests_inprogress",
            "HTTP requests being served, by handler and method.",
            routes=self._routes,
            registry=registry,
        )

    def route(self, handler: str, method: str) -> _Route:
        key = (handler, method)
        found = self._routes.get(key)
        if found is None:
            found = self._routes[key] = _Route(self, handler, method)
        return found


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
        response = _new(_ResponseStart)
        response.message = None
        response.server_send = send
        route.started += 1
        started = default_timer()
        try:
            await self._app(scope, receive, response.send)
        finally:
            # A monotonic clock: never negative.
            route.finished(response.message, scope["headers"], default_timer() - started)


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
