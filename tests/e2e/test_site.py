"""site.yml end to end on a rehearsal cluster, driven by the real ansible-playbook, as a user runs it.

Column: rehearsal (the Kubernetes API, controllers and Grafana are the project's rehearsal servers; the
app is real uvicorn, Prometheus the real Debian binary, helm and ansible-playbook real). The tests of
this module share one cluster and run in order: converge, rerun, drills, teardown.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.chain import Chain, PredictLoad, rehearsal_chain
from tests.playbook_runner import BIN, PlaybookRun

pytestmark = pytest.mark.timeout(1200)


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    with rehearsal_chain(tmp_path_factory.mktemp("e2e")) as started:
        yield started


@pytest.fixture(scope="module")
def first_run(chain: Chain) -> PlaybookRun:
    return chain.play()


def kubectl(chain: Chain, *args: str) -> str:
    return subprocess.run(
        [str(BIN / "kubectl"), "--context", chain.hosts[0], *args],
        env={"KUBECONFIG": str(chain.state / "kubeconfig"), "PATH": str(BIN), "HOME": str(chain.state)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_first_run_converges_and_verify_prints_the_urls(chain: Chain, first_run: PlaybookRun) -> None:
    assert first_run.returncode == 0, first_run.tail(60)
    assert first_run.changed > 0
    assert "panel queries with data 31/31" in first_run.output
    node = chain.node(chain.hosts[0])
    for url in (f"http://{node}:30100/docs", f"http://{node}:30300", f"http://{node}:30200"):
        assert url in first_run.output


def test_second_run_changes_nothing_and_writes_nothing(chain: Chain, first_run: PlaybookRun) -> None:
    assert first_run.returncode == 0
    log = chain.state / chain.hosts[0] / "requests.jsonl"
    before = len(log.read_text().splitlines())
    rerun = chain.play()
    assert rerun.returncode == 0, rerun.tail(60)
    assert rerun.changed == 0, rerun.tail(80)
    # What the roles send (the kubernetes.core modules through the python client, and helm); the
    # cluster's own controllers and the operator keep writing status, as on a real cluster.
    role_writes = [
        request
        for request in map(json.loads, log.read_text().splitlines()[before:])
        if request["method"] in ("POST", "PUT", "PATCH", "DELETE")
        and request["user_agent"].startswith(("OpenAPI-Generator", "Helm", "kubectl"))
    ]
    assert role_writes == [], "a rerun with the same inventory must not write to the cluster"


def test_tags_model_deployment_runs_only_that_role(chain: Chain, first_run: PlaybookRun) -> None:
    run = chain.play("site.yml", "--tags", "model_deployment")
    assert run.returncode == 0, run.tail()
    roles_with_real_tasks = {
        line.split("[", 1)[1].split(" :", 1)[0]
        for line in run.output.splitlines()
        if line.startswith("TASK [") and " : " in line and "Validating arguments" not in line
    }
    assert roles_with_real_tasks == {"model_deployment"}
    assert run.changed == 0


def test_new_image_tag_rolls_out_with_zero_failed_requests(chain: Chain, first_run: PlaybookRun) -> None:
    with PredictLoad(chain.model_url()) as load:
        run = chain.play("site.yml", "--tags", "model_deployment", extra_vars={"mlmon_model_image_tag": "1.1.0"})
        load.wait_for_version("1.1.0")
    assert run.returncode == 0, run.tail()
    assert load.failures == [], load.failures[:5]
    assert load.ok > 50, "the load must run throughout the rollout"
    assert load.versions == {"1.0.0", "1.1.0"}
    answer = httpx.post(
        chain.model_url() + "/predict",
        json={"sqft": 900, "bedrooms": 2, "bathrooms": 1, "location": "rural", "year_built": 1970, "condition": "Fair"},
    )
    assert answer.json()["model_version"] == "1.1.0"
    back = chain.play("site.yml", "--tags", "model_deployment")
    assert back.returncode == 0, back.tail()


def test_unpullable_image_fails_with_the_pod_reason_rolls_back_and_keeps_serving(
    chain: Chain, first_run: PlaybookRun
) -> None:
    with PredictLoad(chain.model_url()) as load:
        run = chain.play(
            "site.yml",
            "--tags",
            "model_deployment",
            extra_vars={"mlmon_model_image_tag": "9.9.9", "model_deployment_progress_deadline_seconds": 15},
        )
    assert run.returncode != 0
    assert 'ImagePullBackOff: Back-off pulling image "mlmon/house-price:9.9.9"' in run.output, run.tail()
    assert "Rolled back to the previous revision" in run.output
    assert load.failures == [], load.failures[:5]
    assert load.ok > 20
    assert load.versions == {"1.0.0"}
    deployment = json.loads(kubectl(chain, "-n", "house-price", "get", "deployment", "model", "-o", "json"))
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "mlmon/house-price:1.0.0"
    assert deployment["status"]["readyReplicas"] == deployment["spec"]["replicas"]


def test_grafana_unreachable_fails_after_bounded_retries_naming_the_url(chain: Chain, first_run: PlaybookRun) -> None:
    run = chain.play(
        "site.yml",
        "--tags",
        "grafana_dashboards",
        extra_vars={
            "mlmon_grafana_url": "http://127.0.0.1:9",
            "grafana_dashboards_health_retries": 2,
            "grafana_dashboards_health_delay": 1,
        },
    )
    assert run.returncode != 0
    assert "http://127.0.0.1:9" in run.output
    assert run.output.count("FAILED - RETRYING") == 2
    assert run.changed == 0


def test_verbose_run_never_prints_the_password_and_pods_only_reference_it(chain: Chain, first_run: PlaybookRun) -> None:
    run = chain.play("site.yml", "-vvv", "--tags", "prometheus_stack,grafana_dashboards")
    assert run.returncode == 0, run.tail()
    assert chain.password not in run.output
    pods = kubectl(chain, "get", "pods", "-A", "-o", "yaml")
    assert chain.password not in pods, "the password belongs in a Secret, referenced by name"
    assert "mlmon-grafana-admin" in pods
    tracked = subprocess.run(
        ["git", "grep", "-I", "-l", chain.password],
        cwd=Path(__file__).parents[2],
        capture_output=True,
        text=True,
        check=False,
    )
    assert tracked.stdout == ""


def test_teardown_removes_what_site_created_and_reruns_cleanly(chain: Chain, first_run: PlaybookRun) -> None:
    run = chain.play("playbooks/teardown.yml")
    assert run.returncode == 0, run.tail()
    namespaces = kubectl(chain, "get", "namespaces", "-o", "name").split()
    assert "namespace/house-price" not in namespaces
    assert "namespace/monitoring" not in namespaces
    assert kubectl(chain, "get", "secrets", "-A", "-l", "owner=helm", "-o", "name") == ""
    assert "servicemonitors.monitoring.coreos.com" in kubectl(chain, "get", "crd", "-o", "name"), (
        "CRDs stay, as with Helm"
    )
    again = chain.play("playbooks/teardown.yml")
    assert again.returncode == 0, again.tail()
    assert again.changed == 0
