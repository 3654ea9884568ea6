"""The model's input features: their names, order and allowed categories.

One definition shared by the data generator, the training pipeline, the request schemas and the
model wrapper, so a feature cannot be renamed in one place and forgotten in another.
"""

from enum import StrEnum


class Location(StrEnum):
    """Where the house is."""

    URBAN = "urban"
    SUBURBAN = "suburban"
    RURAL = "rural"
    WATERFRONT = "waterfront"
    MOUNTAIN = "mountain"


class Condition(StrEnum):
    """The state of the house, worst first (the order is meaningful to the model)."""

    POOR = "Poor"
    FAIR = "Fair"
    GOOD = "Good"
    EXCELLENT = "Excellent"


FEATURES: tuple[str, ...] = (
    "sqft",
    "bedrooms",
    "bathrooms",
    "location",
    "year_built",
    "condition",
)
"""Column order of every feature matrix the pipeline sees."""

NUMERIC_FEATURES: tuple[str, ...] = ("sqft", "bedrooms", "bathrooms", "year_built")
LOCATIONS: tuple[str, ...] = tuple(member.value for member in Location)
CONDITIONS: tuple[str, ...] = tuple(member.value for member in Condition)
CATEGORIES: dict[str, tuple[str, ...]] = {"location": LOCATIONS, "condition": CONDITIONS}
"""Each categorical feature's values; a value's position is its ordinal code in the model."""

MODEL_COLUMNS: tuple[str, ...] = (*NUMERIC_FEATURES, *CATEGORIES)
"""Column order of the encoded matrix the trees read: numbers first, then the category codes."""

OLDEST_YEAR_BUILT = 1800
MAX_SQFT = 100_000.0
MAX_BEDROOMS = 50
MAX_BATHROOMS = 50.0
