"""Model metrics: what the model is asked, what it answers, how long it takes.

Every metric lives in the registry handed to ``ModelMetrics``; nothing touches the process-wide
default registry, so several apps can live in one process (tests) without clashing.

* ``house_price_predictions_total{model_version, handler}``: counter, houses priced;
* ``house_price_prediction_dollars{model_version}``: histogram of predicted prices;
* ``house_price_inference_duration_seconds{handler}``: histogram, the model call alone;
* ``house_price_batch_size``: histogram, houses per accepted /batch-predict request;
* ``house_price_validation_errors_total{field}``: counter, rejected inputs by field;
* ``house_price_model_info{version, trained_at}``: gauge, 1 once a model is loaded;
* ``house_price_drift_observations_total{model_version, feature, bin}``: counter, houses priced per
  bin of the training distribution, per feature and for the price (``house_price.drift``);
* ``house_price_drift_reference_ratio{model_version, feature, bin}``: gauge, the training share of
  each of those bins, from the artefact.
"""

from bisect import bisect_left
from collections.abc import Iterable
from typing import Protocol

import numpy as np
from prometheus_client import CollectorRegistry

from house_price.drift import DriftCollector, DriftCounts
from house_price.metadata import ModelMetadata
from house_price.plain_metrics import Counter, CounterSeries, Gauge, Histogram, HistogramSeries

PRICE_BUCKETS_DOLLARS: tuple[float, ...] = (
    50_000,
    100_000,
    150_000,
    200_000,
    250_000,
    300_000,
    400_000,
    500_000,
    650_000,
    800_000,
    1_000_000,
    1_500_000,
    2_000_000,
    3_000_000,
    5_000_000,
)
INFERENCE_BUCKETS_SECONDS: tuple[float, ...] = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.0075,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
)
FIRST_INFERENCE_BOUND = float(INFERENCE_BUCKETS_SECONDS[0])
BATCH_SIZE_BUCKETS: tuple[float, ...] = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 10_000)


class PredictionRecorder(Protocol):
    """What the routes report; ``ModelMetrics`` records it, ``NoMetrics`` drops it."""

    def model_loaded(self, metadata: ModelMetadata) -> None: ...

    def priced(
        self,
        handler: str,
        model_version: str,
        seconds: float,
        encoded: np.ndarray,
        prices: list[float],
    ) -> None:
        """One model call of ``seconds``: the houses as the model read them (``encoding.encode``'s
        matrix) and their ``prices``, in the same order; called on the event loop."""
        ...

    def batch(self, size: int) -> None: ...

    def validation_errors(self, fields: Iterable[str]) -> None: ...


class ModelMetrics:
    """Prometheus metrics about the model, registered in ``registry``."""

    def __init__(
        self, registry: CollectorRegistry, handlers: Iterable[str] = (), error_fields: Iterable[str] = ()
    ) -> None:
        """``handlers`` and ``error_fields`` are the label values known in advance: their series are
        exported at zero from the start (Prometheus's advice against missing metrics), so the first
        request a pod serves already shows in rate(), whichever replica it reaches."""
        self._handlers = tuple(handlers)
        # Registered first, so that a scrape collects it first: it bins the houses and prices held so
        # far (``house_price.drift``), the prices into ``house_price_prediction_dollars`` too, before
        # the registry collects that histogram.
        self._drift = DriftCollector(registry)
        self._drift_counts: DriftCounts | None = None
        self._predictions = Counter(
            "house_price_predictions",
            "Houses priced, by model version and route (handler).",
            ["model_version", "handler"],
            registry=registry,
        )
        self._prices = Histogram(
            "house_price_prediction_dollars",
            "Predicted house prices in dollars.",
            ["model_version"],
            buckets=PRICE_BUCKETS_DOLLARS,
            registry=registry,
        )
        self._inference = Histogram(
            "house_price_inference_duration_seconds",
            "Time spent in the model call alone, per request.",
            ["handler"],
            buckets=INFERENCE_BUCKETS_SECONDS,
            registry=registry,
        )
        self._batch = Histogram(
            "house_price_batch_size",
            "Houses per accepted /batch-predict request.",
            buckets=BATCH_SIZE_BUCKETS,
            registry=registry,
        )
        self._validation = Counter(
            "house_price_validation_errors",
            "Input validation errors, by offending field.",
            ["field"],
            registry=registry,
        )
        self._info = Gauge(
            "house_price_model_info",
            "The loaded model (always 1); its version and training time as labels.",
            ["version", "trained_at"],
            registry=registry,
        )
        # The series one model call adds to, by (model version, handler), looked up once: a request
        # then adds to their plain numbers in place (see ``house_price.instrumentation._Route``).
        self._series: dict[tuple[str, str], tuple[HistogramSeries, CounterSeries]] = {}
        for handler in self._handlers:
            self._inference.labels(handler)
        for field in error_fields:
            self._validation.labels(field)

    def model_loaded(self, metadata: ModelMetadata) -> None:
        self._info.clear()
        self._info.labels(metadata.version, metadata.trained_at.isoformat()).set(1)
        for handler in self._handlers:
            self._series_of(metadata.version, handler)
        # The prices are added to the histogram as the drift counts bin them: held with the houses
        # and binned with NumPy, a one-house request pays for no bisection of its price.
        self._drift_counts = self._drift.model_loaded(metadata, self._prices.labels(metadata.version))

    def _series_of(self, model_version: str, handler: str) -> tuple[HistogramSeries, CounterSeries]:
        found = self._series.get((model_version, handler))
        if found is None:
            found = self._series[model_version, handler] = (
                self._inference.labels(handler),
                self._predictions.labels(model_version, handler),
            )
        return found

    def priced(
        self,
        handler: str,
        model_version: str,
        seconds: float,
        encoded: np.ndarray,
        prices: list[float],
    ) -> None:
        found = self._series.get((model_version, handler))
        inference, predictions = found if found is not None else self._series_of(model_version, handler)
        # A model call of one house takes microseconds, in the first bucket: one float comparison
        # instead of a bisection (about 500 instructions more).
        inference.counts[0 if seconds <= FIRST_INFERENCE_BOUND else bisect_left(inference.bounds, seconds)] += 1
        inference.sum += seconds
        predictions.value += len(prices)
        # The prices reach house_price_prediction_dollars (the loaded model's) through the drift counts,
        # called directly rather than through the collector (a Python call less a request).
        counts = self._drift_counts
        if counts is not None:  # the routes price nothing before a model is loaded
            counts.observe(encoded, prices)

    def batch(self, size: int) -> None:
        self._batch.observe(size)

    def validation_errors(self, fields: Iterable[str]) -> None:
        for field in fields:
            self._validation.labels(field).inc()


class NoMetrics:
    """The recorder used when ``MLMON_METRICS_ENABLED=false``: records nothing."""

    def model_loaded(self, metadata: ModelMetadata) -> None:
        return None

    def priced(
        self,
        handler: str,
        model_version: str,
        seconds: float,
        encoded: np.ndarray,
        prices: list[float],
    ) -> None:
        return None

    def batch(self, size: int) -> None:
        return None

    def validation_errors(self, fields: Iterable[str]) -> None:
        return None
