"""What an artefact says about itself, readable without scikit-learn.

The serving process holds only this and the exported model; the scikit-learn pipeline is loaded
only where it is the truth (training, the parity check), never beside the request path.
"""

import math
from datetime import datetime
from itertools import pairwise
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

SEMVER_PATTERN = r"^\d+\.\d+\.\d+$"
RATIO_SUM_TOLERANCE = 1e-6


class ModelLoadError(RuntimeError):
    """The artefact is missing, unreadable, was not made for this service, or its export disagrees."""


class RegressionMetrics(BaseModel):
    """Scores on the held-out split."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    r2: float
    mae: float = Field(description="mean absolute error, dollars")
    rmse: float = Field(description="root mean squared error, dollars")


def _check_ratios(ratios: tuple[float, ...], bins: int) -> None:
    if len(ratios) != bins:
        raise ValueError(f"{len(ratios)} ratios for {bins} bins")
    if any(not 0 <= ratio <= 1 for ratio in ratios) or not math.isclose(sum(ratios), 1, abs_tol=RATIO_SUM_TOLERANCE):
        raise ValueError(f"ratios must be proportions that sum to 1, got {list(ratios)}")


class NumericBins(BaseModel):
    """A numeric value's bins and the share of the training values in each.

    ``edges`` are the interior edges, strictly increasing: bin 0 is ``(-inf, edges[0])``, bin ``i`` is
    ``[edges[i-1], edges[i])`` and the last is ``[edges[-1], +inf)``, so every value has a bin.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    edges: tuple[float, ...] = Field(min_length=1)
    ratios: tuple[float, ...] = Field(description="training proportion per bin, one more than the edges")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if not all(math.isfinite(edge) for edge in self.edges):
            raise ValueError(f"edges must be finite, got {list(self.edges)}")
        if any(lower >= upper for lower, upper in pairwise(self.edges)):
            raise ValueError(f"edges must be strictly increasing, got {list(self.edges)}")
        _check_ratios(self.ratios, len(self.edges) + 1)
        return self


class CategoryBins(BaseModel):
    """A categorical feature's values, one bin each, and the share of the training values in each."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    categories: tuple[str, ...] = Field(min_length=1)
    ratios: tuple[float, ...] = Field(description="training proportion per category, in ``categories`` order")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if len(set(self.categories)) != len(self.categories):
            raise ValueError(f"categories must be distinct, got {list(self.categories)}")
        _check_ratios(self.ratios, len(self.categories))
        return self


class Reference(BaseModel):
    """The training distribution the live traffic is compared with (the drift metrics, ``house_price.drift``):
    each feature's bins over the training split, and the same for the pipeline's prices of those houses."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    features: dict[str, NumericBins | CategoryBins]
    prediction: NumericBins


class ModelMetadata(BaseModel):
    """Everything needed to tell one artefact from another."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str = Field(pattern=SEMVER_PATTERN)
    trained_at: datetime
    features: tuple[str, ...]
    metrics: RegressionMetrics
    seed: int
    rows: int = Field(gt=0)
    sklearn_version: str
    reference: Reference
