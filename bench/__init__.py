"""Benchmarks (`python -m bench`). The service's package lives in app/, as the image lays it out; it is
put on the import path here so that benchmarks measuring it in process import it as the service does."""

import sys
from pathlib import Path

_APP_DIR = str(Path(__file__).resolve().parents[1] / "app")
if _APP_DIR not in sys.path:
    sys.path.insert(0, _APP_DIR)
