"""Live traffic against the training distribution: per feature and bin, how many houses the service priced.

The model's artefact carries the training distribution (``ModelMetadata.reference``, computed by
``house_price.train``): each numeric feature's and the predicted price's bin edges (the training
deciles), each categorical feature's categories, and the training share of every bin. Per house
priced, ``DriftCounts`` adds one to the bin of each feature and one to the bin of its price;
``DriftCollector`` exports, at scrape time:

* ``house_price_drift_observations_total{model_version, feature, bin}``: counter, houses seen per bin;
* ``house_price_drift_reference_ratio{model_version, feature, bin}``: gauge, the training share of the bin.

The houses are counted as the model read them: the matrix ``house_price.encoding`` made for the
model call, numbers first and each category as its code, so drift costs no second pass over the
request's houses.

Every bin of the loaded model is exported from the load on (at 0 before the first house), and only
the loaded model's: a model of another version replaces the series. Prometheus compares the two
(the population stability index, ``files/alerts/rules.yml``).

``bin`` values are a fixed set per model: ``"00: <1180"``, ``"01: 1180-1410"``, ..., ``"09: >=4020"``
for numbers (fewer where training deciles coincide, as for bedrooms), the category itself otherwise.
A value outside the training range falls in the first or the last bin.
"""

from array import array
from collections.abc import Iterator
from itertools import pairwise
from threading import Lock

import numpy as np
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from house_price.features import CATEGORIES, MODEL_COLUMNS
from house_price.metadata import CategoryBins, ModelMetadata, NumericBins
from house_price.plain_metrics import HistogramSeries

PREDICTION = "prediction"
"""The ``feature`` label value of the predicted price."""
LABELS = ("model_version", "feature", "bin")
OBSERVATIONS = "house_price_drift_observations"
REFERENCE_RATIO = "house_price_drift_reference_ratio"
_OBSERVATIONS_HELP = "Houses priced, by the bin of the training distribution each feature (and the price) fell in."
_REFERENCE_RATIO_HELP = "Share of the training data in the bin (from the model artefact)."
BINNED_EVERY = 1024
"""Houses of model calls of fewer than ``BINNED_AT_ONCE_FROM`` that ``DriftCounts`` holds before it
bins them, all at once with NumPy. One house at a time in plain Python cost about 12,000
instructions (seven bisections and list updates, a third of the instrumentation of a /predict
request). Holding it costs two C calls, its row's bytes appended to a ``bytearray`` and its price to
an ``array``: about 2,000 instructions with the call, and 400 a house for the binning (held as one
small array per call, the 1,024 arrays took 1.9 million instructions to concatenate). The one
request in 1,024 that bins them takes about 0.05 ms longer (0.6 ms with the arrays): rarer than one
in a hundred, so the p99 latency does not see it (binning every 256, 0.4 % of requests took 0.1 ms
longer, and single-connection p99 / p50 rose from 1.7 to 2.2). A scrape bins whatever is held
first, so it never misses a house priced before it."""
BINNED_AT_ONCE_FROM = 32
"""Houses from which a model call is binned at once rather than held: a 1,000-house batch takes
about 0.05 ms."""
ROW_BYTES = len(MODEL_COLUMNS) * np.dtype(np.float64).itemsize
HELD_BYTES = BINNED_EVERY * ROW_BYTES


def bin_labels(bins: NumericBins | CategoryBins) -> tuple[str, ...]:
    """The ``bin`` label values, in bin order."""
    if isinstance(bins, CategoryBins):
        return bins.categories
    edges = [format(edge, "g") for edge in bins.edges]
    ranges = [f"<{edges[0]}", *(f"{lower}-{upper}" for lower, upper in pairwise(edges))]
    return tuple(f"{index:02d}: {text}" for index, text in enumerate([*ranges, f">={edges[-1]}"]))


class DriftCounts:
    """One model's live counts: a list of plain ints per feature, one per bin.

    Plain ints rather than prometheus_client counters: a counter's increment takes a lock (about
    0.7 us) and a house makes seven. ``observe`` holds small calls' houses and prices as raw float64
    bytes (each append is one C call, atomic under the GIL, from any thread) and bins them
    ``BINNED_EVERY`` houses at a time, or when a scrape asks for the ``series``; binning takes a
    lock, so a scrape on Starlette's thread pool and the event loop never add to the same list at
    once. A scrape may see a house's features counted and its price not yet (the two are taken one
    after the other); the next scrape corrects it.

    ``prices``, when given, is the model version's price histogram (``house_price_prediction_dollars``):
    the prices binned here are added to it too, so a one-house request pays for no bisection of its
    price. It is written only under the binning lock.
    """

    def __init__(self, metadata: ModelMetadata, prices: HistogramSeries | None = None) -> None:
        reference = metadata.reference
        self.model_version = metadata.version
        # (column of the encoded matrix, edges, counts) per number; (column, bin of each category code,
        # counts) per category.
        self._numeric: list[tuple[int, np.ndarray, list[int]]] = []
        self._categorical: list[tuple[int, np.ndarray, list[int]]] = []
        # (feature, bin labels, training shares, live counts) in export order; the counts are the lists
        # binning adds to.
        self._series: list[tuple[str, tuple[str, ...], tuple[float, ...], list[int]]] = []
        for name, bins in reference.features.items():
            counts = [0] * len(bins.ratios)
            column = MODEL_COLUMNS.index(name)
            if isinstance(bins, NumericBins):
                self._numeric.append((column, np.asarray(bins.edges, dtype=float), counts))
            else:
                # The reference names every category the model was trained on (``metadata`` checks it).
                in_bins = [bins.categories.index(value) for value in CATEGORIES[name]]
                self._categorical.append((column, np.asarray(in_bins, dtype=np.intp), counts))
            self._series.append((name, bin_labels(bins), bins.ratios, counts))
        self._price_edges = np.asarray(reference.prediction.edges, dtype=float)
        self._price_counts = [0] * len(reference.prediction.ratios)
        self._series.append(
            (PREDICTION, bin_labels(reference.prediction), reference.prediction.ratios, self._price_counts)
        )
        self._prices_histogram = prices
        # The held houses' rows (float64, ROW_BYTES each) and their prices, in the order priced.
        self._held_houses = bytearray()
        self._held_prices = array("d")
        self._binning = Lock()

    def observe(self, encoded: np.ndarray, prices: list[float]) -> None:
        """Count each house's features and its price (binned now, or with the next ``BINNED_EVERY``).

        ``encoded`` is the model call's matrix (``house_price.encoding.encode``: float64, C order), one
        row per price.
        """
        if len(encoded) >= BINNED_AT_ONCE_FROM:
            with self._binning:
                self._bin(encoded, np.asarray(prices, dtype=np.float64))
            return
        self._held_prices.fromlist(prices)  # a list: 50 ns less than extend, which iterates
        held = self._held_houses
        # Its bytes, through the buffer protocol: a matrix not in C order is refused (TypeError).
        held.extend(encoded)
        if len(held) >= HELD_BYTES:
            self.bin_held()

    def bin_held(self) -> None:
        """Bin the houses and prices held so far."""
        with self._binning:
            self._bin_held()

    def _bin_held(self) -> None:
        houses = np.frombuffer(_take(self._held_houses), dtype=np.float64).reshape(-1, len(MODEL_COLUMNS))
        self._bin(houses, np.frombuffer(_take(self._held_prices), dtype=np.float64))

    def _bin(self, houses: np.ndarray, prices: np.ndarray) -> None:
        """Add the houses and prices to their bins (``searchsorted(side="right")`` is ``bisect_right``:
        a value on an edge belongs to the bin above it; the price histogram's ``le`` buckets are
        ``bisect_left``'s). The caller holds the lock."""
        if len(houses):
            for column, edges, counts in self._numeric:
                _add(counts, np.searchsorted(edges, houses[:, column], side="right"))
            for column, in_bins, counts in self._categorical:
                _add(counts, in_bins[houses[:, column].astype(np.intp)])
        if len(prices):
            _add(self._price_counts, np.searchsorted(self._price_edges, prices, side="right"))
            histogram = self._prices_histogram
            if histogram is not None:
                _add(histogram.counts, np.searchsorted(histogram.bounds, prices, side="left"))
                histogram.sum += float(prices.sum())

    def series(self) -> Iterator[tuple[str, str, float, int]]:
        """``(feature, bin, training share, live count)`` for every bin, features first, the price last;
        the houses held are binned first."""
        with self._binning:
            self._bin_held()
            snapshot = [(feature, labels, ratios, list(counts)) for feature, labels, ratios, counts in self._series]
        for feature, labels, ratios, counts in snapshot:
            yield from zip((feature,) * len(labels), labels, ratios, counts, strict=True)


def _take(held: "bytearray | array[float]") -> "bytearray | array[float]":
    """What ``held`` holds now, taken out of it: a copy, then a deletion, one C call each, so what the
    event loop appends meanwhile (whole rows, each in one call) stays for the next time."""
    size = len(held)
    taken = held[:size]
    del held[:size]
    return taken


def _add(counts: list[int], bins: np.ndarray) -> None:
    for index, count in enumerate(np.bincount(bins, minlength=len(counts)).tolist()):
        counts[index] += count


class DriftCollector(Collector):
    """Exports the loaded model's ``DriftCounts`` at each scrape; nothing before a model is loaded."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._counts: DriftCounts | None = None
        registry.register(self)

    def model_loaded(self, metadata: ModelMetadata, prices: HistogramSeries | None = None) -> DriftCounts:
        """Start counting for this model: its bins at 0, the previous model's series gone (its held
        prices binned into its own price histogram first). ``prices``: ``DriftCounts``'. Returns the
        counts, which the caller may ``observe`` directly."""
        previous = self._counts
        if previous is not None:
            previous.bin_held()
        counts = self._counts = DriftCounts(metadata, prices)
        return counts

    def observe(self, encoded: np.ndarray, prices: list[float]) -> None:
        """Count the houses (as encoded for the model call) for the loaded model (the routes price none
        before one is loaded)."""
        counts = self._counts
        if counts is not None:
            counts.observe(encoded, prices)

    def describe(self) -> list[Metric]:
        """The families without samples, so that the registry refuses another metric of the same name."""
        return list(_families())

    def collect(self) -> Iterator[Metric]:
        observations, ratios = _families()
        counts = self._counts
        if counts is not None:
            for feature, label, ratio, count in counts.series():
                observations.add_metric([counts.model_version, feature, label], count)
                ratios.add_metric([counts.model_version, feature, label], ratio)
        yield observations
        yield ratios


def _families() -> tuple[CounterMetricFamily, GaugeMetricFamily]:
    return (
        CounterMetricFamily(OBSERVATIONS, _OBSERVATIONS_HELP, labels=LABELS),
        GaugeMetricFamily(REFERENCE_RATIO, _REFERENCE_RATIO_HELP, labels=LABELS),
    )
