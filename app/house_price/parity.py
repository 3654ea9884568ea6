"""The scikit-learn pipeline is the truth: the exported model must price every house as it does.

``check(model)`` compares the two on ``probe_houses()``: 10,000 houses drawn as the training data is
(``house_price.data``, with a seed of its own) and the edge houses, every location with every
condition at each corner of the numeric ranges the API accepts. Every price must agree within
0.01 % or $1, whichever is looser.

``python -m house_price.parity ARTEFACT`` is the check the service runs before it serves an artefact
(``house_price.runtime.load``): when the export agrees it prints one JSON line with the metadata, the
exported model and the figures of the comparison; otherwise it prints the reason on stderr and exits 2.
"""

import argparse
import base64
import itertools
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from house_price import data
from house_price.encoding import encode
from house_price.features import (
    CONDITIONS,
    LOCATIONS,
    MAX_BATHROOMS,
    MAX_BEDROOMS,
    MAX_SQFT,
    OLDEST_YEAR_BUILT,
)
from house_price.metadata import ModelLoadError
from house_price.model import TrainedModel, read
from house_price.runtime import PricingModel, ServingModel

PROBE_SEED = 7_919
PROBE_ROWS = 10_000
RELATIVE_TOLERANCE = 1e-4
DOLLAR_TOLERANCE = 1.0


class ParityError(ModelLoadError):
    """The exported model prices some house otherwise than its pipeline."""


@dataclass(frozen=True)
class Parity:
    """How far the exported model strays from the pipeline over the houses compared."""

    houses: int
    disagreeing: int
    worst_dollars: float
    worst_relative: float
    worst_house: dict[str, object]


def edge_houses(year: int | None = None) -> list[dict[str, object]]:
    """Every location with every condition, at each corner of the accepted numeric ranges.

    ``sqft`` must be above 0: 1 sq ft stands for its lower bound, beside the generator's own range.
    """
    newest = year or datetime.now(UTC).year
    corners = itertools.product(
        (1.0, 400.0, 8_000.0, MAX_SQFT),
        (0, MAX_BEDROOMS),
        (0.0, MAX_BATHROOMS),
        (OLDEST_YEAR_BUILT, newest),
        LOCATIONS,
        CONDITIONS,
    )
    names = ("sqft", "bedrooms", "bathrooms", "year_built", "location", "condition")
    return [dict(zip(names, corner, strict=True)) for corner in corners]


def probe_houses(rows: int = PROBE_ROWS, seed: int = PROBE_SEED) -> list[dict[str, object]]:
    """``rows`` generated houses, then the edge houses."""
    return data.houses(seed, rows) + edge_houses()


def compare(houses: Sequence[Mapping[str, object]], truth: np.ndarray, exported: np.ndarray) -> Parity:
    """The comparison of two price vectors for the same houses."""
    dollars = np.abs(exported - truth)
    relative = dollars / np.maximum(np.abs(truth), np.finfo(np.float64).tiny)
    outside = (dollars > DOLLAR_TOLERANCE) & (relative > RELATIVE_TOLERANCE)
    worst = int(np.argmax(dollars))
    return Parity(
        houses=len(houses),
        disagreeing=int(outside.sum()),
        worst_dollars=float(dollars[worst]),
        worst_relative=float(relative.max()),
        worst_house=dict(houses[worst]),
    )


def check(model: TrainedModel, exported: PricingModel | None = None) -> Parity:
    """Compare ``exported`` (by default the artefact's own export) with the pipeline on the probe houses;
    raise ``ParityError`` naming the worst house when any price disagrees."""
    if exported is None:
        try:
            exported = ServingModel(model.exported, model.metadata)
        except Exception as error:
            raise ParityError(f"the artefact's exported model cannot be loaded: {error}") from error
    houses = probe_houses()
    # Encoded as the routes encode them, then priced as the routes price them.
    parity = compare(houses, model.predict(houses), exported.predict_encoded(encode(houses)))
    if parity.disagreeing:
        raise ParityError(
            f"the artefact's exported model disagrees with its scikit-learn pipeline on {parity.disagreeing} of "
            f"{parity.houses} houses (beyond {RELATIVE_TOLERANCE:.2%} and ${DOLLAR_TOLERANCE:g}); worst by "
            f"${parity.worst_dollars:,.2f} for {parity.worst_house}: retrain the artefact"
        )
    return parity


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m house_price.parity", description=__doc__)
    parser.add_argument("artefact", type=Path)
    args = parser.parse_args(argv)
    try:
        model = read(args.artefact)
        parity = check(model)
    except ModelLoadError as error:
        print(error, file=sys.stderr)
        return 2
    answer = {
        "metadata": model.metadata.model_dump(mode="json"),
        "exported": base64.b64encode(model.exported).decode("ascii"),
        "parity": asdict(parity),
    }
    print(json.dumps(answer, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
