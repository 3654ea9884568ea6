"""Counters, gauges, histograms and summaries kept as plain Python numbers, exported at scrape time.

The same surface as prometheus_client's metric classes where the service uses it (``labels``,
``inc``, ``dec``, ``set``, ``observe``, ``clear``), and the same exposition: names, types, help,
labels, ``le`` values, ``_created`` samples. Each metric is a custom collector that builds
prometheus_client's ``*MetricFamily`` objects when the registry is collected, so
``generate_latest`` and the text format stay the library's.

Why not prometheus_client's own classes: each of their values carries a ``threading.Lock``, taken
on every ``inc`` and ``observe`` (a histogram observation takes two), which a request of this
service paid about a dozen times, 4-6 us in all of about 300. No library offers lock-free values
for a single writer: prometheus_client's multiprocess mode writes memory-mapped files instead, and
the instrumentators build on prometheus_client's classes.

The price is thread safety, which the service does not need. Each value has one writer at a time:
requests are recorded on the event loop (the HTTP middleware is pure ASGI, /predict and
/batch-predict and the validation-error handler are coroutines); the model loader's thread only
creates series (``labels``, ``set``, ``clear`` of the info gauge) before the model serves its first
request; the price histogram is added to only under the drift counts' lock, by whichever of the
loop and a scrape bins the held prices (``house_price.drift``); the series the scrape derives
(``house_price.instrumentation``) are written only by the scrape. Two threads adding to one value
could lose an increment (``+=`` is a read and a write); never use these classes so.

The series' numbers are public attributes (``value``; ``count`` and ``sum``; ``counts``, per bucket
and not cumulative, with ``bounds`` and ``sum``): the two hottest paths, the HTTP middleware and the
model's metrics, add to them in place rather than through ``inc`` and ``observe``, a method call
less per value. ``tests/app/test_plain_metrics.py`` checks both against prometheus_client's classes
given the same recordings through their methods.

Reading while the loop writes is safe enough. The scrape (/metrics, a plain function in
Starlette's thread pool) reads each number in one step, atomic under the GIL, so it never sees a
torn value, and a counter it reads is never lower than at the scrape before. It copies the dicts
of series before walking them (one C call, atomic under the GIL), so a series added meanwhile
shows at the next scrape. What it may see is one request half recorded: a counter already
incremented and a histogram not yet, or a histogram's bucket and not its sum. Prometheus stores
every sample on its own and compares each series only with itself, so the next scrape, a second
later, is whole again; a rate() or a quantile over a window is off by that one request at most.
"""

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from math import inf
from time import time
from typing import Generic, TypeVar

from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
    SummaryMetricFamily,
)
from prometheus_client.samples import Sample
from prometheus_client.utils import floatToGoString

Labels = tuple[str, ...]
Child = TypeVar("Child")


def _created(family: Metric, labelnames: Labels, labels: Labels, created: float) -> Sample:
    """The ``_created`` sample prometheus_client adds to a series (the *MetricFamily of a summary or
    a histogram does not)."""
    return Sample(f"{family.name}_created", dict(zip(labelnames, labels, strict=True)), created)


class _Metric(Generic[Child]):
    """A named metric with its label names: a collector of its series, one per label values."""

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Iterable[str] = (),
        registry: CollectorRegistry | None = None,
    ) -> None:
        self._name = name
        self._documentation = documentation
        self._labelnames = tuple(labelnames)
        self._children: dict[Labels, Child] = {}
        if not self._labelnames:
            self._children[()] = self._new_child()
        if registry is not None:
            registry.register(self)

    def labels(self, *labelvalues: object) -> Child:
        """The series with these label values (created at zero the first time)."""
        if len(labelvalues) != len(self._labelnames):
            raise ValueError(f"{self._name} takes labels {self._labelnames}, got {labelvalues}")
        key = tuple(str(value) for value in labelvalues)
        found = self._children.get(key)
        if found is None:
            # setdefault: if two threads ever created the same series, both would get one child.
            found = self._children.setdefault(key, self._new_child())
        return found

    def clear(self) -> None:
        """Forget every series."""
        self._children = {}

    @property
    def labelnames(self) -> Labels:
        return self._labelnames

    def series(self) -> list[tuple[Labels, Child]]:
        """Every series with its label values (a copy: one C call, atomic under the GIL)."""
        return list(self._children.copy().items())

    def _only(self) -> Child:
        if self._labelnames:
            raise ValueError(f"{self._name} has labels {self._labelnames}: use .labels()")
        return self._children[()]

    def _new_child(self) -> Child:
        raise NotImplementedError

    def _family(self) -> Metric:
        raise NotImplementedError

    def _add(self, family: Metric, labels: Labels, child: Child) -> None:
        raise NotImplementedError

    def describe(self) -> Iterable[Metric]:
        """The family without samples: what the registry checks names against at registration."""
        return [self._family()]

    def collect(self) -> Iterable[Metric]:
        family = self._family()
        for labels, child in self._children.copy().items():
            self._add(family, labels, child)
        return [family]


class CounterSeries:
    __slots__ = ("created", "value")

    def __init__(self) -> None:
        self.value = 0.0
        self.created = time()

    def inc(self, amount: float = 1) -> None:
        if amount < 0:
            raise ValueError("counters only go up")
        self.value += amount


class Counter(_Metric[CounterSeries]):
    """A counter: ``labels(...).inc()``, or ``inc()`` without labels."""

    def inc(self, amount: float = 1) -> None:
        self._only().inc(amount)

    def _new_child(self) -> CounterSeries:
        return CounterSeries()

    def _family(self) -> Metric:
        return CounterMetricFamily(self._name, self._documentation, labels=self._labelnames)

    def _add(self, family: Metric, labels: Labels, child: CounterSeries) -> None:
        assert isinstance(family, CounterMetricFamily)
        family.add_metric(labels, child.value, created=child.created)


class GaugeSeries:
    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0.0

    def inc(self, amount: float = 1) -> None:
        self.value += amount

    def dec(self, amount: float = 1) -> None:
        self.value -= amount

    def set(self, value: float) -> None:
        self.value = float(value)


class Gauge(_Metric[GaugeSeries]):
    """A gauge: ``labels(...).inc()``, ``.dec()``, ``.set(value)``."""

    def set(self, value: float) -> None:
        self._only().set(value)

    def _new_child(self) -> GaugeSeries:
        return GaugeSeries()

    def _family(self) -> Metric:
        return GaugeMetricFamily(self._name, self._documentation, labels=self._labelnames)

    def _add(self, family: Metric, labels: Labels, child: GaugeSeries) -> None:
        assert isinstance(family, GaugeMetricFamily)
        family.add_metric(labels, child.value)


class SummarySeries:
    __slots__ = ("count", "created", "sum")

    def __init__(self) -> None:
        self.count = 0.0
        self.sum = 0.0
        self.created = time()

    def observe(self, amount: float) -> None:
        self.count += 1
        self.sum += amount


class Summary(_Metric[SummarySeries]):
    """A summary without quantiles (count and sum), as prometheus_client's."""

    def observe(self, amount: float) -> None:
        self._only().observe(amount)

    def _new_child(self) -> SummarySeries:
        return SummarySeries()

    def _family(self) -> Metric:
        return SummaryMetricFamily(self._name, self._documentation, labels=self._labelnames)

    def _add(self, family: Metric, labels: Labels, child: SummarySeries) -> None:
        assert isinstance(family, SummaryMetricFamily)
        family.add_metric(labels, child.count, child.sum)
        family.samples.append(_created(family, self._labelnames, labels, child.created))


class HistogramSeries:
    __slots__ = ("bounds", "counts", "created", "sum")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        # Observations per bucket, not cumulative: one addition per observation; the scrape adds up.
        self.counts = [0] * len(bounds)
        self.sum = 0.0
        self.created = time()

    def observe(self, amount: float) -> None:
        # The first bucket whose upper bound is >= amount: Prometheus's "le".
        self.counts[bisect_left(self.bounds, amount)] += 1
        self.sum += amount


class Histogram(_Metric[HistogramSeries]):
    """A histogram with fixed ``buckets`` (upper bounds; +Inf is added)."""

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Iterable[str] = (),
        registry: CollectorRegistry | None = None,
        *,
        buckets: Sequence[float],
    ) -> None:
        bounds = tuple(float(bound) for bound in buckets)
        if list(bounds) != sorted(bounds):
            raise ValueError(f"{name}: buckets not in increasing order")
        self._bounds = bounds if bounds and bounds[-1] == inf else (*bounds, inf)
        self._les = [floatToGoString(bound) for bound in self._bounds]
        super().__init__(name, documentation, labelnames, registry)

    def observe(self, amount: float) -> None:
        self._only().observe(amount)

    def _new_child(self) -> HistogramSeries:
        return HistogramSeries(self._bounds)

    def _family(self) -> Metric:
        return HistogramMetricFamily(self._name, self._documentation, labels=self._labelnames)

    def _add(self, family: Metric, labels: Labels, child: HistogramSeries) -> None:
        assert isinstance(family, HistogramMetricFamily)
        counts, total = list(child.counts), child.sum
        cumulative, buckets = 0, []
        for le, count in zip(self._les, counts, strict=True):
            cumulative += count
            buckets.append((le, float(cumulative)))
        family.add_metric(labels, buckets, total)
        family.samples.append(_created(family, self._labelnames, labels, child.created))
