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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from fastapi import FastAPI
from house_price import model, runtime
from house_price.api import create_app, tune_garbage_collector
from house_price.config import Settings
from house_price.metadata import ModelMetadata

CONSTANT_PRICE = 250_000.0


@dataclass(frozen=True)
class ConstantModel:
    """Answers the same price for every house, with the artefact's metadata."""

    metadata: ModelMetadata

    def predict(self, houses: Sequence[Mapping[str, object]]) -> np.ndarray:
        return np.full(len(houses), CONSTANT_PRICE)


def _constant(path: Path) -> ConstantModel:
    return ConstantModel(metadata=runtime.load(path).metadata)


def constant_app() -> FastAPI:
    """``uvicorn --factory bench.serving:constant_app``, configured by ``MLMON_*`` like the service."""
    app = create_app(Settings.from_env(os.environ), load_model=_constant)
    tune_garbage_collector()  # as the service's entry point does
    return app


def pipeline_app() -> FastAPI:
    """``uvicorn --factory bench.serving:pipeline_app``: the artefact's pipeline answers."""
    app = create_app(Settings.from_env(os.environ), load_model=model.read)
    tune_garbage_collector()
    return app
