"""The service's metrics kept as plain numbers export what prometheus_client's own classes exported.

The dashboards and alerts read these series by name, type, label and bucket: the same recordings
through ``house_price.plain_metrics`` and through prometheus_client must give the same scrape, but
for the ``_created`` timestamps (when each series was first seen).
"""

import re

import httpx
import prometheus_client
import pytest
from house_price import instrumentation, metrics, plain_metrics
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from tests.app.conftest import VALID_HOUSE, ServeApp

CREATED_VALUE = re.compile(r"^(\w+_created(?:\{[^}]*\})?) \S+$", re.MULTILINE)
# Samples whose values are request durations: two apps never time their requests alike.
TIMED = ("http_request_duration_seconds", "http_request_duration_highr_seconds", "house_price_inference_duration")


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


def _families(client: httpx.Client) -> dict[str, tuple[str, str, dict]]:
    """The service's own families: {name: (type, help, {(sample, labels): value})}, durations' values left out."""
    families = {}
    for family in text_string_to_metric_families(client.get("/metrics").text):
        if not family.name.startswith(("http_", "house_price_")):
            continue
        samples = {}
        for sample in family.samples:
            timed = family.name.startswith(TIMED) and not sample.name.endswith("_count")
            kept = None if timed or sample.name.endswith("_created") else sample.value
            samples[sample.name, frozenset(sample.labels.items())] = kept
        families[family.name] = (family.type, family.documentation, samples)
    return families


def _requests(client: httpx.Client) -> None:
    client.post("/predict", json=VALID_HOUSE)
    client.post("/predict", json=VALID_HOUSE)
    client.post("/predict", json={**VALID_HOUSE, "sqft": -1, "condition": "Mint"})
    client.post("/batch-predict", json={"houses": [VALID_HOUSE] * 3})
    client.post("/batch-predict", json={"houses": []})
    client.get("/predict")
    client.get("/nowhere/1")
    client.get("/health")
    client.get("/ready")


def test_the_service_scrapes_as_it_did_with_prometheus_client(serve: ServeApp, monkeypatch: pytest.MonkeyPatch) -> None:
    """Real uvicorn in-process: the same requests to the service built on prometheus_client's classes and
    to the service as it is give the same families, series and values (durations only counted)."""
    with monkeypatch.context() as patched:
        for module in (instrumentation, metrics):
            for name in ("Counter", "Gauge", "Histogram", "Summary"):
                if hasattr(module, name):
                    patched.setattr(module, name, getattr(prometheus_client, name))
        before = serve()
    after = serve()
    for client in (before, after):
        _requests(client)
    expected = _families(before)
    assert {"http_requests", "http_request_duration_seconds", "house_price_predictions"} <= set(expected)
    assert _families(after) == expected
