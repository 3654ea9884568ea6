"""The model the service answers with: the artefact's exported trees in ONNX Runtime.

``load`` hands the artefact to a child process (``python -m house_price.parity``) that reads it with
scikit-learn, checks the export against the pipeline and passes back the metadata and the exported
model; a disagreement, or an artefact without an export, is refused with the child's reason. The
serving process itself never imports scikit-learn, so its memory holds the exported model alone.
"""

import base64
import json
import logging
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import onnxruntime

from house_price.encoding import encode
from house_price.metadata import ModelLoadError, ModelMetadata

log = logging.getLogger(__name__)

# The exported graph's input (houses encoded in ``features.MODEL_COLUMNS`` order) and output (dollars).
INPUT = "houses"
OUTPUT = "price"
CHECK_TIMEOUT_SECONDS = 300
_PACKAGE_ROOT = Path(__file__).resolve().parent.parent


class PricingModel(Protocol):
    """What the routes need from a model: prices for houses already encoded by ``house_price.encoding``
    (the routes encode once, for the model and the drift counts alike)."""

    @property
    def metadata(self) -> ModelMetadata: ...

    def predict_encoded(self, encoded: np.ndarray) -> np.ndarray: ...


PARALLEL_FROM = 128
"""Houses from which one model call may use more than one thread (``threads``). Fewer take one: ONNX
Runtime splits a single house's trees between threads, 7.4 us on one thread and 13.7 us on two, and
keeps up to 64 houses on one thread anyway; 128 houses took 0.27 ms on one thread and 0.16 ms on
two, 1,000 houses 2.4 and 1.5 ms (2 cores, one process)."""


def _session(exported: bytes, threads: int) -> onnxruntime.InferenceSession:
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Idle pool threads would spin on the cores the requests need.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(exported, options, providers=["CPUExecutionProvider"])


class ServingModel:
    """Encodes houses (``house_price.encoding``) and runs the exported trees; safe to call from many threads.

    A call of ``PARALLEL_FROM`` houses or more runs on up to ``threads`` threads, a smaller one on
    one: two sessions of the same trees (about 110 kB of ONNX each here), since ONNX Runtime fixes a
    session's threads when it is built.
    """

    def __init__(self, exported: bytes, metadata: ModelMetadata, threads: int = 1) -> None:
        self._one = _session(exported, 1)
        self._parallel = _session(exported, threads) if threads > 1 else self._one
        self._metadata = metadata

    @property
    def metadata(self) -> ModelMetadata:
        return self._metadata

    @property
    def threads(self) -> int:
        """Threads a call of ``PARALLEL_FROM`` houses or more may use (ONNX Runtime's intra-op threads)."""
        return self._parallel.get_session_options().intra_op_num_threads

    def predict(self, houses: Sequence[Mapping[str, object]]) -> np.ndarray:
        """Prices in dollars, one per house, in order."""
        return self.predict_encoded(encode(houses))

    def predict_encoded(self, encoded: np.ndarray) -> np.ndarray:
        """Prices in dollars, one per row of ``encoding.encode``'s matrix, in order."""
        session = self._parallel if len(encoded) >= PARALLEL_FROM else self._one
        [prices] = session.run([OUTPUT], {INPUT: encoded})
        return prices.reshape(-1)


def load(path: Path, threads: int = 1) -> ServingModel:
    """The artefact's exported model, once a child process found it agrees with the pipeline.

    Raises ``ModelLoadError`` with the reason when the artefact is refused.
    """
    pythonpath = os.pathsep.join(filter(None, (str(_PACKAGE_ROOT), os.environ.get("PYTHONPATH"))))
    try:
        checked = subprocess.run(
            [sys.executable, "-m", "house_price.parity", str(path)],
            env={**os.environ, "PYTHONPATH": pythonpath},
            capture_output=True,
            text=True,
            timeout=CHECK_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ModelLoadError(f"checking {path} took over {CHECK_TIMEOUT_SECONDS} s") from None
    if checked.returncode != 0:
        reason = checked.stderr.strip().splitlines()[-1:] or [f"exit code {checked.returncode}"]
        raise ModelLoadError(reason[0])
    answer = json.loads(checked.stdout.strip().splitlines()[-1])
    metadata = ModelMetadata.model_validate(answer["metadata"])
    parity = answer["parity"]
    log.info(
        "model %s: the export agrees with its pipeline on %d houses, worst by $%.6f (%.2e)",
        metadata.version,
        parity["houses"],
        parity["worst_dollars"],
        parity["worst_relative"],
    )
    return ServingModel(base64.b64decode(answer["exported"]), metadata, threads)
