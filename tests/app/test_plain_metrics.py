"""The service's metrics kept as plain numbers export what prometheus_client's own classes exported.

The dashboards and alerts read these series by name, type, label and bucket: the same recordings
through ``house_price.plain_metrics`` and through prometheus_client must give the same scrape, but
for the ``_created`` timestamps (when each series was first seen).
"""

import re
from collections.abc import Callable
from typing import TypeVar

import prometheus_client
import pytest
from house_price import instrumentation, metrics, plain_metrics
from house_price.encoding import encode
from house_price.runtime import ServingModel
from house_price.validation import ERROR_FIELDS
from prometheus_client import CollectorRegistry, generate_latest

from tests.app.conftest import VALID_HOUSE

T = TypeVar("T")

CREATED_VALUE = re.compile(r"^(\w+_created(?:\{[^}]*\})?) \S+$", re.MULTILINE)


def _record(library: object, registry: CollectorRegistry) -> None:
    """One set of recordings covering what the service does, through ``library``'s classes."""
    counter = library.Counter("requests_total", "Requests.", ["method", "status"], registry=registry)
    counter.labels("POST", "2xx").inc()
    counter.labels("POST", "2xx").inc(2.5)
    counter.labels("GET", "4xx")
    library.Counter("plain", "No labels.", registry=registry).inc(3)
    gauge = library.Gauge("info", "Info.", ["version"], registry=registry)
    gauge.labels("old").set(1)
    gauge.clear()
    gauge.labels("new").set(1)
    inprogress = library.Gauge("inprogress", "In progress.", ["handler"], registry=registry)
    inprogress.labels("/a").inc()
    inprogress.labels("/a").inc()
    inprogress.labels("/a").dec()
    summary = library.Summary("size_bytes", "Sizes.", ["handler"], registry=registry)
    summary.labels("/a").observe(120)
    summary.labels("/a").observe(0)
    summary.labels("/b")
    histogram = library.Histogram("latency_seconds", "Latency.", ["handler"], registry=registry, buckets=(0.1, 1, 5))
    for value in (0.0, 0.05, 0.1, 0.10001, 1.0, 4.9, 5.0, 7.5, 1e9):
        histogram.labels("/a").observe(value)
    histogram.labels("/b")
    library.Histogram("batch", "Batch sizes.", registry=registry, buckets=(1, 2, 5)).observe(2)


def _without_created_values(exposition: bytes) -> str:
    return CREATED_VALUE.sub(r"\1 <created>", exposition.decode())


def test_plain_metrics_expose_what_prometheus_client_exposes() -> None:
    theirs, ours = CollectorRegistry(), CollectorRegistry()
    _record(prometheus_client, theirs)
    _record(plain_metrics, ours)
    expected = _without_created_values(generate_latest(theirs))
    assert "_created" in expected
    assert _without_created_values(generate_latest(ours)) == expected


def test_a_name_registered_twice_is_refused_as_prometheus_client_refuses_it() -> None:
    registry = CollectorRegistry()
    plain_metrics.Counter("requests_total", "Requests.", registry=registry)
    with pytest.raises(ValueError, match="Duplicated timeseries"):
        prometheus_client.Counter("requests", "Requests again.", registry=registry)


def test_a_series_is_asked_for_by_all_its_labels() -> None:
    counter = plain_metrics.Counter("requests", "Requests.", ["method", "status"])
    with pytest.raises(ValueError, match="takes labels"):
        counter.labels("POST")
    with pytest.raises(ValueError, match="counters only go up"):
        counter.labels("POST", "2xx").inc(-1)


# (handler, method, status, request bytes, response bytes, seconds): one bucket bound, one beyond the last.
HTTP_EVENTS = (
    ("/predict", "POST", 200, 120, 60, 0.003),
    ("/predict", "POST", 200, 118, 61, 0.005),
    ("/predict", "POST", 422, 90, 300, 0.0001),
    ("/batch-predict", "POST", 200, 5_000, 900, 0.2),
    ("/predict", "GET", 405, 0, 31, 0.00001),
    ("none", "GET", 404, 0, 22, 7.0),
)


def _with_prometheus_client(monkeypatch: pytest.MonkeyPatch, module: object, build: Callable[[], T]) -> T:
    """``build()`` with ``module``'s metric classes replaced by prometheus_client's."""
    with monkeypatch.context() as patched:
        for name in ("Counter", "Gauge", "Histogram", "Summary"):
            if hasattr(module, name):
                patched.setattr(module, name, getattr(prometheus_client, name))
        return build()


def test_the_http_series_added_to_in_place_scrape_as_prometheus_client_records_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The middleware adds to the plain numbers directly (``_Route``), the unlabelled latency histogram
    and the sizes' counts derived at the scrape; prometheus_client's classes, given the same requests
    through their own methods, must scrape the same, ``_created`` aside."""
    ours = CollectorRegistry()
    metrics = instrumentation.HttpMetrics(ours)
    for handler, method, status, sent, answered, seconds in HTTP_EVENTS:
        route = metrics.route(handler, method)
        route.started += 1
        request_headers = [(b"host", b"x"), (b"content-length", str(sent).encode())] if sent else []
        start = {"type": "http.response.start", "status": status, "headers": [(b"content-length", b"%d" % answered)]}
        route.finished(start, request_headers, seconds)
    metrics.route("/predict", "POST").started += 1  # one request still being served

    theirs = CollectorRegistry()
    with monkeypatch.context() as patched:  # the derived series, recorded one by one below
        patched.setattr(
            instrumentation,
            "_SummedHistogram",
            lambda name, documentation, of, registry: prometheus_client.Histogram(
                name, documentation, buckets=instrumentation.LATENCY_BUCKETS, registry=registry
            ),
        )
        patched.setattr(
            instrumentation,
            "_InProgress",
            lambda name, documentation, routes, registry: prometheus_client.Gauge(
                name, documentation, ["handler", "method"], registry=registry
            ),
        )
        patched.setattr(
            instrumentation,
            "_SizeSummary",
            lambda name, documentation, requests, registry: prometheus_client.Summary(
                name, documentation, ["handler"], registry=registry
            ),
        )
        reference = _with_prometheus_client(monkeypatch, instrumentation, lambda: instrumentation.HttpMetrics(theirs))
    for handler, method, status, sent, answered, seconds in HTTP_EVENTS:
        reference.inprogress.labels(handler, method)
        reference.latency.labels(method, handler).observe(seconds)
        reference.request_size.labels(handler).observe(sent)
        reference.response_size.labels(handler).observe(answered)
        reference.latency_highr.observe(seconds)
        reference.requests.labels(method, f"{status // 100}xx", handler).inc()
    reference.inprogress.labels("/predict", "POST").inc()

    expected = _without_created_values(generate_latest(theirs))
    assert 'http_requests_total{handler="none",method="GET",status="4xx"} 1.0' in expected
    assert _without_created_values(generate_latest(ours)) == expected


def test_the_model_series_added_to_in_place_scrape_as_prometheus_client_records_them(
    monkeypatch: pytest.MonkeyPatch, served: ServingModel
) -> None:
    """``ModelMetrics.priced`` adds to the plain numbers directly, and the prices through the drift
    counts' binning at the scrape (a call of three houses is held); prometheus_client's classes, given
    the same model calls through their own methods, must scrape the same, ``_created`` aside."""
    handlers = ("/predict", "/batch-predict")
    version = served.metadata.version
    calls = (
        ("/predict", 0.0004, [VALID_HOUSE], [250_000.0]),  # on a bucket bound
        ("/batch-predict", 0.003, [VALID_HOUSE] * 3, [120_000.5, 7_500_000.0, 310_000.25]),
        ("/predict", 2.5, [VALID_HOUSE], [99_999.99]),
    )
    ours = CollectorRegistry()
    recorded = metrics.ModelMetrics(ours, handlers, ERROR_FIELDS)
    recorded.model_loaded(served.metadata)
    for handler, seconds, houses, prices in calls:
        recorded.priced(handler, version, seconds, encode(houses), prices)

    theirs = CollectorRegistry()
    reference = _with_prometheus_client(
        monkeypatch, metrics, lambda: metrics.ModelMetrics(theirs, handlers, ERROR_FIELDS)
    )
    reference.model_loaded(served.metadata)
    # The reference's prices go to prometheus_client's histogram through its own observe, below; its
    # drift counts bin only the features.
    reference._drift.model_loaded(served.metadata)
    for handler, seconds, houses, prices in calls:
        reference._inference.labels(handler).observe(seconds)
        reference._predictions.labels(version, handler).inc(len(prices))
        for price in prices:
            reference._prices.labels(version).observe(price)
        reference._drift.observe(encode(houses), prices)

    expected = _without_created_values(generate_latest(theirs))
    assert f'house_price_predictions_total{{handler="/batch-predict",model_version="{version}"}} 3.0' in expected
    assert _without_created_values(generate_latest(ours)) == expected
