"""``GET /metrics``: what Grafana exposes about itself for Prometheus, without authentication.

The series kube-prometheus-stack's Grafana ServiceMonitor and Grafana's own dashboards read, named
and labelled as Grafana's (pkg/infra/metrics, pkg/middleware/request_metrics.go):

* ``grafana_build_info{branch,edition,goversion,revision,version} 1``;
* ``grafana_http_request_duration_seconds`` histogram (buckets 5ms ... 25s) by ``handler`` (the
  route pattern with ``:name`` parameters, ``notfound`` for an unknown path), ``method``,
  ``status_code``, ``status_source`` (``server``) and ``slo_group`` (``high-fast``);
* ``grafana_http_request_in_flight``, and ``grafana_api_response_status_total`` /
  ``grafana_page_response_status_total`` by ``code`` (``200``, ``404``, ``500``, ``unknown``,
  every one present from the start).

Each request is counted once answered, so a scrape sees the requests before it (itself included
from the next scrape on), in the Prometheus text format 0.0.4.
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from dataclasses import dataclass, field

from aiohttp import web
from aiohttp.typedefs import Handler

GO_VERSION = "go1.24.6"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 25.0)
STATUS_CODES = ("200", "404", "500", "unknown")
STATUS_SOURCE = "server"
SLO_GROUP = "high-fast"
PARAMETER = re.compile(r"\{([^}:]+)(:[^}]*)?\}")
# (handler, method, slo_group, status_code, status_source): the histogram's labels, sorted by name.
Series = tuple[str, str, str, str, str]


def go_float(value: float) -> str:
    """A sample value as Go's strconv.FormatFloat(v, 'g', -1, 64) writes it."""
    if value == int(value) and abs(value) < 1e21:
        return str(int(value))
    return repr(value)


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _labels(pairs: list[tuple[str, str]]) -> str:
    return "{" + ",".join(f"{name}={_quote(value)}" for name, value in pairs) + "}"


@dataclass
class Histogram:
    counts: list[int] = field(default_factory=lambda: [0] * len(BUCKETS))
    total: int = 0
    sum: float = 0.0

    def observe(self, value: float) -> None:
        for index, bound in enumerate(BUCKETS):
            if value <= bound:
                self.counts[index] += 1
        self.total += 1
        self.sum += value


@dataclass
class RequestMetrics:
    """The counters of one Grafana process."""

    version: str
    revision: str
    durations: dict[Series, Histogram] = field(default_factory=lambda: defaultdict(Histogram))
    api_status: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUS_CODES, 0))
    page_status: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUS_CODES, 0))
    in_flight: int = 0

    def record(self, handler: str, method: str, status: int, path: str, seconds: float) -> None:
        self.durations[(handler, method, SLO_GROUP, str(status or 200), STATUS_SOURCE)].observe(seconds)
        code = str(status) if str(status) in STATUS_CODES else "unknown"
        (self.api_status if path.startswith("/api/") else self.page_status)[code] += 1

    def exposition(self) -> str:
        build = [("branch", "HEAD"), ("edition", "oss"), ("goversion", GO_VERSION),
                 ("revision", self.revision), ("version", self.version)]
        lines = [
            "# HELP grafana_api_response_status_total api http response status",
            "# TYPE grafana_api_response_status_total counter",
            *(f"grafana_api_response_status_total{_labels([('code', c)])} {n}" for c, n in self.api_status.items()),
            "# HELP grafana_build_info A metric with a constant '1' value labeled by version, revision, branch, "
            "and goversion from which Grafana was built",
            "# TYPE grafana_build_info gauge",
            f"grafana_build_info{_labels(build)} 1",
            "# HELP grafana_http_request_duration_seconds Histogram of latencies for HTTP requests.",
            "# TYPE grafana_http_request_duration_seconds histogram",
        ]
        names = ("handler", "method", "slo_group", "status_code", "status_source")
        for series in sorted(self.durations):
            histogram = self.durations[series]
            pairs = list(zip(names, series, strict=True))
            for bound, count in zip(BUCKETS, histogram.counts, strict=True):
                lines.append(f"grafana_http_request_duration_seconds_bucket"
                             f"{_labels([*pairs, ('le', go_float(bound))])} {count}")
            lines.append(f"grafana_http_request_duration_seconds_bucket"
                         f"{_labels([*pairs, ('le', '+Inf')])} {histogram.total}")
            lines.append(f"grafana_http_request_duration_seconds_sum{_labels(pairs)} {go_float(histogram.sum)}")
            lines.append(f"grafana_http_request_duration_seconds_count{_labels(pairs)} {histogram.total}")
        lines += [
            "# HELP grafana_http_request_in_flight A gauge of requests currently being served by Grafana.",
            "# TYPE grafana_http_request_in_flight gauge",
            f"grafana_http_request_in_flight {self.in_flight}",
            "# HELP grafana_page_response_status_total page http response status",
            "# TYPE grafana_page_response_status_total counter",
            *(f"grafana_page_response_status_total{_labels([('code', c)])} {n}"
              for c, n in self.page_status.items()),
        ]
        return "\n".join(lines) + "\n"


METRICS = web.AppKey("metrics", RequestMetrics)


def handler_name(request: web.Request, status: int) -> str:
    """The ``handler`` label: the matched route's pattern in Grafana's ``:name`` form."""
    route = request.match_info.route
    if request.match_info.http_exception is None and route.resource is not None:
        return PARAMETER.sub(lambda m: ":" + m.group(1), route.resource.canonical)
    return "notfound" if status == 404 else "unknown"


@web.middleware
async def instrument(request: web.Request, handler: Handler) -> web.StreamResponse:
    """RequestMetrics: time every request and count it by handler, method and status."""
    metrics = request.app[METRICS]
    started = time.perf_counter()
    metrics.in_flight += 1
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    finally:
        metrics.in_flight -= 1
        metrics.record(handler_name(request, status), request.method, status, request.path,
                       time.perf_counter() - started)


async def serve_metrics(request: web.Request) -> web.Response:
    return web.Response(text=request.app[METRICS].exposition(), headers={"Content-Type": CONTENT_TYPE})
