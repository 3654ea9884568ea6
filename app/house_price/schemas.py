"""Request and response bodies: the service's edge, validated by pydantic."""

import time
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, create_model, field_validator

from house_price.features import (
    MAX_BATHROOMS,
    MAX_BEDROOMS,
    MAX_SQFT,
    OLDEST_YEAR_BUILT,
    Condition,
    Location,
)

EXAMPLE_HOUSE = {
    "sqft": 1800,
    "bedrooms": 3,
    "bathrooms": 2,
    "location": "suburban",
    "year_built": 1995,
    "condition": "Good",
}


_this_year: tuple[int, float, float] = (0, 0.0, 0.0)


def current_year() -> int:
    """The current year (UTC), from the clock's seconds: ``datetime.now`` per house was a tenth of a
    1,000-house batch's CPU time, so the year and its bounds are kept until the clock leaves them."""
    global _this_year  # one process-wide value, replaced whole: safe from any thread
    year, starts, ends = _this_year
    now = time.time()
    if not starts <= now < ends:
        year = datetime.now(UTC).year
        starts = datetime(year, 1, 1, tzinfo=UTC).timestamp()
        ends = datetime(year + 1, 1, 1, tzinfo=UTC).timestamp()
        _this_year = (year, starts, ends)
    return year


def _integral(value: object) -> object:
    """JSON has one number type: 3.0 is the integer 3, as JSON Schema's "integer" says; 3.5, "3" and true are not."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


JsonInt = Annotated[int, BeforeValidator(_integral)]


class House(BaseModel):
    """One house to price. Unknown fields are rejected; numbers must be JSON numbers, not strings or booleans."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, json_schema_extra={"examples": [EXAMPLE_HOUSE]})

    sqft: float = Field(strict=True, gt=0, le=MAX_SQFT, description="living area in square feet")
    bedrooms: JsonInt = Field(strict=True, ge=0, le=MAX_BEDROOMS)
    bathrooms: float = Field(strict=True, ge=0, le=MAX_BATHROOMS, multiple_of=0.5)
    location: Location
    year_built: JsonInt = Field(
        strict=True,
        ge=OLDEST_YEAR_BUILT,
        description="not after the current year (checked per request; the documented maximum is the year the "
        "service started)",
        json_schema_extra={"maximum": datetime.now(UTC).year},
    )
    condition: Condition

    @field_validator("year_built")
    @classmethod
    def _not_in_the_future(cls, year: int) -> int:
        current = current_year()
        if year > current:
            raise ValueError(f"year_built {year} is in the future (it is {current})")
        return year


class BatchRequest(BaseModel):
    """Several houses, priced in one model call. The size cap is set per app."""

    model_config = ConfigDict(extra="forbid")

    houses: list[House] = Field(min_length=1)


def batch_request_model(max_size: int) -> type[BatchRequest]:
    """A ``BatchRequest`` whose list is capped at ``max_size`` before any house is validated."""

    return create_model(
        "BatchRequest",
        __base__=BatchRequest,
        houses=(Annotated[list[House], Field(min_length=1, max_length=max_size)], ...),
    )


class PredictionResponse(BaseModel):
    price: float = Field(description="predicted price in dollars")
    model_version: str

    model_config = ConfigDict(protected_namespaces=())


class BatchPredictionResponse(BaseModel):
    predictions: list[float] = Field(description="prices in dollars, in request order")
    model_version: str

    model_config = ConfigDict(protected_namespaces=())


class HealthResponse(BaseModel):
    status: Literal["ok"] = "ok"


class ReadinessResponse(BaseModel):
    status: Literal["ready", "loading", "failed"]
    model_version: str | None = None
    detail: str | None = None

    model_config = ConfigDict(protected_namespaces=())
