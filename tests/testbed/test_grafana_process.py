"""Column: real (stand-in process). The Grafana stand-in as a process: start-up, shutdown, request log."""

from __future__ import annotations

import signal
import socket
import subprocess
from pathlib import Path

import httpx

from testbed.grafana_standin.launcher import (
    REPO_ROOT,
    GrafanaStandin,
    grafana_command,
    grafana_environment,
    running_grafana,
)


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(grafana_command(*args), cwd=REPO_ROOT, env=grafana_environment(**env),
                          capture_output=True, text=True, timeout=30, check=False)


def test_start_is_refused_without_admin_password() -> None:
    """kube-prometheus-stack sets the password from a Secret; no password, no server."""
    result = _run(GF_SECURITY_ADMIN_USER="admin")
    assert result.returncode == 2
    assert "GF_SECURITY_ADMIN_PASSWORD is not set" in result.stderr
    assert result.stdout == ""


def test_admin_password_is_read_from_a_file(tmp_path: Path) -> None:
    """``GF_SECURITY_ADMIN_PASSWORD__FILE`` works as in the Grafana image."""
    with running_grafana(tmp_path, password_in_file=True) as grafana:
        answer = httpx.get(f"{grafana.url}/api/search", auth=grafana.admin_auth)
        assert answer.status_code == 200


def test_invalid_datasource_file_is_refused(tmp_path: Path) -> None:
    """Two default datasources are refused at start, as Grafana's provisioner does."""
    provisioning = tmp_path / "datasources.yaml"
    provisioning.write_text(
        "apiVersion: 1\ndatasources:\n"
        "  - {name: A, type: prometheus, isDefault: true}\n"
        "  - {name: B, type: prometheus, isDefault: true}\n")
    result = _run("--datasources", str(provisioning), GF_SECURITY_ADMIN_PASSWORD="pw")
    assert result.returncode == 2
    assert "Only one datasource per organization can be marked as default" in result.stderr


def test_ready_line_names_a_listening_loopback_url(grafana_standin: GrafanaStandin) -> None:
    assert grafana_standin.url.startswith("http://127.0.0.1:")
    assert httpx.get(f"{grafana_standin.url}/api/health").status_code == 200


def test_sigterm_stops_the_server_cleanly(tmp_path: Path) -> None:
    with running_grafana(tmp_path) as grafana:
        grafana.process.send_signal(signal.SIGTERM)
        assert grafana.process.wait(timeout=10) == 0
        try:
            httpx.get(f"{grafana.url}/api/health", timeout=2)
        except httpx.ConnectError:
            refused = True
        else:
            refused = False
        assert refused


def test_sigint_stops_the_server_cleanly(tmp_path: Path) -> None:
    with running_grafana(tmp_path) as grafana:
        grafana.process.send_signal(signal.SIGINT)
        assert grafana.process.wait(timeout=10) == 0


def test_request_log_has_one_line_per_request(grafana_standin: GrafanaStandin) -> None:
    """Tests can assert that a rerun made no POST."""
    url = grafana_standin.url
    httpx.get(f"{url}/api/health")
    httpx.get(f"{url}/api/folders")
    httpx.post(f"{url}/api/folders", json={"uid": "logged", "title": "Logged"},
               auth=grafana_standin.admin_auth)
    httpx.get(f"{url}/api/search", params={"type": "dash-db"}, auth=grafana_standin.admin_auth)
    records = grafana_standin.requests()
    assert [(r["method"], r["path"], r["status"], r["user"]) for r in records] == [
        ("GET", "/api/health", 200, None),
        ("GET", "/api/folders", 401, None),
        ("POST", "/api/folders", 200, "admin"),
        ("GET", "/api/search", 200, "admin"),
    ]
    assert records[3]["query"] == "type=dash-db"
    assert all(isinstance(r["ts"], str) for r in records)
    assert [r for r in records if r["method"] == "POST"] == [records[2]]


def test_listens_on_a_pod_style_loopback_address(tmp_path: Path) -> None:
    """Any address it is given, as a pod's (the image listens on 0.0.0.0:3000)."""
    with running_grafana(tmp_path, extra_args=["--host", "127.0.0.7"]) as grafana:
        assert grafana.url.startswith("http://127.0.0.7:")
        assert httpx.get(f"{grafana.url}/api/health").status_code == 200


def test_busy_port_is_reported() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = _run("--port", port, GF_SECURITY_ADMIN_PASSWORD="pw")
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
