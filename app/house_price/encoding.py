"""Houses to the float matrix the exported trees read, without pandas or a ColumnTransformer.

The training pipeline encodes with a ColumnTransformer (numbers passed through, each category as its
ordinal code in ``features.CATEGORIES``): about 1 ms per call whatever the row count, most of a
request once the trees answer in microseconds. The encoding itself is a dictionary look-up per
category, written here because no library does only that without the same per-call overhead; the
parity check (``house_price.parity``) proves it equal to the pipeline's on every category value
before an artefact is served.
"""

from collections.abc import Mapping, Sequence
from itertools import chain
from operator import itemgetter

import numpy as np

from house_price.features import CATEGORIES, MODEL_COLUMNS, NUMERIC_FEATURES

_NUMBERS = itemgetter(*NUMERIC_FEATURES)
_CODES: tuple[tuple[str, dict[str, float]], ...] = tuple(
    (feature, {value: float(code) for code, value in enumerate(values)}) for feature, values in CATEGORIES.items()
)


class EncodingError(ValueError):
    """A house lacks a feature or has a category the model was not trained on."""


def _row(house: Mapping[str, object]) -> tuple[object, ...]:
    return (*_NUMBERS(house), *[codes[house[name]] for name, codes in _CODES])  # type: ignore[index]


def encode(houses: Sequence[Mapping[str, object]]) -> np.ndarray:
    """A ``(len(houses), len(MODEL_COLUMNS))`` float64 matrix in ``MODEL_COLUMNS`` order."""
    width = len(MODEL_COLUMNS)
    try:
        values = np.fromiter(chain.from_iterable(map(_row, houses)), np.float64, count=len(houses) * width)
    except KeyError as error:
        raise EncodingError(f"cannot encode a house: unknown feature or category {error}") from None
    return values.reshape(len(houses), width)
