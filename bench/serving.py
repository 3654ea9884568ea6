"""Variants of the service for the benchmark only, served by real uvicorn (``uvicorn --factory``).

They live in bench/, which the image never contains (app/Dockerfile copies ``house_price/`` alone),
so no switch in the service itself can turn its model into a constant in production.

* ``constant_app``: the same app, settings and artefact metadata, with a constant in place of the
  model: what the HTTP stack, validation and metrics cost on their own (the ceiling the full
  service is measured against in the same run).
* ``pipeline_app``: the same app answering with the artefact's scikit-learn pipeline, as the
  service did before it served the export: the memory the export is compared with.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from fastapi import FastAPI
from house_price import model, runtime
from house_price.api import create_app, tune_garbage_collector
from house_price.config import Settings
from house_price.features import CATEGORIES, NUMERIC_FEATURES
from house_price.metadata import ModelMetadata

CONSTANT_PRICE = 250_000.0


@dataclass(frozen=True)
class ConstantModel:
    """Answers the same price for every house, with the artefact's metadata."""

    metadata: ModelMetadata

    def predict_encoded(self, encoded: np.ndarray) -> np.ndarray:
        return np.full(len(encoded), CONSTANT_PRICE)


@dataclass(frozen=True)
class PipelineModel:
    """The artefact's scikit-learn pipeline behind the routes' interface: the encoded houses decoded
    back to the fields the pipeline reads."""

    trained: model.TrainedModel

    @property
    def metadata(self) -> ModelMetadata:
        return self.trained.metadata

    def predict_encoded(self, encoded: np.ndarray) -> np.ndarray:
        houses = [
            {
                **dict(zip(NUMERIC_FEATURES, row, strict=False)),
                **{
                    name: values[int(code)]
                    for (name, values), code in zip(CATEGORIES.items(), row[len(NUMERIC_FEATURES) :], strict=True)
                },
            }
            for row in encoded.tolist()
        ]
        return self.trained.predict(houses)


def _constant(path: Path) -> ConstantModel:
    return ConstantModel(metadata=runtime.load(path).metadata)


def constant_app() -> FastAPI:
    """``uvicorn --factory bench.serving:constant_app``, configured by ``MLMON_*`` like the service."""
    app = create_app(Settings.from_env(os.environ), load_model=_constant)
    tune_garbage_collector()  # as the service's entry point does
    return app


def pipeline_app() -> FastAPI:
    """``uvicorn --factory bench.serving:pipeline_app``: the artefact's pipeline answers."""
    app = create_app(Settings.from_env(os.environ), load_model=lambda path: PipelineModel(model.read(path)))
    tune_garbage_collector()
    return app
