"""Houses for the drift drills: drawn as the model's training data is, or shifted on purpose.

``in_distribution`` draws from ``house_price.data.generate`` (the training data's generator) with
another seed; ``shifted`` takes the same houses and moves them where the model was not trained:
only waterfront houses, three times the floor area. Both are deterministic for a seed.
"""

from house_price import data
from house_price.features import MAX_SQFT

SHIFT_SQFT_FACTOR = 3
SHIFT_LOCATION = "waterfront"


def in_distribution(rows: int, seed: int = 2026) -> list[dict[str, object]]:
    """``rows`` houses from the training data's generator (plain JSON types)."""
    return data.houses(seed, rows)


def shifted(rows: int, seed: int = 2026) -> list[dict[str, object]]:
    """The same houses as ``in_distribution``, all waterfront and three times larger."""
    return [
        {**house, "location": SHIFT_LOCATION, "sqft": min(float(house["sqft"]) * SHIFT_SQFT_FACTOR, MAX_SQFT)}
        for house in in_distribution(rows, seed)
    ]
