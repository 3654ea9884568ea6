"""The runtimes that could answer with the artefact's trees, side by side in one process.

The scikit-learn pipeline (the truth), treelite's tree interpreter (GTIL) on the same trees, and the
ONNX export the service serves, each fed as it would be in the service: the pipeline with the
request's rows, the others with ``house_price.encoding``'s matrix (its cost included). Rounds
alternate between them; each figure is the best round's CPU time per call, one thread each.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import treelite
from house_price import parity
from house_price.encoding import encode
from house_price.model import read
from house_price.runtime import ServingModel
from threadpoolctl import threadpool_limits

from bench.app import ensure_model

ROUNDS = 5
SINGLE_CALLS = 500
BATCH = 1000
BATCH_CALLS = 10

Predict = Callable[[Sequence[Mapping[str, object]]], np.ndarray]


@dataclass
class Runtime:
    name: str
    single_us: float
    batch_ms: float
    worst_dollars: float


def _cpu_per_call(predict: Predict, houses: Sequence[Mapping[str, object]], calls: int) -> float:
    started = time.process_time()
    for _ in range(calls):
        predict(houses)
    return (time.process_time() - started) / calls


def measure() -> list[Runtime]:
    model = read(ensure_model())
    trees = treelite.sklearn.import_model(model.pipeline.steps[-1][1])
    exported = ServingModel(model.exported, model.metadata)
    candidates: dict[str, Predict] = {
        "scikit-learn pipeline": model.predict,
        "treelite 4.8 GTIL": lambda houses: treelite.gtil.predict(trees, encode(houses), nthread=1).reshape(-1),
        "ONNX Runtime 1.31, the export (served)": exported.predict,
    }
    houses = parity.probe_houses(rows=BATCH)[:BATCH]
    truth = model.predict(houses)
    single: dict[str, list[float]] = {name: [] for name in candidates}
    batch: dict[str, list[float]] = {name: [] for name in candidates}
    with threadpool_limits(limits=1):
        for _ in range(ROUNDS):
            for name, predict in candidates.items():
                single[name].append(_cpu_per_call(predict, houses[:1], SINGLE_CALLS))
                batch[name].append(_cpu_per_call(predict, houses, BATCH_CALLS))
    return [
        Runtime(
            name=name,
            single_us=min(single[name]) * 1e6,
            batch_ms=min(batch[name]) * 1e3,
            worst_dollars=float(np.max(np.abs(predict(houses) - truth))),
        )
        for name, predict in candidates.items()
    ]


def report(runtimes: list[Runtime]) -> list[str]:
    """Markdown lines for bench/RESULTS.md."""
    return [
        "## Model runtimes (`bench/runtimes.py`)",
        "",
        f"One process, one artefact, one thread each, {ROUNDS} alternating rounds (best round's CPU time per "
        f"call): {SINGLE_CALLS} calls with one house, {BATCH_CALLS} with {BATCH} houses (drawn as the "
        "training data is). Encoding the houses is included where the runtime needs it.",
        "",
        f"| runtime | 1 house | {BATCH} houses | worst difference from the pipeline |",
        "|---|---|---|---|",
        *(f"| {r.name} | {r.single_us:,.1f} us | {r.batch_ms:.2f} ms | ${r.worst_dollars:.2g} |" for r in runtimes),
        "",
    ]
