"""Synthetic, deterministic training data for the house-price model.

Nothing is downloaded: the same ``(seed, rows)`` always yields the same houses and prices.

Each house is drawn as follows (``rng`` is NumPy's PCG64 generator seeded with ``seed``):

* ``sqft``: log-normal around 1,800 sq ft (sigma 0.4), clipped to 400-8,000, rounded to 10;
* ``bedrooms``: ``round(sqft / 600 + N(0, 0.7))`` clipped to 1-7;
* ``bathrooms``: ``0.6 * bedrooms + N(0, 0.5)`` rounded to a half, clipped to 1-5;
* ``location`` and ``condition``: categorical draws with the weights in this module;
* ``year_built``: uniform integer in 1900-2024.

The price in dollars is::

    (BASE[location] + PER_SQFT[location] * sqft) * CONDITION_FACTOR[condition]
      + 10_000 * bedrooms + 15_000 * bathrooms - 600 * (2024 - year_built)

multiplied by ``1 + N(0, 0.05)`` noise and floored at 20,000.
"""

from dataclasses import dataclass

import numpy as np

from house_price.features import CONDITIONS, FEATURES, LOCATIONS

REFERENCE_YEAR = 2024
OLDEST_GENERATED_YEAR = 1900

BASE_PRICE: dict[str, float] = {
    "urban": 60_000.0,
    "suburban": 40_000.0,
    "rural": 20_000.0,
    "waterfront": 120_000.0,
    "mountain": 35_000.0,
}
PRICE_PER_SQFT: dict[str, float] = {
    "urban": 260.0,
    "suburban": 170.0,
    "rural": 95.0,
    "waterfront": 380.0,
    "mountain": 150.0,
}
CONDITION_FACTOR: dict[str, float] = {"Poor": 0.75, "Fair": 0.9, "Good": 1.0, "Excellent": 1.15}
LOCATION_WEIGHTS: tuple[float, ...] = (0.30, 0.35, 0.15, 0.10, 0.10)
CONDITION_WEIGHTS: tuple[float, ...] = (0.10, 0.25, 0.45, 0.20)
NOISE_SIGMA = 0.05
MIN_PRICE = 20_000.0


@dataclass(frozen=True)
class Dataset:
    """Feature rows in ``features.FEATURES`` order (object array) and their prices in dollars."""

    features: np.ndarray
    prices: np.ndarray


def generate(seed: int, rows: int) -> Dataset:
    """Draw ``rows`` houses and their prices from the documented formula."""
    if rows < 1:
        raise ValueError(f"rows must be at least 1, got {rows}")
    rng = np.random.default_rng(seed)
    sqft = np.round(np.clip(rng.lognormal(np.log(1_800.0), 0.4, rows), 400, 8_000), -1)
    bedrooms = np.clip(np.round(sqft / 600 + rng.normal(0, 0.7, rows)), 1, 7).astype(int)
    bathrooms = np.clip(np.round((0.6 * bedrooms + rng.normal(0, 0.5, rows)) * 2) / 2, 1, 5)
    location = rng.choice(np.array(LOCATIONS, dtype=object), size=rows, p=LOCATION_WEIGHTS)
    condition = rng.choice(np.array(CONDITIONS, dtype=object), size=rows, p=CONDITION_WEIGHTS)
    year_built = rng.integers(OLDEST_GENERATED_YEAR, REFERENCE_YEAR + 1, rows)

    base = np.array([BASE_PRICE[loc] for loc in location])
    per_sqft = np.array([PRICE_PER_SQFT[loc] for loc in location])
    factor = np.array([CONDITION_FACTOR[cond] for cond in condition])
    price = (
        (base + per_sqft * sqft) * factor + 10_000 * bedrooms + 15_000 * bathrooms - 600 * (REFERENCE_YEAR - year_built)
    )
    price = np.maximum(price * (1 + rng.normal(0, NOISE_SIGMA, rows)), MIN_PRICE)

    columns = {
        "sqft": sqft,
        "bedrooms": bedrooms,
        "bathrooms": bathrooms,
        "location": location,
        "year_built": year_built,
        "condition": condition,
    }
    features = np.empty((rows, len(FEATURES)), dtype=object)
    for index, name in enumerate(FEATURES):
        features[:, index] = columns[name]
    return Dataset(features=features, prices=price)


def houses(seed: int, rows: int) -> list[dict[str, object]]:
    """``rows`` houses drawn as ``generate`` draws them, each a request body: feature name to a plain value."""
    return [dict(zip(FEATURES, row, strict=True)) for row in generate(seed, rows).features.tolist()]
