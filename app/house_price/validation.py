"""Turning request validation errors into metrics and answers (422, or 413 for big batches)."""

import math
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.responses import Response

from house_price.features import FEATURES
from house_price.metrics import PredictionRecorder

BATCH_FIELD = "houses"
UNKNOWN_FIELD = "unknown_field"
BODY = "body"
_KNOWN_FIELDS = frozenset((*FEATURES, BATCH_FIELD))
# Every value error_field can return: the label values of house_price_validation_errors_total.
ERROR_FIELDS: tuple[str, ...] = (*FEATURES, BATCH_FIELD, UNKNOWN_FIELD, BODY)


def error_field(error: Mapping[str, Any]) -> str:
    """The metric label for one error: a feature, ``houses``, ``unknown_field`` or ``body``.

    Labels come from a fixed set, never from the request, so a client cannot grow the
    metric's cardinality by sending made-up field names.
    """
    if error.get("type") == "extra_forbidden":
        return UNKNOWN_FIELD
    names = [part for part in error.get("loc", ()) if isinstance(part, str) and part != BODY]
    if not names:
        return BODY
    return names[-1] if names[-1] in _KNOWN_FIELDS else UNKNOWN_FIELD


def _oversized_batch(errors: list[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    for error in errors:
        if error.get("type") == "too_long" and tuple(error.get("loc", ())) == (BODY, BATCH_FIELD):
            return error
    return None


def _json_safe(value: Any) -> Any:
    """FastAPI's error detail echoes the input; NaN or Infinity there would make rendering it
    fail with a 500, so non-finite numbers are echoed as strings instead."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, list):
        return [_json_safe(item) for item in value]
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    return value


def validation_error_handler(
    recorder: PredictionRecorder, max_batch_size: int
) -> Callable[[Request, Exception], Awaitable[Response]]:
    """Count errors per field; answer 413 for an over-cap batch, else FastAPI's usual 422 body."""

    async def handle(request: Request, exc: Exception) -> Response:
        if not isinstance(exc, RequestValidationError):
            raise exc
        errors = list(exc.errors())
        recorder.validation_errors(error_field(error) for error in errors)
        oversized = _oversized_batch(errors)
        if oversized is not None:
            received = oversized.get("ctx", {}).get("actual_length")
            return JSONResponse(
                status_code=413,
                content={
                    "detail": f"a batch holds at most {max_batch_size} houses "
                    f"(MLMON_MAX_BATCH_SIZE); this one has {received}: split it"
                },
            )
        return JSONResponse(status_code=422, content={"detail": _json_safe(jsonable_encoder(errors))})

    return handle
