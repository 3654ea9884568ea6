"""Fixtures for the app tests: one small trained artefact per session, live apps on demand."""

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from house_price.api import create_app
from house_price.config import Settings
from house_price.model import TrainedModel, read, save
from house_price.runtime import PricingModel, ServingModel, load
from house_price.train import train

from tests.app.appserver import ThreadedServer, wait_until

TEST_ROWS = 2_000
TEST_SEED = 42
TEST_VERSION = "1.2.3"

VALID_HOUSE: dict[str, object] = {
    "sqft": 1800,
    "bedrooms": 3,
    "bathrooms": 2,
    "location": "suburban",
    "year_built": 1995,
    "condition": "Good",
}


@pytest.fixture(scope="session")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real artefact trained once for the whole session."""
    path = tmp_path_factory.mktemp("model") / "model.joblib"
    save(train(seed=TEST_SEED, rows=TEST_ROWS, version=TEST_VERSION), path)
    return path


@pytest.fixture(scope="session")
def trained(model_path: Path) -> TrainedModel:
    """The artefact as written: the scikit-learn pipeline (the truth) and its export."""
    return read(model_path)


@pytest.fixture(scope="session")
def served(model_path: Path) -> ServingModel:
    """The artefact as the service answers with it: the export, checked against the pipeline, with the
    service's default threads."""
    return load(model_path, threads=Settings().model_threads)


ServeApp = Callable[..., httpx.Client]


@pytest.fixture
def serve(model_path: Path, served: ServingModel) -> Iterator[ServeApp]:
    """Serve ``create_app(settings)`` with real uvicorn; return an HTTP client bound to it.

    Keyword arguments override settings; ``load_model`` replaces the service's loader and
    ``wait_ready=False`` returns before the model is loaded. The session's artefact with the default
    model threads is served as ``served`` loaded it (through the service's loader, once per session) rather
    than checked again in a child process for every app; any other artefact or thread count goes
    through the service's own loader.
    """

    def session_model(_: Path) -> ServingModel:
        return served

    with ExitStack() as stack:

        def build(
            wait_ready: bool = True,
            load_model: Callable[[Path], PricingModel] | None = None,
            **overrides: object,
        ) -> httpx.Client:
            settings = Settings(**{"model_path": model_path, **overrides})
            if load_model is None and settings.model_path == model_path and settings.model_threads == served.threads:
                load_model = session_model
            server = stack.enter_context(ThreadedServer(create_app(settings, load_model=load_model)))
            client = stack.enter_context(httpx.Client(base_url=server.url, timeout=10))
            if wait_ready:
                wait_until(lambda: client.get("/ready").status_code == 200, 30, "the model to load")
            return client

        yield build


@pytest.fixture
def client(serve: ServeApp) -> httpx.Client:
    return serve()
