"""Train the house-price model on generated data and write the artefact.

Usage::

    python -m house_price.train --out PATH [--seed 42] [--rows 5000] [--version 1.0.0]

The same seed and row count always give the same held-out metrics; only ``trained_at`` differs.
The artefact holds the pipeline and its ONNX export; an export that disagrees with the pipeline
(``house_price.parity``) is not written. Its metadata holds the training distribution
(``reference``) the service's drift metrics compare live traffic with (``house_price.drift``).
"""

import argparse
import re
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder

from house_price import data, export, parity
from house_price.features import CATEGORIES, CONDITIONS, FEATURES, LOCATIONS, MODEL_COLUMNS, NUMERIC_FEATURES
from house_price.metadata import (
    SEMVER_PATTERN,
    CategoryBins,
    ModelMetadata,
    NumericBins,
    Reference,
    RegressionMetrics,
)
from house_price.model import TrainedModel, save

DEFAULT_SEED = 42
DEFAULT_ROWS = 5_000
DEFAULT_VERSION = "1.0.0"
HELD_OUT_FRACTION = 0.2
DECILES = np.arange(1, 10) / 10  # the floats nearest 0.1 ... 0.9; linspace makes the third 0.30000000000000004

# Monotonic constraints on the transformed columns (numeric columns first, then location and
# condition): price never falls with more floor area, more bathrooms or a better condition.
_MONOTONIC = {"sqft": 1, "bathrooms": 1, "condition": 1}


def build_pipeline(seed: int) -> Pipeline:
    """Ordinal-encode the categories and fit gradient-boosted trees on the result (``MODEL_COLUMNS``)."""
    encode = ColumnTransformer(
        [
            ("numeric", "passthrough", [FEATURES.index(name) for name in NUMERIC_FEATURES]),
            (
                "location",
                OrdinalEncoder(categories=[list(LOCATIONS)]),
                [FEATURES.index("location")],
            ),
            (
                "condition",
                OrdinalEncoder(categories=[list(CONDITIONS)]),
                [FEATURES.index("condition")],
            ),
        ]
    )
    regressor = HistGradientBoostingRegressor(
        max_iter=100,
        learning_rate=0.2,
        categorical_features=[name == "location" for name in MODEL_COLUMNS],
        monotonic_cst=[_MONOTONIC.get(name, 0) for name in MODEL_COLUMNS],
        early_stopping=False,
        random_state=seed,
    )
    return Pipeline([("encode", encode), ("regress", regressor)])


def numeric_bins(values: np.ndarray) -> NumericBins:
    """Bins at the deciles of ``values`` (fewer where deciles coincide, as for bedrooms) and each bin's share.

    The deciles are values of the data (``inverted_cdf``: the smallest value with at least that share
    at or below it), not interpolated between two: bedrooms' edges stay whole numbers, with no bin
    like [2.4, 3) that no house can fall in. A value goes to the bin whose lower edge is the last at
    or below it (``side="right"``), as the service's ``bisect_right`` puts a live value.
    """
    numbers = np.asarray(values, dtype=np.float64)
    edges = np.unique(np.quantile(numbers, DECILES, method="inverted_cdf"))
    counts = np.bincount(np.searchsorted(edges, numbers, side="right"), minlength=len(edges) + 1)
    return NumericBins(edges=tuple(edges.tolist()), ratios=tuple((counts / len(numbers)).tolist()))


def category_bins(values: np.ndarray, categories: Sequence[str]) -> CategoryBins:
    """One bin per category, in ``categories`` order, and each one's share of ``values``."""
    found = list(values)
    return CategoryBins(
        categories=tuple(categories), ratios=tuple(found.count(category) / len(found) for category in categories)
    )


def training_reference(features: np.ndarray, predictions: np.ndarray) -> Reference:
    """The training distribution: each feature's column of ``features`` (rows in ``FEATURES`` order) and
    the predicted prices of those rows."""
    columns = {name: features[:, index] for index, name in enumerate(FEATURES)}
    return Reference(
        features={
            name: category_bins(columns[name], CATEGORIES[name]) if name in CATEGORIES else numeric_bins(columns[name])
            for name in FEATURES
        },
        prediction=numeric_bins(predictions),
    )


def train(
    *,
    seed: int = DEFAULT_SEED,
    rows: int = DEFAULT_ROWS,
    version: str = DEFAULT_VERSION,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> TrainedModel:
    """Fit on generated data, score on a held-out split and export the trees (``house_price.export``)."""
    dataset = data.generate(seed, rows)
    x_train, x_test, y_train, y_test = train_test_split(
        dataset.features, dataset.prices, test_size=HELD_OUT_FRACTION, random_state=seed
    )
    pipeline = build_pipeline(seed).fit(x_train, y_train)
    predicted = pipeline.predict(x_test)
    metrics = RegressionMetrics(
        r2=float(r2_score(y_test, predicted)),
        mae=float(mean_absolute_error(y_test, predicted)),
        rmse=float(np.sqrt(mean_squared_error(y_test, predicted))),
    )
    metadata = ModelMetadata(
        version=version,
        trained_at=clock(),
        features=FEATURES,
        metrics=metrics,
        seed=seed,
        rows=rows,
        sklearn_version=sklearn.__version__,
        reference=training_reference(x_train, pipeline.predict(x_train)),
    )
    return TrainedModel(pipeline=pipeline, exported=export.to_onnx(pipeline), metadata=metadata)


def _version(text: str) -> str:
    if not re.fullmatch(SEMVER_PATTERN, text):
        raise argparse.ArgumentTypeError(f"version must look like X.Y.Z, got {text!r}")
    return text


def _rows(text: str) -> int:
    value = int(text)
    if value < 10:
        raise argparse.ArgumentTypeError(f"rows must be at least 10, got {value}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m house_price.train", description=__doc__)
    parser.add_argument("--out", type=Path, required=True, help="where to write the artefact")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--rows", type=_rows, default=DEFAULT_ROWS)
    parser.add_argument("--version", type=_version, default=DEFAULT_VERSION)
    args = parser.parse_args(argv)

    model = train(seed=args.seed, rows=args.rows, version=args.version)
    try:
        agreement = parity.check(model)
    except parity.ParityError as error:
        print(f"not written: {error}", file=sys.stderr)
        return 1
    save(model, args.out)
    scores = model.metadata.metrics
    print(
        f"wrote model {model.metadata.version} to {args.out}: "
        f"r2={scores.r2:.4f} mae={scores.mae:,.0f} rmse={scores.rmse:,.0f}; "
        f"its ONNX export agrees with the pipeline on {agreement.houses} houses, "
        f"worst by ${agreement.worst_dollars:.6f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
