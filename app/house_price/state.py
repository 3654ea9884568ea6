"""The service's one piece of state: the model, loaded once in a background thread."""

import logging
import threading
from collections.abc import Callable
from typing import Literal

from house_price.metadata import ModelLoadError, ModelMetadata
from house_price.runtime import PricingModel

log = logging.getLogger(__name__)

Status = Literal["loading", "ready", "failed"]


class ModelState:
    """Holds the loaded model, or the reason there is none yet.

    The loader thread writes each attribute once; request threads only read them, and a
    reference assignment is atomic, so no lock is needed.
    """

    def __init__(self) -> None:
        self._model: PricingModel | None = None
        self._error: str | None = None

    @property
    def model(self) -> PricingModel | None:
        return self._model

    @property
    def error(self) -> str | None:
        return self._error

    @property
    def status(self) -> Status:
        if self._model is not None:
            return "ready"
        return "failed" if self._error is not None else "loading"

    def start_loading(
        self,
        load: Callable[[], PricingModel],
        on_loaded: Callable[[ModelMetadata], None],
    ) -> threading.Thread:
        """Load in a daemon thread so the process answers /health meanwhile."""
        thread = threading.Thread(target=self._load, args=(load, on_loaded), name="model-loader", daemon=True)
        thread.start()
        return thread

    def _load(self, load: Callable[[], PricingModel], on_loaded: Callable[[ModelMetadata], None]) -> None:
        try:
            model = load()
        except ModelLoadError as error:
            log.error("model not loaded: %s", error)
            self._error = str(error)
            return
        except Exception as error:
            log.exception("model not loaded")
            self._error = f"unexpected error while loading the model: {error!r}"
            return
        on_loaded(model.metadata)
        self._model = model
        log.info("model %s loaded", model.metadata.version)
