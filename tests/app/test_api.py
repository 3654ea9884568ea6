"""The HTTP service: predictions, validation, probes, CORS and metrics.

Real HTTP against a real uvicorn serving ``create_app(settings)`` in a background thread, so each
test can choose its settings and model loader.
"""

import threading
from datetime import UTC, datetime
from pathlib import Path

import httpx
import opentelemetry._logs
import opentelemetry.metrics
import opentelemetry.trace
import pytest
from house_price import runtime
from house_price.features import FEATURES
from house_price.metadata import ModelLoadError
from house_price.model import TrainedModel
from house_price.runtime import ServingModel, load
from prometheus_client.parser import text_string_to_metric_families

from tests.app.appserver import wait_until
from tests.app.conftest import TEST_VERSION, VALID_HOUSE, ServeApp


def samples(client: httpx.Client) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """The /metrics scrape as {(sample name, labels): value}."""
    response = client.get("/metrics")
    assert response.status_code == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(scrape: dict, name: str, **labels: str) -> float:
    return scrape.get((name, frozenset(labels.items())), 0.0)


def test_predict_prices_one_house(client: httpx.Client, trained: TrainedModel) -> None:
    response = client.post("/predict", json=VALID_HOUSE)
    assert response.status_code == 200
    body = response.json()
    assert body == {"price": pytest.approx(body["price"]), "model_version": TEST_VERSION}
    assert body["price"] == round(float(trained.predict([VALID_HOUSE])[0]), 2)


NEXT_YEAR = datetime.now(UTC).year + 1


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("sqft", 0),
        ("sqft", -120.5),
        ("sqft", 10**9),
        ("sqft", "big"),
        ("sqft", True),
        ("bedrooms", True),
        ("bedrooms", "3"),
        ("year_built", "1990"),
        ("bedrooms", -1),
        ("bedrooms", 2.5),
        ("bathrooms", 1.3),
        ("bathrooms", -1),
        ("location", "moon"),
        ("location", "URBAN"),
        ("year_built", 1700),
        ("year_built", NEXT_YEAR),
        ("condition", "Mint"),
        ("condition", "good"),
        ("condition", None),
    ],
)
def test_bad_input_is_422_naming_the_field(client: httpx.Client, field: str, bad: object) -> None:
    response = client.post("/predict", json={**VALID_HOUSE, field: bad})
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["body", field]]


def test_missing_field_is_422_naming_it(client: httpx.Client) -> None:
    house = {name: v for name, v in VALID_HOUSE.items() if name != "bathrooms"}
    response = client.post("/predict", json=house)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "bathrooms"]


def test_unknown_field_is_rejected(client: httpx.Client) -> None:
    response = client.post("/predict", json={**VALID_HOUSE, "garage": True})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "garage"]


def test_this_year_is_not_the_future(client: httpx.Client) -> None:
    house = {**VALID_HOUSE, "year_built": datetime.now(UTC).year}
    assert client.post("/predict", json=house).status_code == 200


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/predict", b"{not json"),
        ("/predict", b""),
        ("/predict", b"[]"),
        ("/predict", b"null"),
        ("/predict", b'"house"'),
        ("/predict", b'{"sqft": NaN}'),
        ("/batch-predict", b"{not json"),
        ("/batch-predict", b'{"houses": null}'),
        ("/batch-predict", b'{"houses": [null, 1, "x"]}'),
        ("/batch-predict", b'{"houses": {"sqft": 1}}'),
        ("/batch-predict", b"[1, 2]"),
    ],
)
def test_any_malformed_body_is_422_never_500(client: httpx.Client, path: str, body: bytes) -> None:
    response = client.post(path, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422


def test_batch_prices_every_house_in_order(client: httpx.Client, trained: TrainedModel) -> None:
    houses = [{**VALID_HOUSE, "sqft": sqft} for sqft in (2500, 900, 1800)]
    response = client.post("/batch-predict", json={"houses": houses})
    assert response.status_code == 200
    body = response.json()
    assert body["model_version"] == TEST_VERSION
    assert body["predictions"] == [round(float(p), 2) for p in trained.predict(houses)]
    assert body["predictions"][0] > body["predictions"][2] > body["predictions"][1]


def test_empty_batch_is_422(client: httpx.Client) -> None:
    response = client.post("/batch-predict", json={"houses": []})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "houses"]


def test_invalid_house_in_batch_is_422_naming_index_and_field(client: httpx.Client) -> None:
    houses = [VALID_HOUSE, {**VALID_HOUSE, "condition": "Mint"}]
    response = client.post("/batch-predict", json={"houses": houses})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "houses", 1, "condition"]


def test_batch_over_the_cap_is_413_naming_the_limit(serve: ServeApp) -> None:
    client = serve(max_batch_size=5)
    assert client.post("/batch-predict", json={"houses": [VALID_HOUSE] * 5}).status_code == 200
    response = client.post("/batch-predict", json={"houses": [VALID_HOUSE] * 6})
    assert response.status_code == 413
    assert "at most 5 houses" in response.json()["detail"]
    assert "MLMON_MAX_BATCH_SIZE" in response.json()["detail"]


def test_cap_is_checked_before_the_houses(serve: ServeApp) -> None:
    client = serve(max_batch_size=2)
    response = client.post("/batch-predict", json={"houses": [{"sqft": -1}] * 3})
    assert response.status_code == 413


def test_cap_is_documented_in_the_openapi_schema(serve: ServeApp) -> None:
    client = serve(max_batch_size=7)
    assert client.get("/docs").status_code == 200
    schema = client.get("/openapi.json").json()["components"]["schemas"]["BatchRequest"]
    assert schema["properties"]["houses"]["maxItems"] == 7


def test_ready_waits_for_the_model_while_health_answers(serve: ServeApp, model_path: Path) -> None:
    release = threading.Event()

    def slow_load(path: Path) -> ServingModel:
        release.wait(timeout=30)
        return load(path)

    client = serve(wait_ready=False, load_model=slow_load)
    try:
        assert client.get("/health").json() == {"status": "ok"}
        loading = client.get("/ready")
        assert (loading.status_code, loading.json()) == (503, {"status": "loading"})
        refused = client.post("/predict", json=VALID_HOUSE)
        assert refused.status_code == 503
        assert refused.headers["retry-after"]
    finally:
        release.set()
    wait_until(lambda: client.get("/ready").status_code == 200, 30, "the model to load")
    assert client.get("/ready").json() == {"status": "ready", "model_version": TEST_VERSION}
    assert client.post("/predict", json=VALID_HOUSE).status_code == 200


def test_failed_load_is_reported_by_ready(serve: ServeApp) -> None:
    def broken(path: Path) -> ServingModel:
        raise ModelLoadError(f"no model artefact at {path}")

    client = serve(wait_ready=False, load_model=broken)
    wait_until(lambda: client.get("/ready").json()["status"] != "loading", 30, "the load")
    response = client.get("/ready")
    assert response.status_code == 503
    assert response.json()["status"] == "failed"
    assert "no model artefact" in response.json()["detail"]
    assert client.get("/health").status_code == 200
    assert client.post("/predict", json=VALID_HOUSE).status_code == 503


def test_metrics_count_requests_predictions_and_errors(client: httpx.Client) -> None:
    client.post("/predict", json=VALID_HOUSE)
    client.post("/predict", json=VALID_HOUSE)
    client.post("/predict", json={**VALID_HOUSE, "sqft": -1, "condition": "Mint"})
    client.post("/predict", json={**VALID_HOUSE, "pool": True})
    client.post("/batch-predict", json={"houses": [VALID_HOUSE] * 3})
    client.get("/no-such-page/42")
    client.get("/health")

    scrape = samples(client)
    requests = "http_requests_total"
    assert value(scrape, requests, handler="/predict", method="POST", status="2xx") == 2
    assert value(scrape, requests, handler="/predict", method="POST", status="4xx") == 2
    assert value(scrape, requests, handler="/batch-predict", method="POST", status="2xx") == 1
    assert value(scrape, requests, handler="none", method="GET", status="4xx") == 1
    handlers = {dict(labels).get("handler") for name, labels in scrape if name == requests}
    assert not handlers & {"/health", "/ready", "/metrics"}

    predictions = "house_price_predictions_total"
    assert value(scrape, predictions, model_version=TEST_VERSION, handler="/predict") == 2
    assert value(scrape, predictions, model_version=TEST_VERSION, handler="/batch-predict") == 3
    assert value(scrape, "house_price_prediction_dollars_count", model_version=TEST_VERSION) == 5
    inference = "house_price_inference_duration_seconds_count"
    assert value(scrape, inference, handler="/batch-predict") == 1
    assert value(scrape, "house_price_batch_size_sum") == 3

    errors = "house_price_validation_errors_total"
    assert value(scrape, errors, field="sqft") == 1
    assert value(scrape, errors, field="condition") == 1
    assert value(scrape, errors, field="unknown_field") == 1
    assert not any(dict(labels).get("field") == "pool" for _, labels in scrape)

    info = [dict(labels) for name, labels in scrape if name == "house_price_model_info"]
    assert [i["version"] for i in info] == [TEST_VERSION]
    assert datetime.fromisoformat(info[0]["trained_at"]).tzinfo is not None
    inprogress = "http_requests_inprogress"
    assert (inprogress, frozenset({("handler", "/predict"), ("method", "POST")})) in scrape


def test_model_series_are_exported_at_zero_before_the_first_request(serve: ServeApp) -> None:
    """Known label values are exported at 0 once the model is loaded, so that a pod's first request
    already shows as an increase in rate() (a series born with its first sample shows none)."""
    scrape = samples(serve())
    # The http_* series, by contrast, appear with a pod's first request (verify relies on that).
    assert not any(name == "http_requests_total" for name, _ in scrape)
    for handler in ("/predict", "/batch-predict"):
        key = ("house_price_predictions_total", frozenset({("model_version", TEST_VERSION), ("handler", handler)}))
        assert scrape[key] == 0.0
        assert scrape[("house_price_inference_duration_seconds_count", frozenset({("handler", handler)}))] == 0.0
    assert scrape[("house_price_prediction_dollars_count", frozenset({("model_version", TEST_VERSION)}))] == 0.0
    fields = {dict(labels)["field"] for name, labels in scrape if name == "house_price_validation_errors_total"}
    assert fields == {*FEATURES, "houses", "unknown_field", "body"}
    assert all(scrape[("house_price_validation_errors_total", frozenset({("field", f)}))] == 0.0 for f in fields)


def test_http_series_carry_the_route_template_and_the_body_sizes(client: httpx.Client) -> None:
    """Real uvicorn in-process: a wrong method still counts under its route; sizes are the Content-Lengths."""
    sent = client.post("/predict", json=VALID_HOUSE)
    refused = client.get("/predict")
    assert refused.status_code == 405
    for path in ("/nowhere/1", "/nowhere/2"):
        client.get(path)

    scrape = samples(client)
    requests = "http_requests_total"
    assert value(scrape, requests, handler="/predict", method="GET", status="4xx") == 1
    assert value(scrape, requests, handler="none", method="GET", status="4xx") == 2
    assert value(scrape, "http_request_size_bytes_sum", handler="/predict") == len(sent.request.content)
    assert value(scrape, "http_response_size_bytes_sum", handler="/predict") == len(sent.content) + len(refused.content)
    assert value(scrape, "http_request_duration_highr_seconds_count") == 4
    assert value(scrape, "http_request_duration_seconds_count", handler="/predict", method="POST") == 1


def test_latency_buckets_resolve_5ms_to_2s(client: httpx.Client) -> None:
    client.post("/predict", json=VALID_HOUSE)
    buckets = {
        float(dict(labels)["le"]) for name, labels in samples(client) if name == "http_request_duration_seconds_bucket"
    }
    assert {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0} <= buckets


def test_each_app_has_its_own_registry(serve: ServeApp) -> None:
    first, second = serve(), serve()
    first.post("/predict", json=VALID_HOUSE)
    assert (
        value(
            samples(first),
            "house_price_predictions_total",
            model_version=TEST_VERSION,
            handler="/predict",
        )
        == 1
    )
    assert (
        value(
            samples(second),
            "house_price_predictions_total",
            model_version=TEST_VERSION,
            handler="/predict",
        )
        == 0
    )


def test_metrics_can_be_switched_off(serve: ServeApp) -> None:
    client = serve(metrics_enabled=False)
    assert client.post("/predict", json=VALID_HOUSE).status_code == 200
    assert client.post("/predict", json={"sqft": 0}).status_code == 422
    assert client.get("/metrics").status_code == 404


PREFLIGHT = {
    "access-control-request-method": "POST",
    "access-control-request-headers": "content-type",
}


def preflight(client: httpx.Client, origin: str) -> httpx.Response:
    return client.options("/predict", headers={"origin": origin, **PREFLIGHT})


def test_no_cors_without_configured_origins(client: httpx.Client) -> None:
    response = client.post("/predict", json=VALID_HOUSE, headers={"origin": "https://a.example"})
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-origin" not in preflight(client, "https://a.example").headers


def test_cors_allows_only_configured_origins(serve: ServeApp) -> None:
    client = serve(cors_origins=("https://a.example",), cors_allow_credentials=True)
    allowed = preflight(client, "https://a.example")
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://a.example"
    assert allowed.headers["access-control-allow-credentials"] == "true"
    denied = preflight(client, "https://evil.example")
    assert denied.headers.get("access-control-allow-origin") != "https://evil.example"
    response = client.post("/predict", json=VALID_HOUSE, headers={"origin": "https://a.example"})
    assert response.headers["access-control-allow-origin"] == "https://a.example"


def test_wildcard_cors_without_credentials(serve: ServeApp) -> None:
    client = serve(cors_origins=("*",))
    response = client.post("/predict", json=VALID_HOUSE, headers={"origin": "https://b.example"})
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers


def test_model_calls_use_model_threads(serve: ServeApp, monkeypatch: pytest.MonkeyPatch) -> None:
    """Real uvicorn in-process: MLMON_MODEL_THREADS reaches the ONNX Runtime session the service answers with."""
    loaded: list[ServingModel] = []

    def recording(path: Path, threads: int = 1) -> ServingModel:
        loaded.append(load(path, threads=threads))
        return loaded[-1]

    monkeypatch.setattr(runtime, "load", recording)
    assert serve(model_threads=3).post("/predict", json=VALID_HOUSE).status_code == 200
    assert [model.threads for model in loaded] == [3]


def test_requests_never_look_up_opentelemetry_providers(serve: ServeApp, monkeypatch: pytest.MonkeyPatch) -> None:
    """Real uvicorn in-process: FastAPI's OpenTelemetry hooks are off, so no request asks for the global
    providers (FastAPI 0.16x otherwise does on every request, 9 us of one /predict)."""
    client = serve()

    def asked() -> None:
        raise AssertionError("a request looked an OpenTelemetry provider up")

    for module, name in (
        (opentelemetry.trace, "get_tracer_provider"),
        (opentelemetry.metrics, "get_meter_provider"),
        (opentelemetry._logs, "get_logger_provider"),
    ):
        monkeypatch.setattr(module, name, asked)
    assert client.post("/predict", json=VALID_HOUSE).status_code == 200
    assert client.post("/predict", json={**VALID_HOUSE, "sqft": -1}).status_code == 422


def test_integral_json_numbers_are_integers_as_json_schema_says(client) -> None:
    """Real uvicorn in-process: 3.0 bedrooms is the integer 3 (schemathesis found the 422); 3.5 stays refused."""
    house = {"sqft": 1650, "bedrooms": 3.0, "bathrooms": 2, "location": "suburban", "year_built": 1998.0}
    assert client.post("/predict", json={**house, "condition": "Good"}).status_code == 200
    refused = client.post("/predict", json={**house, "bedrooms": 3.5, "condition": "Good"})
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"][-1] == "bedrooms"


def test_the_current_year_follows_the_clock_across_new_year(monkeypatch) -> None:
    """The cached year is left as soon as the clock leaves that year (column: real, no server)."""
    from house_price import schemas

    new_year = datetime(2031, 1, 1, tzinfo=UTC).timestamp()
    monkeypatch.setattr(schemas, "_this_year", (0, 0.0, 0.0))
    monkeypatch.setattr(schemas.time, "time", lambda: new_year - 1)
    monkeypatch.setattr(schemas, "datetime", _FixedDatetime.at(new_year - 1))
    assert schemas.current_year() == 2030
    monkeypatch.setattr(schemas.time, "time", lambda: new_year)
    monkeypatch.setattr(schemas, "datetime", _FixedDatetime.at(new_year))
    assert schemas.current_year() == 2031


class _FixedDatetime(datetime):
    """``datetime`` whose now() is a given timestamp."""

    moment = 0.0

    @classmethod
    def at(cls, timestamp: float) -> type["_FixedDatetime"]:
        return type("Fixed", (cls,), {"moment": timestamp})

    @classmethod
    def now(cls, tz=None):  # type: ignore[override]
        return datetime.fromtimestamp(cls.moment, tz)
