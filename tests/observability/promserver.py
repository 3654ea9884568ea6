"""A real Prometheus server (``/usr/bin/prometheus``) on a free loopback port (test equipment).

    scrape = ScrapeJob(job="model", targets=["127.0.0.1:8000"], labels={"namespace": "ns"})
    with PrometheusServer([scrape], rule_files=[Path("files/alerts/rules.yml")]) as prom:
        prom.wait_for_targets_up("model")
        prom.query("up")

Its storage lives in a temporary directory removed on stop. Every wait is bounded.
"""

import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import yaml

from tests.app.appserver import HOST, free_port, wait_until
from tests.processes import terminate

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"


class PrometheusError(RuntimeError):
    """Prometheus answered an API call with an error."""


@dataclass(frozen=True)
class ScrapeJob:
    """One static scrape job; ``labels`` are attached to every series, as the operator does."""

    job: str
    targets: Sequence[str]
    labels: Mapping[str, str] = field(default_factory=dict)
    interval: str = "1s"
    metrics_path: str = "/metrics"

    def config(self) -> dict[str, Any]:
        return {
            "job_name": self.job,
            "scrape_interval": self.interval,
            "scrape_timeout": self.interval,
            "metrics_path": self.metrics_path,
            "static_configs": [{"targets": list(self.targets), "labels": dict(self.labels)}],
        }


class PrometheusServer:
    """Start with ``with`` (or ``start``/``stop``); query through the HTTP API."""

    def __init__(
        self,
        jobs: Sequence[ScrapeJob] = (),
        rule_files: Sequence[Path] = (),
        evaluation_interval: str = "1s",
        enable_lifecycle: bool = False,
    ) -> None:
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self._workdir = Path(tempfile.mkdtemp(prefix="prometheus-"))
        self.config_file = self._workdir / "prometheus.yml"
        self._log_path = self._workdir / "prometheus.log"
        self._enable_lifecycle = enable_lifecycle
        self._process: subprocess.Popen[bytes] | None = None
        self.write_config(jobs, rule_files, evaluation_interval)

    def write_config(
        self,
        jobs: Sequence[ScrapeJob],
        rule_files: Sequence[Path],
        evaluation_interval: str = "1s",
    ) -> None:
        """Write (or rewrite, then ``reload``) the configuration; promtool must accept it."""
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": evaluation_interval},
            "rule_files": [str(Path(path).resolve()) for path in rule_files],
            "scrape_configs": [job.config() for job in jobs],
        }
        self.config_file.write_text(yaml.safe_dump(config, sort_keys=False))
        checked = subprocess.run(
            [PROMTOOL, "check", "config", str(self.config_file)],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if checked.returncode != 0:
            raise PrometheusError(f"promtool rejects the configuration:\n{checked.stdout}{checked.stderr}")

    def start(self, timeout: float = 30.0) -> "PrometheusServer":
        command = [
            PROMETHEUS,
            f"--config.file={self.config_file}",
            f"--storage.tsdb.path={self._workdir / 'data'}",
            f"--web.listen-address={HOST}:{self.port}",
            "--log.level=warn",
        ]
        if self._enable_lifecycle:
            command.append("--web.enable-lifecycle")
        with self._log_path.open("wb") as log:
            self._process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until(self._ready, timeout, f"Prometheus on {self.url}")
        except (TimeoutError, RuntimeError) as error:
            output = self.log()
            self.stop()
            raise PrometheusError(f"Prometheus did not start: {error}\n{output}") from error
        return self

    def _ready(self) -> bool:
        if self._process is not None and self._process.poll() is not None:
            raise RuntimeError(f"prometheus exited with code {self._process.returncode}")
        try:
            return httpx.get(f"{self.url}/-/ready", timeout=1.0).status_code == 200
        except httpx.TransportError:
            return False

    def log(self) -> str:
        return self._log_path.read_text(errors="replace") if self._log_path.exists() else ""

    def stop(self) -> None:
        """Terminate Prometheus (kill after 10 s) and delete its storage."""
        terminate(self._process)
        shutil.rmtree(self._workdir, ignore_errors=True)

    def __enter__(self) -> "PrometheusServer":
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def api(self, path: str, params: Mapping[str, Any] | None = None, method: str = "GET") -> Any:
        """The ``data`` of a successful API answer; ``PrometheusError`` otherwise."""
        response = httpx.request(method, f"{self.url}/api/v1/{path}", params=params, timeout=10)
        body = response.json()
        if body.get("status") != "success":
            raise PrometheusError(f"{path} {dict(params or {})}: {body.get('error', body)}")
        return body["data"]

    def query(self, expr: str, at: float | None = None) -> list[dict[str, Any]]:
        """Instant query; the result vector (or ``[scalar]`` wrapped as one sample)."""
        params: dict[str, Any] = {"query": expr}
        if at is not None:
            params["time"] = at
        data = self.api("query", params)
        if data["resultType"] == "scalar":
            return [{"metric": {}, "value": data["result"]}]
        return list(data["result"])

    def label_values(self, label: str, match: str) -> list[str]:
        return list(self.api(f"label/{label}/values", {"match[]": match}))

    def targets(self) -> list[dict[str, Any]]:
        return list(self.api("targets")["activeTargets"])

    def rules(self) -> list[dict[str, Any]]:
        return [rule for group in self.api("rules")["groups"] for rule in group["rules"]]

    def wait_for_targets_up(self, job: str, timeout: float = 30.0) -> None:
        def all_up() -> bool:
            mine = [t for t in self.targets() if t["labels"].get("job") == job]
            return bool(mine) and all(t["health"] == "up" for t in mine)

        wait_until(all_up, timeout, f"every {job} target to be up")

    def wait_for_series(self, expr: str, timeout: float = 30.0) -> None:
        wait_until(lambda: bool(self.query(expr)), timeout, f"data for {expr}")

    def reload(self) -> None:
        """Re-read the configuration (needs ``enable_lifecycle=True``)."""
        response = httpx.post(f"{self.url}/-/reload", timeout=30)
        if response.status_code != 200:
            raise PrometheusError(f"reload failed: {response.status_code} {response.text}")
