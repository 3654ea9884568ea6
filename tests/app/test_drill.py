"""The drill settings make a release answer worse on purpose, predictions only (real: uvicorn serving the app,
or a uvicorn subprocess for the start-up refusals)."""

import time

import pytest
from house_price.config import ConfigError, Settings
from prometheus_client.parser import text_string_to_metric_families

from tests.app.conftest import VALID_HOUSE, ServeApp
from tests.app.test_server import run_uvicorn


def test_unset_by_default() -> None:
    settings = Settings.from_env({"MLMON_DRILL_ERROR_RATIO": "", "MLMON_DRILL_LATENCY_SECONDS": " "})
    assert (settings.drill_error_ratio, settings.drill_latency_seconds) == (0.0, 0.0)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("MLMON_DRILL_ERROR_RATIO", "1.5"),
        ("MLMON_DRILL_ERROR_RATIO", "-0.1"),
        ("MLMON_DRILL_ERROR_RATIO", "nan"),
        ("MLMON_DRILL_ERROR_RATIO", "half"),
        ("MLMON_DRILL_LATENCY_SECONDS", "-1"),
        ("MLMON_DRILL_LATENCY_SECONDS", "inf"),
        ("MLMON_DRILL_LATENCY_SECONDS", "61"),
    ],
)
def test_bad_value_is_refused_naming_the_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({variable: value})
    assert variable in str(refused.value)


def test_bad_value_stops_the_service_at_start_up() -> None:
    finished = run_uvicorn({"MLMON_DRILL_ERROR_RATIO": "2"})
    assert finished.returncode != 0
    assert "MLMON_DRILL_ERROR_RATIO" in finished.stderr


def test_every_kth_prediction_fails_and_is_counted_as_5xx(serve: ServeApp) -> None:
    client = serve(drill_error_ratio=0.25)
    statuses = [client.post("/predict", json=VALID_HOUSE).status_code for _ in range(6)]
    statuses += [client.post("/batch-predict", json={"houses": [VALID_HOUSE]}).status_code for _ in range(2)]
    assert statuses == [200, 200, 200, 500, 200, 200, 200, 500]
    assert [client.get(path).status_code for path in ("/health", "/ready", "/metrics")] == [200, 200, 200]
    requests = {
        (sample.labels["handler"], sample.labels["status"]): sample.value
        for family in text_string_to_metric_families(client.get("/metrics").text)
        for sample in family.samples
        if sample.name == "http_requests_total"
    }
    assert requests[("/predict", "5xx")] == 1
    assert requests[("/batch-predict", "5xx")] == 1
    assert requests[("/predict", "2xx")] == 5


def test_exact_share_for_a_ratio_that_floats_round_down(serve: ServeApp) -> None:
    """0.29 * 100 is 28.999... in floats; the drill counts in decimals: 29 of 100."""
    client = serve(drill_error_ratio=0.29)
    failed = sum(client.post("/predict", json=VALID_HOUSE).status_code == 500 for _ in range(100))
    assert failed == 29


def test_latency_is_added_to_predictions_only(serve: ServeApp) -> None:
    client = serve(drill_latency_seconds=0.3)
    started = time.perf_counter()
    assert client.post("/predict", json=VALID_HOUSE).status_code == 200
    assert time.perf_counter() - started >= 0.3
    started = time.perf_counter()
    assert client.get("/ready").status_code == 200
    assert time.perf_counter() - started < 0.3
