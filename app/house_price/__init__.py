"""House-price model service: training, the FastAPI app and its metrics."""

__version__ = "1.0.0"
