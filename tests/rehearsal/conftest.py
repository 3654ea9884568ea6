"""Fixtures of the rehearsal apiserver's contract tests (``test_kube_*``).

``rehearsal_cluster`` comes from tests/rehearsal/fixtures.py (a plugin of the root conftest).
``kube``: real client helpers bound to that cluster (kubectl, helm, python client).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from tests.rehearsal.fixtures import RehearsalCluster


def binary(name: str) -> str:
    """A real client from PATH (or the venv's bin, where the project's set-up installs it)."""
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if not found:
        pytest.skip(f"{name} is not installed (the project's set-up puts it in .venv/bin)")
    return found


@dataclass
class Kube:
    """Real clients pointed at one rehearsal cluster."""

    cluster: RehearsalCluster
    api: k8s.ApiClient

    def run(
        self, tool: str, *args: str, check: bool = True, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [binary(tool), *args],
            env=self.cluster.env(),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"{tool} {' '.join(args)} failed ({done.returncode}): {done.stderr}")
        return done

    def kubectl(self, *args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
        return self.run("kubectl", *args, **kw)

    def helm(self, *args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
        return self.run("helm", *args, **kw)

    def raw(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: list[tuple[str, str]] | None = None,
        content_type: str = "application/json",
    ) -> tuple[int, dict[str, str], Any]:
        """One request through the python client's REST layer: (status, headers, decoded body)."""
        parts = self.api.param_serialize(
            method=method,
            resource_path=path,
            query_params=query or [],
            header_params={"Content-Type": content_type, "Accept": "application/json"},
            body=body,
            auth_settings=["BearerToken"],
        )
        response = self.api.call_api(*parts)
        data = response.read()
        return response.status, dict(response.getheaders()), json.loads(data) if data else None

    def warnings(self, headers: dict[str, str]) -> str:
        return headers.get("Warning", "")


@pytest.fixture(scope="session")
def kube(rehearsal_cluster: RehearsalCluster) -> Iterator[Kube]:
    api = k8s_config.new_client_from_config(str(rehearsal_cluster.kubeconfig))
    yield Kube(rehearsal_cluster, api)
    api.close()


@pytest.fixture
def namespace(kube: Kube) -> Iterator[str]:
    """A fresh namespace for one test, deleted afterwards."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    core = k8s.CoreV1Api(kube.api)
    core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=name)))
    yield name
    kube.raw("DELETE", f"/api/v1/namespaces/{name}")
