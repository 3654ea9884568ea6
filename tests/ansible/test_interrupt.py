"""Ctrl-C stops a deploy within seconds (issue 16): SIGINT to the process group, as a terminal sends it.

Column: real (the real ansible-playbook runs site.yml while it waits for a Grafana that never answers; no
cluster is needed for the wait, and nothing else runs beside it).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time

from tests.playbook_runner import BIN, REPO, playbook_env

INVENTORY = "tests/ansible/data/existing-cluster/hosts.yml"


def test_ctrl_c_during_a_wait_ends_the_run_within_ten_seconds() -> None:
    with socket.socket() as closed:  # a port nothing listens on: every health check is refused at once
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    run = subprocess.Popen(
        [
            str(BIN / "ansible-playbook"),
            "site.yml",
            "-i",
            INVENTORY,
            "--tags",
            "grafana_dashboards",
            "-e",
            f'{{"mlmon_grafana_url": "http://127.0.0.1:{port}", "grafana_dashboards_health_retries": 1000}}',
        ],
        cwd=REPO,
        env=playbook_env({"MLMON_GRAFANA_ADMIN_PASSWORD": "interrupt-pw-1"}),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        assert run.stdout is not None
        for line in run.stdout:
            if "FAILED - RETRYING" in line:  # in the wait, retrying
                break
        else:
            raise AssertionError("the run never reached the Grafana wait")
        sent = time.monotonic()
        os.killpg(run.pid, signal.SIGINT)
        rest = run.communicate(timeout=30)[0]
        took = time.monotonic() - sent
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
    assert took < 10, f"the run took {took:.1f}s to stop after SIGINT"
    assert run.returncode == 99, rest[-2000:]  # ansible-playbook's exit code for an interrupted run
    assert "User interrupted execution" in rest
