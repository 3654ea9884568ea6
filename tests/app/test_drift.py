"""The drift series: bins and their labels, live counts against the training reference.

In-process for the counting and the labels; real for the exported series (real uvicorn serving
``create_app`` in a background thread, real HTTP, the /metrics scrape parsed by prometheus_client).
"""

import sys
import threading
from bisect import bisect_left, bisect_right
from collections import Counter
from datetime import UTC, datetime

import httpx
import numpy as np
import pytest
from house_price import data
from house_price.drift import BINNED_AT_ONCE_FROM, BINNED_EVERY, PREDICTION, DriftCounts, bin_labels
from house_price.encoding import encode
from house_price.features import CATEGORIES, FEATURES, LOCATIONS
from house_price.metadata import CategoryBins, ModelMetadata, NumericBins, Reference
from house_price.metrics import PRICE_BUCKETS_DOLLARS, ModelMetrics
from house_price.plain_metrics import Histogram
from house_price.runtime import ServingModel
from house_price.train import training_reference
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import ValidationError

from tests.app.conftest import TEST_VERSION, VALID_HOUSE, ServeApp

OBSERVATIONS = "house_price_drift_observations_total"
RATIO = "house_price_drift_reference_ratio"
SMALLEST = {"sqft": 1, "bedrooms": 0, "bathrooms": 0, "year_built": 1800, "location": "waterfront", "condition": "Poor"}
LARGEST = {
    "sqft": 100_000,
    "bedrooms": 50,
    "bathrooms": 50,
    "year_built": datetime.now(UTC).year,
    "location": "mountain",
    "condition": "Excellent",
}


def drift_series(text: str) -> dict[str, dict[str, dict[str, float]]]:
    """A /metrics text's drift samples as {sample name: {feature: {bin: value}}}, all of ``TEST_VERSION``."""
    found: dict[str, dict[str, dict[str, float]]] = {OBSERVATIONS: {}, RATIO: {}}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name in found:
                assert set(sample.labels) == {"model_version", "feature", "bin"}
                assert sample.labels["model_version"] == TEST_VERSION
                found[sample.name].setdefault(sample.labels["feature"], {})[sample.labels["bin"]] = sample.value
    return found


def bins_of(reference: Reference) -> dict[str, NumericBins | CategoryBins]:
    return {**reference.features, PREDICTION: reference.prediction}


def expected_counts(reference: Reference, houses: list[dict[str, object]], prices: list[float]) -> dict:
    """Per feature, every bin's count for these houses, binned one value at a time with ``bisect_right``
    rather than the service's NumPy."""
    expected = {}
    for feature, bins in bins_of(reference).items():
        labels = bin_labels(bins)
        values = prices if feature == PREDICTION else [house[feature] for house in houses]
        if isinstance(bins, CategoryBins):
            found = Counter(labels[bins.categories.index(value)] for value in values)
        else:
            found = Counter(labels[bisect_right(bins.edges, value)] for value in values)
        expected[feature] = {label: float(found[label]) for label in labels}
    return expected


def test_numeric_labels_name_each_range_in_bin_order() -> None:
    bins = NumericBins(edges=(1180.0, 1410.0, 4020.0), ratios=(0.25, 0.25, 0.25, 0.25))
    assert bin_labels(bins) == ("00: <1180", "01: 1180-1410", "02: 1410-4020", "03: >=4020")
    half = NumericBins(edges=(1.0, 1.5), ratios=(0.0, 0.5, 0.5))
    assert bin_labels(half) == ("00: <1", "01: 1-1.5", "02: >=1.5")


def test_category_labels_are_the_categories() -> None:
    assert bin_labels(CategoryBins(categories=LOCATIONS, ratios=(0.2,) * 5)) == LOCATIONS


@pytest.mark.parametrize(
    ("bins", "reason"),
    [
        ({"edges": (2.0, 1.0), "ratios": (0.2, 0.3, 0.5)}, "strictly increasing"),
        ({"edges": (1.0,), "ratios": (0.5, 0.6)}, "sum to 1"),
        ({"edges": (1.0, 2.0), "ratios": (0.5, 0.5)}, "2 ratios for 3 bins"),
        ({"edges": (float("inf"),), "ratios": (0.5, 0.5)}, "finite"),
    ],
)
def test_inconsistent_bins_are_invalid(bins: dict, reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        NumericBins.model_validate(bins)


def test_the_training_houses_counted_live_give_back_the_training_shares(served: ServingModel) -> None:
    """Training and the service bin alike, also for the many values that sit on an edge."""
    houses = data.houses(5, 3_000)
    prices = served.predict(houses).tolist()
    reference = training_reference(np.array([list(house.values()) for house in houses], dtype=object), prices)
    counts = DriftCounts(served.metadata.model_copy(update={"reference": reference}))
    counts.observe(encode(houses), prices)
    live: dict[str, list[float]] = {}
    for feature, _, _, count in counts.series():
        live.setdefault(feature, []).append(count / len(houses))
    assert live == {feature: pytest.approx(bins.ratios) for feature, bins in bins_of(reference).items()}


def counted(counts: DriftCounts) -> dict:
    """``expected_counts``'s shape, from what ``counts`` exports."""
    found: dict[str, dict[str, float]] = {}
    for feature, label, _, count in counts.series():
        found.setdefault(feature, {})[label] = float(count)
    return found


def test_houses_held_one_by_one_and_a_batch_count_as_bisect_puts_them(served: ServingModel) -> None:
    """Calls of fewer than BINNED_AT_ONCE_FROM houses are held and binned BINNED_EVERY calls at a time
    and at each scrape, a bigger call at once, all with searchsorted on the encoded matrix: the counts
    must be bisect_right's on the houses' own fields, with a value on every edge."""
    houses = data.houses(6, 2_200)
    houses += [SMALLEST, LARGEST]
    for feature, bins in bins_of(served.metadata.reference).items():
        if isinstance(bins, NumericBins):  # a value on every edge of every numeric feature
            houses += [{**VALID_HOUSE, feature: edge} for edge in bins.edges]
    prices = served.predict(houses).tolist()
    price_edges = list(served.metadata.reference.prediction.edges)  # and a price on every edge of the price's bins
    houses, prices = houses + houses[: len(price_edges)], prices + price_edges
    assert len(houses) > 2 * BINNED_EVERY and len(houses) % BINNED_EVERY  # binned twice, the rest held
    expected = expected_counts(served.metadata.reference, houses, prices)
    one_by_one, in_small_calls, batched = (DriftCounts(served.metadata) for _ in range(3))
    for house, price in zip(houses, prices, strict=True):
        one_by_one.observe(encode([house]), [price])
    small = BINNED_AT_ONCE_FROM - 1
    for start in range(0, len(houses), small):
        in_small_calls.observe(encode(houses[start : start + small]), prices[start : start + small])
    batched.observe(encode(houses), prices)
    assert counted(one_by_one) == expected
    assert counted(in_small_calls) == expected
    assert counted(batched) == expected
    assert sum(count for feature, _, _, count in batched.series() if feature == "sqft") == len(houses)


def test_the_prices_binned_reach_the_price_histogram_as_bisect_left_puts_them(served: ServingModel) -> None:
    """The price histogram (``le`` buckets) is added to when the drift counts bin, for held calls and
    for batches alike, with a price on every bucket bound and around it."""
    bounds = (*map(float, PRICE_BUCKETS_DOLLARS), float("inf"))
    prices = [price + offset for price in PRICE_BUCKETS_DOLLARS for offset in (-0.01, 0.0, 0.01)] + [1.0, 9e9]
    histogram = Histogram("prices", "test", buckets=PRICE_BUCKETS_DOLLARS).labels()
    counts = DriftCounts(served.metadata, histogram)
    houses = encode([VALID_HOUSE] * len(prices))
    for index, price in enumerate(prices):  # held, one by one
        counts.observe(houses[index : index + 1], [price])
    counts.observe(houses, prices)  # binned at once
    assert len(prices) >= BINNED_AT_ONCE_FROM
    expected = [0] * len(bounds)
    for price in prices:
        expected[bisect_left(bounds, price)] += 2
    assert histogram.counts != expected  # half of them still held
    list(counts.series())  # a scrape
    assert histogram.counts == expected
    assert histogram.sum == pytest.approx(2 * sum(prices))


def test_a_matrix_not_in_c_order_is_refused_not_miscounted(served: ServingModel) -> None:
    counts = DriftCounts(served.metadata)
    with pytest.raises(TypeError):
        counts.observe(np.asfortranarray(encode([VALID_HOUSE, VALID_HOUSE])), [1.0, 2.0])


def test_a_new_model_bins_the_previous_ones_held_prices_into_its_histogram(served: ServingModel) -> None:
    registry = CollectorRegistry()
    metrics = ModelMetrics(registry)
    metrics.model_loaded(served.metadata)
    metrics.priced("/predict", TEST_VERSION, 0.001, encode([VALID_HOUSE]), [300_000.0])  # held
    metrics.model_loaded(served.metadata.model_copy(update={"version": "9.0.0"}))
    counts = {
        sample.labels["model_version"]: sample.value
        for family in text_string_to_metric_families(generate_latest(registry).decode())
        for sample in family.samples
        if sample.name == "house_price_prediction_dollars_count"
    }
    assert counts == {TEST_VERSION: 1.0, "9.0.0": 0.0}


def test_categories_count_in_the_references_order_whatever_the_models_codes(served: ServingModel) -> None:
    """The encoded matrix holds a category's code in the model (its place in ``CATEGORIES``); the
    reference may list the categories in another order, and each count must land on its own label."""
    reference = served.metadata.reference
    location = reference.features["location"]
    assert isinstance(location, CategoryBins)
    reversed_location = CategoryBins(categories=location.categories[::-1], ratios=location.ratios[::-1])
    reordered = reference.model_copy(update={"features": {**reference.features, "location": reversed_location}})
    counts = DriftCounts(served.metadata.model_copy(update={"reference": reordered}))
    houses = data.houses(12, 300)
    prices = served.predict(houses).tolist()
    counts.observe(encode(houses), prices)
    assert counted(counts)["location"] == expected_counts(reordered, houses, prices)["location"]
    assert len(set(counted(counts)["location"].values())) > 1  # the categories are not all equally common


def test_a_scrape_binning_beside_the_event_loop_loses_no_house(served: ServingModel) -> None:
    """The scrape (a thread-pool thread) bins what is held while the loop goes on adding: every house
    priced is counted once, whoever bins it. The threads take turns every microsecond rather than
    every 5 ms, so that a scrape lands between any two steps of ``observe``."""
    counts, houses, scraped = DriftCounts(served.metadata), 200_000, []
    one = encode([VALID_HOUSE])
    done = threading.Event()

    def scrape() -> None:
        while not done.is_set():
            scraped.append(sum(count for feature, _, _, count in counts.series() if feature == "sqft"))

    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    scraper = threading.Thread(target=scrape)
    scraper.start()
    try:
        for _ in range(houses):
            counts.observe(one, [300_000.0])
    finally:
        done.set()
        scraper.join()
        sys.setswitchinterval(switch_interval)
    assert len(scraped) > 1
    assert scraped == sorted(scraped)  # a counter never goes down
    totals = {feature: 0 for feature in bins_of(served.metadata.reference)}
    for feature, _, _, count in counts.series():
        totals[feature] += count
    assert set(totals.values()) == {houses}


def test_values_outside_the_training_range_fall_in_the_first_or_last_bin(served: ServingModel) -> None:
    counts = DriftCounts(served.metadata)
    counts.observe(encode([SMALLEST, LARGEST]), [1.0, 1e9])
    seen = {(feature, label) for feature, label, _, count in counts.series() if count}
    first = {feature: bin_labels(bins)[0] for feature, bins in bins_of(served.metadata.reference).items()}
    last = {feature: bin_labels(bins)[-1] for feature, bins in bins_of(served.metadata.reference).items()}
    numeric = [feature for feature in first if feature not in CATEGORIES]
    assert seen == {
        *((feature, first[feature]) for feature in numeric),
        *((feature, last[feature]) for feature in numeric),
        ("location", "waterfront"),
        ("location", "mountain"),
        ("condition", "Poor"),
        ("condition", "Excellent"),
    }


def test_a_model_of_another_version_replaces_the_series(served: ServingModel) -> None:
    registry = CollectorRegistry()
    metrics = ModelMetrics(registry)
    metrics.model_loaded(served.metadata)
    metrics.priced("/predict", TEST_VERSION, 0.001, encode([VALID_HOUSE]), [300_000.0])
    newer: ModelMetadata = served.metadata.model_copy(update={"version": "9.0.0"})
    metrics.model_loaded(newer)
    versions = {
        (sample.name, sample.labels["model_version"], sample.value)
        for family in text_string_to_metric_families(generate_latest(registry).decode())
        for sample in family.samples
        if sample.name == OBSERVATIONS
    }
    assert versions == {(OBSERVATIONS, "9.0.0", 0.0)}


def test_every_bin_is_exported_at_zero_from_the_load_with_the_training_shares(
    serve: ServeApp, served: ServingModel
) -> None:
    scrape = drift_series(serve().get("/metrics").text)
    reference = bins_of(served.metadata.reference)
    assert scrape[OBSERVATIONS] == {
        feature: dict.fromkeys(bin_labels(bins), 0.0) for feature, bins in reference.items()
    }
    assert scrape[RATIO] == {
        feature: dict(zip(bin_labels(bins), bins.ratios, strict=True)) for feature, bins in reference.items()
    }
    assert list(scrape[OBSERVATIONS]) == [*FEATURES, PREDICTION]


def test_each_house_priced_counts_once_per_feature_in_its_bin(client: httpx.Client, served: ServingModel) -> None:
    singles = [VALID_HOUSE, SMALLEST, LARGEST]
    batch = data.houses(11, 40)
    prices = [client.post("/predict", json=house).json()["price"] for house in singles]
    prices += client.post("/batch-predict", json={"houses": batch}).json()["predictions"]
    client.post("/predict", json={**VALID_HOUSE, "sqft": -1})  # refused: not counted

    scrape = drift_series(client.get("/metrics").text)
    assert scrape[OBSERVATIONS] == expected_counts(served.metadata.reference, singles + batch, prices)
    assert {feature: sum(bins.values()) for feature, bins in scrape[OBSERVATIONS].items()} == dict.fromkeys(
        [*FEATURES, PREDICTION], 43.0
    )
