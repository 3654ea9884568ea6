"""The FastAPI service: routes, CORS, metrics, and the ``app`` uvicorn serves.

``create_app(settings)`` builds a fresh app with its own metrics registry and model state.
``house_price.api:app`` (what ``uvicorn house_price.api:app`` imports) is built on first access
from the ``MLMON_*`` environment, so importing this module has no side effects.
"""

import gc
import os
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path

import numpy as np
from fastapi import FastAPI, HTTPException, status
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from prometheus_client import CollectorRegistry

from house_price import __version__, runtime
from house_price.config import Settings
from house_price.drill import add_drill
from house_price.encoding import encode
from house_price.instrumentation import instrument
from house_price.jsonbody import OrjsonRoute
from house_price.metrics import ModelMetrics, NoMetrics, PredictionRecorder
from house_price.runtime import PricingModel
from house_price.schemas import (
    BatchPredictionResponse,
    BatchRequest,
    HealthResponse,
    House,
    PredictionResponse,
    ReadinessResponse,
    batch_request_model,
)
from house_price.state import ModelState
from house_price.validation import ERROR_FIELDS, validation_error_handler

PREDICT = "/predict"
BATCH_PREDICT = "/batch-predict"
RETRY_AFTER_SECONDS = "5"
# Allocations between two collections of the garbage collector's youngest generation (CPython: 700).
YOUNG_COLLECTION_EVERY = 10_000
# Bytes that are not text (not UTF-8) never reach validation: the framework answers 400 for them.
UNREADABLE_BODY: dict[int | str, dict[str, object]] = {
    400: {"description": "the body is not readable text (not UTF-8)"}
}


def create_app(settings: Settings, *, load_model: Callable[[Path], PricingModel] | None = None) -> FastAPI:
    """Build the service; the model is loaded in the background once the app starts.

    ``load_model`` defaults to the artefact's exported model (``runtime.load``) with
    ``settings.model_threads`` threads per call.
    """
    load = load_model or partial(runtime.load, threads=settings.model_threads)
    registry = CollectorRegistry()
    recorder: PredictionRecorder = (
        ModelMetrics(registry, (PREDICT, BATCH_PREDICT), ERROR_FIELDS) if settings.metrics_enabled else NoMetrics()
    )
    state = ModelState()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        state.start_loading(lambda: load(settings.model_path), recorder.model_loaded)
        yield

    # Swagger UI (/docs) and ReDoc (/redoc) load their scripts, styles and icon from the app itself,
    # under /static-offline-docs, so both work on a cluster without internet access; FastAPI's own pages
    # load them from a CDN. fastapi-offline 1.7.7 (2026-06) ships Swagger UI 5.32 and ReDoc 2.5, the
    # major versions FastAPI loads, and builds the pages with FastAPI's own get_swagger_ui_html and
    # get_redoc_html (ReDoc without Google Fonts); swagger-ui-bundle, the other package of the assets,
    # last released in 2023 with Swagger UI 4.15 and no ReDoc.
    app = FastAPIOffline(
        title="House price model",
        version=__version__,
        description="Prices houses with a gradient-boosted tree model; see /ready for the model version.",
        lifespan=lifespan,
        # FastAPI's OpenTelemetry hooks (0.16x) look the global tracer, meter and logger providers up
        # on every request to find out whether anyone configured one: 9 us of a 105 us /predict in
        # process. The image carries no OpenTelemetry SDK, and the service's telemetry is its
        # Prometheus metrics, so they are off.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_credentials=settings.cors_allow_credentials,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "Authorization"],
        )
    app.router.route_class = OrjsonRoute
    # Inside the metrics middleware (added last, so outermost): the drill's 500s and delays are measured.
    add_drill(app, settings, (PREDICT, BATCH_PREDICT))
    app.add_exception_handler(RequestValidationError, validation_error_handler(recorder, settings.max_batch_size))
    _add_routes(app, state, recorder, batch_request_model(settings.max_batch_size))
    if settings.metrics_enabled:
        # After the routes: /metrics is matched after them, once per scrape rather than once per request.
        instrument(app, registry)
    return app


def _cents(predicted: np.ndarray) -> list[float]:
    """Prices rounded to cents, as Python floats for the response.

    One house: ``round`` (0.3 us; NumPy's call costs more for one value). Many: NumPy rounds them
    all in one call, 0.02 ms for 1,000 where ``round`` per price took 0.55 ms, a tenth of a batch's
    time; both give the same cents (checked on a million prices)."""
    if len(predicted) == 1:
        return [round(float(predicted[0]), 2)]
    rounded: list[float] = np.round(np.asarray(predicted, dtype=np.float64), 2).tolist()
    return rounded


def _add_routes(
    app: FastAPI,
    state: ModelState,
    recorder: PredictionRecorder,
    batch_model: type[BatchRequest],
) -> None:
    def loaded_model() -> PricingModel:
        model = state.model
        if model is None:
            raise HTTPException(
                status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
                detail=f"model not available ({state.status}); see /ready",
                headers={"Retry-After": RETRY_AFTER_SECONDS},
            )
        return model

    def price(model: PricingModel, houses: Sequence[House], handler: str) -> list[float]:
        # The validated fields as they are (a house's own dict): dumping each house again cost more than the model.
        rows = [vars(house) for house in houses]
        started = time.perf_counter()
        encoded = encode(rows)
        predicted = model.predict_encoded(encoded)
        seconds = time.perf_counter() - started
        prices = _cents(predicted)
        recorder.priced(handler, model.metadata.version, seconds, encoded, prices)
        return prices

    @app.post(PREDICT, response_model=PredictionResponse, tags=["predictions"], responses=UNREADABLE_BODY)
    async def predict(house: House) -> PredictionResponse:
        """Price one house."""
        # On the event loop: one house costs the model microseconds, less than the two hops to the
        # thread pool (endpoint, response) a plain function would take.
        model = loaded_model()
        [value] = price(model, [house], PREDICT)
        return PredictionResponse(price=value, model_version=model.metadata.version)

    @app.post(
        BATCH_PREDICT,
        response_model=BatchPredictionResponse,
        tags=["predictions"],
        responses={413: {"description": "more houses than MLMON_MAX_BATCH_SIZE"}, **UNREADABLE_BODY},
    )
    async def batch_predict(request: batch_model) -> BatchPredictionResponse:  # type: ignore[valid-type]
        """Price several houses in one model call, answers in request order."""
        # On the event loop too, which it holds for about 4-5 ms per 1,000 houses (the trees on two
        # threads from runtime.PARALLEL_FROM houses): in the thread pool it held the GIL for all but
        # ONNX Runtime's share of that, so other requests waited about as long, and the two hops
        # (endpoint, response) cost more than they gave.
        model = loaded_model()
        recorder.batch(len(request.houses))
        values = price(model, request.houses, BATCH_PREDICT)
        return BatchPredictionResponse(predictions=values, model_version=model.metadata.version)

    @app.get("/health", response_model=HealthResponse, tags=["probes"])
    def health() -> HealthResponse:
        """Liveness: 200 whenever the process serves requests."""
        return HealthResponse()

    @app.get(
        "/ready",
        response_model=ReadinessResponse,
        tags=["probes"],
        responses={503: {"model": ReadinessResponse}},
    )
    def ready() -> JSONResponse:
        """Readiness: 200 once the model is loaded, 503 while loading or after a failure."""
        model = state.model
        if model is not None:
            body = ReadinessResponse(status="ready", model_version=model.metadata.version)
            return JSONResponse(body.model_dump(exclude_none=True))
        body = ReadinessResponse(status=state.status, detail=state.error)
        return JSONResponse(body.model_dump(exclude_none=True), status_code=status.HTTP_503_SERVICE_UNAVAILABLE)


def __getattr__(name: str) -> FastAPI:
    if name == "app":
        app = create_app(Settings.from_env(os.environ))
        tune_garbage_collector()
        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def tune_garbage_collector() -> None:
    """Keep the garbage collector's work off the requests: freeze what start-up built, collect the
    young generation less often.

    The server process holds about 60,000 objects the collector tracks from the moment it built the
    app (FastAPI's routes and schemas, pydantic's validators, NumPy's and ONNX Runtime's Python
    layers) until it exits. A full collection walks all of them, 20 ms here, and one comes whenever
    enough objects have outlived two younger collections: the houses the drift counts hold until
    they bin them do, and 20 ms pauses lifted the single-connection p99 from 0.5 ms to 6 ms in the
    benchmark. ``gc.freeze`` (CPython's own tool for this, 3.7+) moves what exists now out of the
    collector's reach, after a collection so that no garbage is kept: a full collection then walks
    only what the requests left, under 0.1 ms.

    A 1,000-house batch makes some 4,000 objects that die with the request; at CPython's default of
    a young collection every 700 allocations, collections were 5 % of its instructions. Every
    10,000 they happen about once a batch (59.1 against 62.2 million instructions a batch); what a
    young generation that size holds is a few megabytes at most.

    The server's entry point calls it (uvicorn's ``house_price.api:app``, and the benchmark's
    variants of it); ``create_app`` does not, since tests build many apps in one process and free
    them again.
    """
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_EVERY, older, oldest)
