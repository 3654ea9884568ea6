"""The service as deployed: ``uvicorn house_price.api:app`` configured by MLMON_* variables
(real: a uvicorn subprocess, and /usr/bin/promtool on its real /metrics scrape)."""

import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from house_price.api import YOUNG_COLLECTION_EVERY

from tests.app.appserver import APP_DIR, AppServer, free_port
from tests.app.conftest import TEST_VERSION, VALID_HOUSE

PROMTOOL = shutil.which("promtool")


def test_served_from_the_environment(model_path: Path) -> None:
    env = {"MLMON_MODEL_PATH": str(model_path), "MLMON_MAX_BATCH_SIZE": "2"}
    with AppServer(env) as server:
        assert httpx.get(f"{server.url}/health").json() == {"status": "ok"}
        assert httpx.get(f"{server.url}/ready").json()["model_version"] == TEST_VERSION
        prediction = httpx.post(f"{server.url}/predict", json=VALID_HOUSE)
        assert prediction.json()["model_version"] == TEST_VERSION
        too_many = httpx.post(f"{server.url}/batch-predict", json={"houses": [VALID_HOUSE] * 3})
        assert too_many.status_code == 413


@pytest.mark.skipif(PROMTOOL is None, reason="promtool (Debian package prometheus) not installed")
def test_promtool_finds_nothing_wrong_with_a_real_scrape(model_path: Path) -> None:
    with AppServer({"MLMON_MODEL_PATH": str(model_path)}) as server:
        httpx.post(f"{server.url}/predict", json=VALID_HOUSE)
        httpx.post(f"{server.url}/predict", json={"sqft": -1})
        httpx.post(f"{server.url}/batch-predict", json={"houses": [VALID_HOUSE] * 4})
        httpx.get(f"{server.url}/nowhere")
        scrape = httpx.get(f"{server.url}/metrics").text
    assert "house_price_model_info" in scrape
    checked = subprocess.run(
        [str(PROMTOOL), "check", "metrics"],
        input=scrape,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert (checked.returncode, checked.stdout + checked.stderr) == (0, "")


def run_uvicorn(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "uvicorn", "house_price.api:app", "--port", str(free_port())],
        cwd=APP_DIR,
        env={"PYTHONPATH": str(APP_DIR), "PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_wildcard_origin_with_credentials_refuses_to_start() -> None:
    finished = run_uvicorn({"MLMON_CORS_ORIGINS": "*", "MLMON_CORS_ALLOW_CREDENTIALS": "true"})
    assert finished.returncode != 0
    assert "MLMON_CORS_ORIGINS" in finished.stderr
    assert "MLMON_CORS_ALLOW_CREDENTIALS" in finished.stderr


def test_model_version_override_refuses_to_start() -> None:
    finished = run_uvicorn({"MLMON_MODEL_VERSION": "2.0.0"})
    assert finished.returncode != 0
    assert "MLMON_MODEL_VERSION is not supported" in finished.stderr


def test_the_servers_entry_point_tunes_the_garbage_collector(model_path: Path) -> None:
    """Real process: uvicorn's ``house_price.api:app`` leaves its start-up objects out of the garbage
    collector's full collections and collects the young generation every YOUNG_COLLECTION_EVERY
    allocations (``api.tune_garbage_collector`` says why)."""
    probe = (
        "import gc\n"
        "import house_price.api as api\n"
        "api.app\n"
        "print(gc.get_freeze_count(), len(gc.get_objects()), gc.get_threshold()[0])\n"
    )
    finished = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=APP_DIR,
        env={"PYTHONPATH": str(APP_DIR), "PATH": "/usr/bin:/bin", "MLMON_MODEL_PATH": str(model_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    frozen, tracked, young = map(int, finished.stdout.split())
    assert frozen > 20_000
    assert tracked < frozen // 10
    assert young == YOUNG_COLLECTION_EVERY
