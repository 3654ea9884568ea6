"""The service under schemathesis, generated from its own OpenAPI document: no input yields a 500.

Column: real (the real app served by real uvicorn on loopback; the schemathesis CLI sends the requests).
Bounded: a fixed number of generated cases per operation and a fixed seed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.app.appserver import AppServer

pytestmark = pytest.mark.timeout(600)


def test_no_generated_request_gets_a_server_error(model_path: Path, tmp_path: Path) -> None:
    with AppServer(env={"MLMON_MODEL_PATH": str(model_path)}) as server:
        run = subprocess.run(
            [
                str(Path(sys.executable).parent / "schemathesis"),
                "--config-file",
                str(Path(__file__).with_name("schemathesis.toml")),
                "run",
                f"{server.url}/openapi.json",
                "--checks",
                "not_a_server_error,negative_data_rejection,positive_data_acceptance,status_code_conformance",
                "--max-examples",
                "60",
                "--seed",
                "20261129",
                "--report",
                "junit",
                "--report-dir",
                str(tmp_path),
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=540,
            check=False,
        )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert "test cases" in run.stdout.lower() or "passed" in run.stdout.lower(), run.stdout[-2000:]
