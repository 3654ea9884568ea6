"""Cold start, CRD registration and memory of the rehearsal Kubernetes apiserver.

Starts ``python -m tests.rehearsal up`` (one cluster, no pods are scheduled by anything we
create here), measures the time to its ``ready`` line, the time from creating a CRD to its kind
being served, then creates objects (ConfigMaps, Secrets, Services, Deployments with zero
replicas, custom resources) up to ``--objects`` and reports the server's resident memory and the
time the list and write calls took. Prints figures; asserts nothing.

    .venv/bin/python bench/rehearsal_server.py [--objects 500] [--crd-delay 1.0]
"""

from __future__ import annotations

import argparse
import json
import signal
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from tests.rehearsal.service import free_indices

REPO = Path(__file__).resolve().parents[1]
GROUP = "bench.rehearsal.io"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def objects(count: int) -> list[tuple[str, dict[str, Any]]]:
    kinds = [
        (
            "/api/v1/namespaces/default/configmaps",
            lambda i: {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": f"cm-{i}", "labels": {"i": str(i % 7)}},
                "data": {"k": "v" * 200},
            },
        ),
        (
            "/api/v1/namespaces/default/secrets",
            lambda i: {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": f"s-{i}"},
                "stringData": {"password": f"p{i}"},
            },
        ),
        (
            "/api/v1/namespaces/default/services",
            lambda i: {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": f"svc-{i}"},
                "spec": {"selector": {"app": f"a{i}"}, "ports": [{"name": "http", "port": 80}]},
            },
        ),
        (
            "/apis/apps/v1/namespaces/default/deployments",
            lambda i: {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": f"d-{i}"},
                "spec": {
                    "replicas": 0,
                    "selector": {"matchLabels": {"app": f"a{i}"}},
                    "template": {
                        "metadata": {"labels": {"app": f"a{i}"}},
                        "spec": {"containers": [{"name": "c", "image": "bench/none:1"}]},
                    },
                },
            },
        ),
        (
            f"/apis/{GROUP}/v1/namespaces/default/things",
            lambda i: {"apiVersion": f"{GROUP}/v1", "kind": "Thing", "metadata": {"name": f"t-{i}"}, "spec": {"n": i}},
        ),
    ]
    return [(kinds[i % len(kinds)][0], kinds[i % len(kinds)][1](i)) for i in range(count)]


CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": f"things.{GROUP}"},
    "spec": {
        "group": GROUP,
        "scope": "Namespaced",
        "names": {"plural": "things", "singular": "thing", "kind": "Thing"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {"spec": {"type": "object", "properties": {"n": {"type": "integer"}}}},
                    }
                },
            }
        ],
    },
}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--objects", type=int, default=500)
    parser.add_argument("--crd-delay", type=float, default=1.0)
    args = parser.parse_args()
    state = Path(tempfile.mkdtemp(prefix="rehearsal-bench-"))
    started = time.perf_counter()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.rehearsal",
            "up",
            "--state-dir",
            str(state),
            "--index-offset",
            str(free_indices(1) - 1),
            "--crd-established-delay",
            str(args.crd_delay),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        ready = json.loads(proc.stdout.readline())
        ready_s = time.perf_counter() - started
        info = next(iter(ready["clusters"].values()))
        headers = {"Authorization": f"Bearer {info['token']}"}
        with httpx.Client(
            base_url=info["url"], headers=headers, verify=ssl.create_default_context(cafile=info["ca_file"]), timeout=30
        ) as http:
            idle_mb = rss_mb(proc.pid)
            crd_started = time.perf_counter()
            http.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", json=CRD).raise_for_status()
            while http.get(f"/apis/{GROUP}/v1").status_code != 200:
                time.sleep(0.01)
            crd_s = time.perf_counter() - crd_started
            writes_started = time.perf_counter()
            for path, body in objects(args.objects):
                http.post(path, json=body).raise_for_status()
            writes_s = time.perf_counter() - writes_started
            list_started = time.perf_counter()
            listed = sum(len(http.get(p).json()["items"]) for p in {p for p, _ in objects(5)})
            list_s = time.perf_counter() - list_started
            openapi_started = time.perf_counter()
            http.get(
                "/openapi/v2", headers={"Accept": "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"}
            ).raise_for_status()
            openapi_s = time.perf_counter() - openapi_started
            loaded_mb = rss_mb(proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    print(f"cold start to ready:            {ready_s:6.2f} s")
    print(f"CRD created to kind served:     {crd_s:6.2f} s  (established delay {args.crd_delay} s)")
    print(f"cold start + CRD registration:  {ready_s + crd_s:6.2f} s")
    print(f"{args.objects} creates:                  {writes_s:6.2f} s  ({args.objects / writes_s:.0f}/s)")
    print(f"list of {listed} objects (5 calls): {list_s:6.2f} s")
    print(f"first /openapi/v2 protobuf:     {openapi_s:6.2f} s")
    print(f"RSS idle:                       {idle_mb:6.1f} MB")
    print(f"RSS with {args.objects} objects:          {loaded_mb:6.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
