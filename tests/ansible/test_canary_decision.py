"""What the canary analysis decides from the numbers Prometheus gives (mlmon.monitoring.canary_analysis).

Column: real (pure functions of the module_utils the module runs; the queries run against a real Prometheus in
tests/observability/test_canary_analysis.py, the module on kind in the role).
"""

from __future__ import annotations

import math

import pytest

from plugins.module_utils.canary_analysis import (
    ABORT,
    FAIL,
    INCONCLUSIVE,
    PASS,
    PROMOTE,
    SKIPPED,
    Settings,
    Side,
    judge,
    psi,
    queries,
    run,
)

SETTINGS = Settings(namespace="house-price", job="model", window=60)
GOOD = Side(requests=200, errors=0, p95=0.02)
STABLE = Side(requests=400, errors=0, p95=0.02)


def outcomes(canary: Side, stable: Side = STABLE, settings: Settings = SETTINGS) -> dict[str, str]:
    return {check.name: check.outcome for check in judge(canary, stable, settings).checks}


def test_a_good_canary_passes_every_check_and_skips_the_drift_it_cannot_see() -> None:
    analysis = judge(GOOD, STABLE, SETTINGS)
    assert analysis.outcome == PASS
    assert outcomes(GOOD) == {
        "5xx ratio": PASS,
        "5xx ratio vs stable": PASS,
        "p95 latency": PASS,
        "p95 latency vs stable": PASS,
        "prediction PSI vs stable": SKIPPED,
    }
    drift = analysis.checks[-1]
    assert "no drift series" in drift.note


@pytest.mark.parametrize(
    ("canary", "stable", "failing", "observed", "threshold"),
    [
        (Side(200, 4, 0.02), STABLE, "5xx ratio", 0.02, 0.01),
        # Within the absolute bound, beyond the stable's 0.002 plus the 0.005 margin.
        (Side(200, 2, 0.02), Side(1000, 2, 0.02), "5xx ratio vs stable", 0.01, 0.007),
        (Side(200, 0, 0.8), STABLE, "p95 latency", 0.8, 0.5),
        (Side(200, 0, 0.1), STABLE, "p95 latency vs stable", 0.1, 0.04),
    ],
)
def test_each_check_fails_on_its_own(
    canary: Side, stable: Side, failing: str, observed: float, threshold: float
) -> None:
    analysis = judge(canary, stable, SETTINGS)
    assert analysis.outcome == FAIL
    failed = [check for check in analysis.checks if check.outcome == FAIL]
    assert failed[0].name == failing
    assert failed[0].observed == pytest.approx(observed)
    assert failed[0].threshold == pytest.approx(threshold)


def test_too_few_canary_requests_is_no_verdict_even_when_every_one_failed() -> None:
    analysis = judge(Side(requests=10, errors=10, p95=0.02), STABLE, SETTINGS)
    assert analysis.outcome == INCONCLUSIVE
    assert {c.outcome for c in analysis.checks[:4]} == {INCONCLUSIVE}
    assert "the canary served 10 requests, fewer than 50" in analysis.checks[0].note


def test_too_few_stable_requests_leaves_the_relative_checks_undecided() -> None:
    found = outcomes(GOOD, Side(requests=5, errors=0, p95=0.02))
    assert found["5xx ratio"] == PASS
    assert found["5xx ratio vs stable"] == INCONCLUSIVE
    assert found["p95 latency vs stable"] == INCONCLUSIVE


def test_the_relative_p95_bound_allows_the_histograms_resolution_at_small_latencies() -> None:
    """Stable at 4 ms, canary at 9 ms: 1.5 x 4 ms alone would abort a good canary on noise in the first buckets."""
    assert outcomes(Side(200, 0, 0.009), Side(400, 0, 0.004))["p95 latency vs stable"] == PASS


def test_no_prediction_in_the_window_leaves_the_latency_checks_undecided() -> None:
    found = outcomes(Side(200, 0, None))
    assert found["p95 latency"] == INCONCLUSIVE
    assert found["5xx ratio"] == PASS


BINS = {"00: <1e+05": 100.0, "01: 1e+05-2e+05": 200.0, "02: >=2e+05": 100.0}


def test_psi_of_equal_distributions_is_zero_and_grows_with_the_shift() -> None:
    assert psi(BINS, {k: v * 3 for k, v in BINS.items()}) == pytest.approx(0.0)
    shifted = {"00: <1e+05": 20.0, "01: 1e+05-2e+05": 180.0, "02: >=2e+05": 200.0}
    expected = sum(
        (live - ref) * math.log(live / ref) for live, ref in [(0.05, 0.25), (0.45, 0.5), (0.5, 0.25)]
    )
    assert psi(shifted, BINS) == pytest.approx(expected)
    empty_bin = (1 - 0.5) * math.log(2) + (0.0001 - 0.5) * math.log(0.0001 / 0.5)
    assert psi({"a": 10.0, "b": 0.0}, {"a": 5.0, "b": 5.0}) == pytest.approx(empty_bin)


def test_the_prediction_check_compares_the_distributions_once_both_sides_saw_enough() -> None:
    shifted = {"00: <1e+05": 20.0, "01: 1e+05-2e+05": 180.0, "02: >=2e+05": 200.0}
    bins = lambda counts: Side(200, 0, 0.02, counts)  # noqa: E731  # a Side with the given bins
    assert outcomes(bins(BINS), bins(BINS))["prediction PSI vs stable"] == PASS
    assert outcomes(bins(shifted), bins(BINS))["prediction PSI vs stable"] == FAIL
    few = {k: v / 10 for k, v in BINS.items()}
    assert outcomes(bins(few), bins(BINS))["prediction PSI vs stable"] == INCONCLUSIVE
    other = {"00: <9e+04": 400.0}
    assert outcomes(bins(other), bins(BINS))["prediction PSI vs stable"] == SKIPPED
    off = Settings(namespace="house-price", job="model", window=60, prediction_drift=False)
    assert outcomes(bins(shifted), bins(BINS), off)["prediction PSI vs stable"] == SKIPPED


def test_queries_select_the_canary_by_its_track_and_the_stable_by_its_absence() -> None:
    canary = queries(SETTINGS, "canary", 120)
    stable = queries(SETTINGS, "stable", 120)
    assert 'namespace="house-price", job="model", track="canary"' in canary["requests"]
    assert 'track!="canary"' in stable["requests"]
    assert '[60s]' in canary["p95"] and 'handler=~"/predict|/batch-predict"' in canary["p95"]
    assert 'status="5xx"' in canary["errors"]
    assert '[120s]' in canary["bins"] and 'feature="prediction"' in canary["bins"]


class Scripted:
    """Prometheus's answers, one analysis after another: canary and stable sides per round."""

    def __init__(self, rounds: list[tuple[Side, Side]]) -> None:
        self.rounds = rounds
        self.asked = 0
        self.now = 0.0

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def clock(self) -> float:
        return self.now

    def query(self, expr: str) -> list[dict]:
        # Four queries per side (bins, requests, errors, p95), canary first: 8 per round.
        canary, stable = self.rounds[min(self.asked // 8, len(self.rounds) - 1)]
        side = canary if self.asked % 8 < 4 else stable
        self.asked += 1
        if "house_price_drift" in expr:
            return []
        value = side.requests if "status" not in expr and "histogram" not in expr else (
            side.errors if "status" in expr else side.p95
        )
        return [] if value is None else [{"metric": {}, "value": [0, str(value)]}]


def verdict_of(rounds: list[tuple[Side, Side]], passes: int = 3, timeout: int = 600):
    script = Scripted(rounds)
    return run(script.query, SETTINGS, 30, passes, timeout, sleep=script.sleep, clock=script.clock)


def test_consecutive_passes_promote() -> None:
    verdict = verdict_of([(GOOD, STABLE)])
    assert verdict.verdict == PROMOTE
    assert [a.outcome for a in verdict.analyses] == [PASS, PASS, PASS]
    assert verdict.failed_check is None


def test_an_inconclusive_analysis_restarts_the_count() -> None:
    idle = Side(requests=3, errors=0, p95=0.02)
    verdict = verdict_of([(GOOD, STABLE), (GOOD, STABLE), (idle, STABLE), (GOOD, STABLE)])
    assert [a.outcome for a in verdict.analyses] == [PASS, PASS, INCONCLUSIVE, PASS, PASS, PASS]
    assert verdict.verdict == PROMOTE


def test_a_failing_check_aborts_at_once_naming_the_check_its_threshold_and_the_value() -> None:
    verdict = verdict_of([(GOOD, STABLE), (Side(200, 50, 0.02), STABLE)])
    assert verdict.verdict == ABORT
    assert len(verdict.analyses) == 2
    assert verdict.failed_check.name == "5xx ratio"
    assert verdict.failed_check.observed == pytest.approx(0.25)
    assert verdict.failed_check.threshold == pytest.approx(0.01)
    assert "5xx ratio: observed 0.25, threshold 0.01 (50 of 200 requests)" in verdict.msg
    report = verdict.as_dict()["report"]
    assert report[0].startswith("analysis 1 at 30 s: pass (canary "), report
    assert report[1].startswith("analysis 2 at 60 s: fail (canary 200 requests"), report
    assert "fail 5xx ratio: observed 0.25, threshold 0.01" in report[1]
    assert report[-1] == verdict.msg


def test_an_idle_canary_gives_no_verdict_and_aborts_when_time_is_up() -> None:
    verdict = verdict_of([(Side(requests=0, errors=0, p95=None), STABLE)], timeout=120)
    assert verdict.verdict == ABORT
    assert verdict.failed_check.name == "no verdict"
    assert verdict.msg.startswith(
        "no verdict within 120s: too few canary requests (0 in the last window, at least 50 needed);"
        ' no series with track="canary" at all'
    )
    assert {a.outcome for a in verdict.analyses} == {INCONCLUSIVE}
    # At 30, 60, 90 and 120 s: one more would end after the timeout.
    assert len(verdict.analyses) == 4


def test_a_canary_that_served_a_little_is_not_suspected_of_missing_labels() -> None:
    verdict = verdict_of([(Side(requests=10, errors=0, p95=0.02), STABLE)], timeout=60)
    assert verdict.msg == "no verdict within 60s: too few canary requests (10 in the last window, at least 50 needed)"


def test_a_timeout_of_interval_times_passes_leaves_room_for_every_pass() -> None:
    """The smallest timeout preflight allows; the queries' own time does not push the last analysis out."""
    script = Scripted([(GOOD, STABLE)])

    def slow_query(expr: str) -> list[dict]:
        script.now += 0.5
        return script.query(expr)

    verdict = run(slow_query, SETTINGS, 30, 3, 90, sleep=script.sleep, clock=script.clock)
    assert verdict.verdict == PROMOTE
