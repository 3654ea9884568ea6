"""The canary analysis behind mlmon.monitoring.canary_analysis: what to ask Prometheus, and what the answers mean.

The canary's series carry ``track="canary"`` (the ServiceMonitor's ``podTargetLabels``); the stable's carry no
``track`` label and are selected with ``track!="canary"``. Every ``interval`` seconds one analysis asks for the
last ``window`` seconds of both, and judges five checks:

* ``5xx ratio``: the canary's share of 5xx answers, at most an absolute bound;
* ``5xx ratio vs stable``: at most the stable's share plus a margin;
* ``p95 latency``: the canary's p95 of /predict and /batch-predict, at most an absolute bound;
* ``p95 latency vs stable``: at most a factor of the stable's p95, plus a margin of the histogram's resolution;
* ``prediction PSI vs stable``: the population stability index between the canary's and the stable's
  predictions, by the bins of ``house_price_drift_observations_total{feature="prediction"}``, counted since
  the analysis began; skipped, with a note, where those series do not exist.

A check counts only when the canary served at least ``min_requests`` in the window (the relative checks ask
the same of the stable), else it is inconclusive: neither a pass nor a fail. Any failing check aborts at once;
``passes`` consecutive analyses without a failing or inconclusive check promote; no verdict within ``timeout``
seconds aborts. Nothing here imports Ansible: the query function is given, so the logic runs in plain tests.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

# An instant query: PromQL in, the result vector (``[{"metric": {...}, "value": [t, "v"]}]``) out.
Query = Callable[[str], list[dict[str, Any]]]

PASS, FAIL, INCONCLUSIVE, SKIPPED = "pass", "fail", "inconclusive", "skipped"
PROMOTE, ABORT = "promote", "abort"
PREDICTION_HANDLERS = "/predict|/batch-predict"
# What Evidently (and the drift recording rules) put in an empty bin, so ln() stays finite.
PSI_FLOOR = 0.0001
NO_VERDICT = "no verdict"


@dataclass(frozen=True)
class Settings:
    """What one analysis compares, and its bounds."""

    namespace: str
    job: str
    window: int
    min_requests: int = 50
    max_error_ratio: float = 0.01
    max_error_ratio_increase: float = 0.005
    max_p95_seconds: float = 0.5
    max_p95_factor: float = 1.5
    p95_margin_seconds: float = 0.01
    prediction_drift: bool = True
    max_prediction_psi: float = 0.2
    drift_min_observations: int = 250

    def selector(self, track: str) -> str:
        """The label matchers of one side: ``canary``, or ``stable`` (every series without track="canary")."""
        matcher = 'track="canary"' if track == "canary" else 'track!="canary"'
        return f'namespace="{self.namespace}", job="{self.job}", {matcher}'


@dataclass(frozen=True)
class Side:
    """What Prometheus says about one side (canary or stable) over the window."""

    requests: float
    errors: float
    p95: float | None
    # Predictions per bin since the analysis began; None where the drift series do not exist.
    bins: dict[str, float] | None = None

    @property
    def error_ratio(self) -> float:
        return self.errors / self.requests if self.requests else 0.0


@dataclass(frozen=True)
class Check:
    """One check of one analysis: the canary's observed value against its threshold."""

    name: str
    outcome: str
    observed: float | None = None
    threshold: float | None = None
    note: str = ""

    def describe(self) -> str:
        """``name: observed <value> against threshold <value> (note)``, for messages."""
        text = self.name
        if self.observed is not None:
            text += f": observed {_number(self.observed)}"
        if self.threshold is not None:
            text += f", threshold {_number(self.threshold)}"
        return f"{text} ({self.note})" if self.note else text


@dataclass(frozen=True)
class Analysis:
    """One round: the numbers of both sides and the checks' outcomes."""

    number: int
    elapsed: float
    outcome: str
    canary_requests: float
    stable_requests: float
    checks: list[Check] = field(default_factory=list)

    def describe(self) -> str:
        """One line for the play's output: the round, its outcome, the requests and every check."""
        checks = "; ".join(f"{check.outcome} {check.describe()}" for check in self.checks)
        return (
            f"analysis {self.number} at {self.elapsed:g} s: {self.outcome} "
            f"(canary {self.canary_requests:.0f} requests, stable {self.stable_requests:.0f}): {checks}"
        )


@dataclass(frozen=True)
class Verdict:
    """The end of an analysis: promote or abort, every round, and for an abort the check that decided it."""

    verdict: str
    analyses: list[Analysis]
    failed_check: Check | None
    msg: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "analyses": [asdict(a) for a in self.analyses],
            "failed_check": asdict(self.failed_check) if self.failed_check else None,
            "msg": self.msg,
            "report": [analysis.describe() for analysis in self.analyses] + [self.msg],
        }


def _number(value: float) -> str:
    return f"{value:.4g}"


def queries(settings: Settings, track: str, drift_window: int) -> dict[str, str]:
    """The PromQL of one side: requests, 5xx answers and p95 over the window, predictions per bin."""
    sel = settings.selector(track)
    window = f"[{settings.window}s]"
    return {
        "requests": f"sum(increase(http_requests_total{{{sel}}}{window}))",
        "errors": f'sum(increase(http_requests_total{{{sel}, status="5xx"}}{window}))',
        "p95": (
            "histogram_quantile(0.95, sum by (le) (increase(http_request_duration_seconds_bucket"
            f'{{{sel}, handler=~"{PREDICTION_HANDLERS}"}}{window})))'
        ),
        "bins": (
            "sum by (bin) (increase(house_price_drift_observations_total"
            f'{{{sel}, feature="prediction"}}[{drift_window}s]))'
        ),
    }


def _scalar(result: list[dict[str, Any]]) -> float | None:
    """The value of a one-sample result; None when empty or not finite (a quantile of no requests is NaN)."""
    if not result:
        return None
    value = float(result[0]["value"][1])
    return value if math.isfinite(value) else None


def observe(query: Query, settings: Settings, track: str, drift_window: int) -> Side:
    """Ask Prometheus about one side."""
    asked = queries(settings, track, drift_window)
    bins = None
    if settings.prediction_drift:
        found = query(asked["bins"])
        bins = {sample["metric"].get("bin", ""): float(sample["value"][1]) for sample in found} or None
    return Side(
        requests=_scalar(query(asked["requests"])) or 0.0,
        errors=_scalar(query(asked["errors"])) or 0.0,
        p95=_scalar(query(asked["p95"])),
        bins=bins,
    )


def psi(live: dict[str, float], reference: dict[str, float]) -> float:
    """Population stability index of ``live`` against ``reference`` (counts per bin), empty bins floored."""
    live_total, reference_total = sum(live.values()), sum(reference.values())
    total = 0.0
    for name in set(live) | set(reference):
        share = max(live.get(name, 0.0) / live_total, PSI_FLOOR)
        expected = max(reference.get(name, 0.0) / reference_total, PSI_FLOOR)
        total += (share - expected) * math.log(share / expected)
    return total


def _drift_check(canary: Side, stable: Side, settings: Settings) -> Check:
    name = "prediction PSI vs stable"
    if not settings.prediction_drift:
        return Check(name, SKIPPED, note="turned off")
    if canary.bins is None or stable.bins is None:
        side = (
            "either side"
            if canary.bins is None and stable.bins is None
            else ("the canary" if canary.bins is None else "the stable")
        )
        return Check(name, SKIPPED, note=f"no drift series (house_price_drift_observations_total) from {side}")
    if set(canary.bins) != set(stable.bins):
        return Check(name, SKIPPED, note="the two versions bin predictions differently (their training differs)")
    seen = min(sum(canary.bins.values()), sum(stable.bins.values()))
    if seen < settings.drift_min_observations:
        return Check(
            name,
            INCONCLUSIVE,
            note=f"{seen:.0f} predictions on the smaller side, fewer than {settings.drift_min_observations}",
        )
    value = psi(canary.bins, stable.bins)
    return Check(name, PASS if value <= settings.max_prediction_psi else FAIL, value, settings.max_prediction_psi)


def judge(canary: Side, stable: Side, settings: Settings, number: int = 1, elapsed: float = 0.0) -> Analysis:
    """One analysis: every check's outcome, and the round's (fail, else inconclusive, else pass)."""
    few = canary.requests < settings.min_requests
    few_stable = stable.requests < settings.min_requests
    canary_note = f"the canary served {canary.requests:.0f} requests, fewer than {settings.min_requests}"
    stable_note = f"the stable served {stable.requests:.0f} requests, fewer than {settings.min_requests}"

    def bounded(name: str, observed: float | None, threshold: float | None, note: str = "") -> Check:
        if few:
            return Check(name, INCONCLUSIVE, observed, threshold, canary_note)
        if observed is None or threshold is None:
            return Check(name, INCONCLUSIVE, observed, threshold, note)
        return Check(name, PASS if observed <= threshold else FAIL, observed, threshold, note)

    stable_ratio = None if few_stable else stable.error_ratio + settings.max_error_ratio_increase
    stable_p95 = (
        None if few_stable or stable.p95 is None else stable.p95 * settings.max_p95_factor + settings.p95_margin_seconds
    )
    no_p95 = "no /predict or /batch-predict request in the window"
    if few_stable:
        ratio_note = p95_note = stable_note
    else:
        ratio_note = f"the stable's {_number(stable.error_ratio)} + {settings.max_error_ratio_increase:g}"
        p95_note = (
            no_p95
            if stable.p95 is None or canary.p95 is None
            else f"{settings.max_p95_factor:g} x the stable's {_number(stable.p95)} + {settings.p95_margin_seconds:g} s"
        )
    requests_note = f"{canary.errors:.0f} of {canary.requests:.0f} requests"
    checks = [
        bounded("5xx ratio", canary.error_ratio, settings.max_error_ratio, requests_note),
        bounded("5xx ratio vs stable", canary.error_ratio, stable_ratio, ratio_note),
        bounded("p95 latency", canary.p95, settings.max_p95_seconds, no_p95 if canary.p95 is None else "seconds"),
        bounded("p95 latency vs stable", canary.p95, stable_p95, p95_note),
        _drift_check(canary, stable, settings),
    ]
    outcomes = {check.outcome for check in checks}
    outcome = FAIL if FAIL in outcomes else INCONCLUSIVE if INCONCLUSIVE in outcomes else PASS
    return Analysis(number, round(elapsed, 1), outcome, canary.requests, stable.requests, checks)


def run(
    query: Query,
    settings: Settings,
    interval: int,
    passes: int,
    timeout: int,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Verdict:
    """Analyse every ``interval`` seconds until a check fails, ``passes`` analyses in a row pass, or time is up.

    The first analysis comes one interval after the start: the canary has just turned ready, its window is empty.
    """
    started = clock()
    analyses: list[Analysis] = []
    streak = 0
    while True:
        sleep(interval)
        elapsed = clock() - started
        drift_window = max(settings.window, math.ceil(elapsed))
        analysis = judge(
            observe(query, settings, "canary", drift_window),
            observe(query, settings, "stable", drift_window),
            settings,
            len(analyses) + 1,
            elapsed,
        )
        analyses.append(analysis)
        if analysis.outcome == FAIL:
            failed = next(check for check in analysis.checks if check.outcome == FAIL)
            return Verdict(ABORT, analyses, failed, f"canary analysis {analysis.number} failed {failed.describe()}")
        streak = streak + 1 if analysis.outcome == PASS else 0
        if streak >= passes:
            return Verdict(PROMOTE, analyses, None, f"{passes} analyses in a row passed every check")
        # By the schedule, not the clock: with timeout = interval x passes the last analysis still comes.
        if (len(analyses) + 1) * interval > timeout:
            return _no_verdict(analyses, settings, streak, passes, timeout)


def _no_verdict(analyses: list[Analysis], settings: Settings, streak: int, passes: int, timeout: int) -> Verdict:
    """The abort when time is up: why the last analysis gave no verdict (usually too few canary requests)."""
    last = analyses[-1]
    if last.canary_requests < settings.min_requests:
        note = f"{last.canary_requests:.0f} in the last window, at least {settings.min_requests} needed"
        check = Check(NO_VERDICT, FAIL, last.canary_requests, settings.min_requests, note)
        reason = f"too few canary requests ({note})"
        if not any(a.canary_requests for a in analyses):
            reason += (
                '; no series with track="canary" at all: does traffic reach the Service, and does the ServiceMonitor'
                " copy the pods' track label (podTargetLabels, the service_monitor role)?"
            )
    else:
        undecided = [c.describe() for c in last.checks if c.outcome == INCONCLUSIVE]
        reason = "; ".join(undecided) if undecided else f"{streak} of {passes} passes in a row"
        check = Check(NO_VERDICT, FAIL, note=reason)
    return Verdict(ABORT, analyses, check, f"{NO_VERDICT} within {timeout}s: {reason}")
