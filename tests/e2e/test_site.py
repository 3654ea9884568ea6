"""site.yml end to end on a real kind cluster, driven by the real ansible-playbook, as a user runs it.

Column: kind (tests/e2e/kind.py: kind's podman provider with the node image and every image built by
`make images` here, or Docker where it answers; the real Kubernetes v1.34.4, prometheus-operator,
Prometheus, the app's image; Grafana is the project's stand-in image). The tests of this module share
one cluster and run in order: converge, rerun, drills, teardown.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import yaml

from tests.ansible.alert_receivers import HttpPost, http_inbox
from tests.ansible.test_tags import readme_tags
from tests.e2e.kind import CLUSTER, ENGINE, KindChain, engine, kind, kind_chain, role_writes
from tests.e2e.load import PredictLoad
from tests.observability import dashboard
from tests.observability.drift_traffic import in_distribution, shifted
from tests.playbook_runner import BIN, REPO, PlaybookRun

pytestmark = pytest.mark.timeout(1800)


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KindChain]:
    with kind_chain(tmp_path_factory.mktemp("e2e-kind")) as started:
        yield started


@pytest.fixture(scope="module")
def first_run(chain: KindChain) -> PlaybookRun:
    return chain.play()


def test_service_monitor_on_a_bare_cluster_names_the_missing_crds_and_writes_nothing(chain: KindChain) -> None:
    """Before anything is installed: the kind cluster alone, then service_monitor with a short CRD wait."""
    created = chain.play("site.yml", "--tags", "kind_cluster")
    assert created.returncode == 0, created.tail()
    before = len(chain.audit())
    run = chain.play("site.yml", "--tags", "service_monitor", extra_vars={"service_monitor_crd_timeout": 4})
    assert run.returncode != 0, run.tail()
    assert "servicemonitors.monitoring.coreos.com, prometheusrules.monitoring.coreos.com" in run.output, run.tail()
    assert "are not installed or not Established after 4 s" in run.output, run.tail()
    assert "--tags prometheus_stack" in run.output
    assert role_writes(chain.audit()[before:]) == []


def test_check_on_a_bare_cluster_previews_what_it_can_and_names_what_it_cannot(chain: KindChain) -> None:
    """--check --diff on the kind cluster alone: exit 0, every later step it cannot preview named, no write."""
    before = len(chain.audit())
    run = chain.play("site.yml", "--check", "--diff")
    assert run.returncode == 0, run.tail(80)
    assert role_writes(chain.audit()[before:]) == []
    flat = " ".join(run.output.split())  # the callback wraps long messages
    assert re.findall(r"Check mode: not previewed: ([^.]*)\.", flat) == [
        "the waits for the CRDs, Grafana, the operator, Prometheus and Alertmanager",
        "the rollout of Deployment house-price/model, which would change first (see its diff above)",
        "the ServiceMonitor, the PrometheusRule and the target wait",
        "the datasource, the folder and the dashboards",
        "verify",
    ], run.tail(120)
    changed = changed_tasks(run.output)
    assert "prometheus_stack : Show how the release would change" in changed
    assert "model_deployment : Apply the namespace, Service and Deployment where they differ" in changed
    assert "+++ after: Deployment/house-price/model (manifest)" in run.output


# verify's line for the panels: every query of the dashboard file returned data.
ALL_PANEL_QUERIES = "panel queries with data {0}/{0}".format(len(dashboard.queries(dashboard.load())))


def test_first_run_creates_a_real_node_and_verify_prints_the_urls(chain: KindChain, first_run: PlaybookRun) -> None:
    assert first_run.returncode == 0, first_run.tail(60)
    assert first_run.changed > 0
    assert ALL_PANEL_QUERIES in first_run.output, first_run.tail(20)
    for url in ("http://127.0.0.1:30100/docs", "http://127.0.0.1:30300", "http://127.0.0.1:30200"):
        assert url in first_run.output
    [node] = json.loads(chain.kubectl("get", "nodes", "-o", "json"))["items"]
    info = node["status"]["nodeInfo"]
    assert info["kubeletVersion"] == "v1.34.4"
    assert info["containerRuntimeVersion"].startswith("containerd://")
    # The real operator built the Prometheus StatefulSet from the chart's Prometheus resource.
    statefulsets = chain.kubectl("-n", "monitoring", "get", "statefulsets", "-o", "name").split()
    assert "statefulset.apps/prometheus-prom-kube-prometheus-stack-prometheus" in statefulsets


def test_second_run_changes_nothing_and_writes_nothing(chain: KindChain, first_run: PlaybookRun) -> None:
    assert first_run.returncode == 0
    before = len(chain.audit())
    rerun = chain.play()
    assert rerun.returncode == 0, rerun.tail(60)
    assert rerun.changed == 0, rerun.tail(80)
    # The API server's audit log holds every write; the cluster's own controllers keep renewing
    # leases and writing status, the roles' clients must have sent none.
    assert role_writes(chain.audit()[before:]) == [], "a rerun with the same inventory must not write to the cluster"


def changed_tasks(output: str) -> list[str]:
    """The "role : task" names whose result was changed, in order (loops count once)."""
    found: list[str] = []
    task = ""
    for line in output.splitlines():
        if line.startswith(("TASK [", "RUNNING HANDLER [")):
            task = line.split("[", 1)[1].rsplit("]", 1)[0]
        elif line.startswith("changed: [") and task not in found:
            found.append(task)
    return found


def grafana_writes(chain: KindChain, since: str) -> list[str]:
    """The requests other than GET that the Grafana stand-in answered since ``since`` (ISO time, its log)."""
    log = chain.kubectl("-n", "monitoring", "logs", "deploy/prom-grafana")
    records = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    requests = [r for r in records if {"ts", "method", "path"} <= r.keys()]  # not its own log lines
    assert requests, "the stand-in logs every request it answers"
    return [f"{r['method']} {r['path']}" for r in requests if r["ts"] >= since and r["method"] not in ("GET", "HEAD")]


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


NOISE = ("managedFields", "resourceVersion", "last-applied-configuration", "creationTimestamp", "observedGeneration")


def test_check_diff_on_the_converged_cluster_changes_nothing_and_writes_nothing(
    chain: KindChain, first_run: PlaybookRun
) -> None:
    """The operator's preview of no change: exit 0, changed=0, no diff, no write to the API or to Grafana."""
    before, since = len(chain.audit()), now()
    run = chain.play("site.yml", "--check", "--diff")
    assert run.returncode == 0, run.tail(80)
    assert run.changed == 0, run.tail(80)
    assert "+++ after" not in run.output
    assert "Check mode: not previewed" not in run.output, "on a converged cluster every step is previewed"
    assert ALL_PANEL_QUERIES in run.output, "verify reads everything in check mode too"
    assert role_writes(chain.audit()[before:]) == []
    assert grafana_writes(chain, since) == []


NEVER_BUILT_TAG = "1.1.0-dry-run"


def test_check_diff_with_pending_changes_shows_exactly_those(
    chain: KindChain, first_run: PlaybookRun, tmp_path: Path
) -> None:
    """A new image tag, alert threshold, chart value and dashboard title: each reported and diffed, nothing sent.

    Kind. The tag is one no test builds, so podman holds no image of it on any machine: the dry run must
    say it would be built and loaded (a tag built by an earlier run, and only missing from the node, once
    hid that a tag nowhere yet was reported as no change)."""
    dashboard = json.loads((REPO / "files/dashboards/ml-model-api.json").read_text())
    dashboard["panels"][0]["title"] += " (edited)"
    edited = tmp_path / "ml-model-api.json"
    edited.write_text(json.dumps(dashboard, indent=2))
    before, since = len(chain.audit()), now()
    run = chain.play(
        "site.yml",
        "--check",
        "--diff",
        extra_vars={
            "mlmon_model_image_tag": NEVER_BUILT_TAG,
            "service_monitor_latency_p95_threshold_seconds": 0.4,
            "prometheus_stack_retention": "7d",
            "grafana_dashboards_files": [str(edited)],
        },
    )
    assert run.returncode == 0, run.tail(80)
    assert changed_tasks(run.output) == [
        "prometheus_stack : Show how the release would change",
        "model_deployment : Say the image would be loaded into the kind node",
        "model_deployment : Apply the namespace, Service and Deployment where they differ",
        "service_monitor : Apply the ServiceMonitor and PrometheusRule where they differ",
        "grafana_dashboards : Save each dashboard that differs from Grafana's copy",
    ], run.tail(120)
    diff = [line for line in run.output.splitlines() if line.startswith(("-", "+")) and not line.startswith("---")]
    assert any(line.startswith("-") and "house-price:1.0.0" in line for line in diff), run.tail(120)
    assert any(line.startswith("+") and f"house-price:{NEVER_BUILT_TAG}" in line for line in diff)
    assert any(line.startswith("+") and f"app.kubernetes.io/version: {NEVER_BUILT_TAG}" in line for line in diff)
    said = " ".join(run.output.split())  # the callback wraps long messages
    assert f"house-price:{NEVER_BUILT_TAG} would be built and loaded into the kind node" in said, run.tail(120)
    assert any(line.startswith("-") and "vector(0.5)" in line for line in diff)
    assert any(line.startswith("+") and "vector(0.4)" in line for line in diff)
    assert any(line.startswith("-") and '"retention": "10d"' in line for line in diff), run.tail(200)
    assert any(line.startswith("+") and '"retention": "7d"' in line for line in diff)
    assert any(line.startswith("+") and '"title": "HTTP (edited)"' in line for line in diff), "dashboards diff as JSON"
    assert "+++ after: Service/" not in run.output, "an unchanged object has no diff"
    for noise in NOISE:
        assert noise not in run.output, noise
    assert role_writes(chain.audit()[before:]) == []
    assert grafana_writes(chain, since) == []


SUB_TAGS = [tag for role, tags in readme_tags().items() for tag in tags if tag != role]


@pytest.mark.parametrize("tag", SUB_TAGS)
def test_every_tag_of_the_readme_works_alone(chain: KindChain, first_run: PlaybookRun, tag: str) -> None:
    """Each tag of the README's table on the converged cluster: it runs, changes nothing and writes nothing."""
    before = len(chain.audit())
    run = chain.play("site.yml", "--tags", tag)
    assert run.returncode == 0, run.tail(40)
    assert run.changed == 0, run.tail(60)
    assert role_writes(chain.audit()[before:]) == []
    if tag.startswith("verify_"):
        assert "http://127.0.0.1:30100/docs" in run.output


def test_tags_model_deployment_runs_only_that_role(chain: KindChain, first_run: PlaybookRun) -> None:
    run = chain.play("site.yml", "--tags", "model_deployment")
    assert run.returncode == 0, run.tail()
    roles_with_real_tasks = {
        line.split("[", 1)[1].split(" :", 1)[0]
        for line in run.output.splitlines()
        if line.startswith("TASK [") and " : " in line and "Validating arguments" not in line
    }
    assert roles_with_real_tasks == {"model_deployment"}
    assert run.changed == 0


def test_new_image_tag_rolls_out_with_zero_failed_requests(chain: KindChain, first_run: PlaybookRun) -> None:
    """Kind. The roll back to the inventory's tag runs whatever failed, so that a failure here does not
    leave 1.1.0 running for the tests after it."""
    try:
        with PredictLoad(chain.model_url) as load:
            run = chain.play("site.yml", "--tags", "model_deployment", extra_vars={"mlmon_model_image_tag": "1.1.0"})
            load.wait_for_version("1.1.0")
        assert run.returncode == 0, run.tail()
        assert load.failures == [], load.failures[:5]
        assert load.ok > 50, "the load must run throughout the rollout"
        assert load.versions == {"1.0.0", "1.1.0"}
        answer = httpx.post(
            chain.model_url + "/predict",
            json={
                "sqft": 900,
                "bedrooms": 2,
                "bathrooms": 1,
                "location": "rural",
                "year_built": 1970,
                "condition": "Fair",
            },
        )
        assert answer.json()["model_version"] == "1.1.0"
    finally:
        back = chain.play("site.yml", "--tags", "model_deployment")
    assert back.returncode == 0, back.tail()


def model_pods(chain: KindChain) -> set[str]:
    return set(chain.kubectl("-n", "house-price", "get", "pods", "-l", "app=model", "-o", "name").split())


def test_an_image_rebuilt_under_the_same_tag_restarts_the_pods(chain: KindChain, first_run: PlaybookRun) -> None:
    """Another training seed, the same tag: the handler restarts the pods; a rerun rebuilds nothing."""
    offline = yaml.safe_load((REPO / "inventory/local/group_vars/offline.yml").read_text())
    base = offline["mlmon_model_build_args"] if ENGINE == "podman" else {}
    before = model_pods(chain)
    reseeded = {"mlmon_model_build_args": {**base, "MODEL_SEED": "7"}}
    with PredictLoad(chain.model_url) as load:
        run = chain.play("site.yml", "--tags", "model_deployment", extra_vars=reseeded)
    assert run.returncode == 0, run.tail()
    # The handler's included task: ansible prints it as RUNNING HANDLER.
    assert re.search(r"HANDLER \[model_deployment : Restart the pods\] \**\nchanged: ", run.output), run.tail(60)
    deployment = json.loads(chain.kubectl("-n", "house-price", "get", "deployment", "model", "-o", "json"))
    assert "kubectl.kubernetes.io/restartedAt" in deployment["spec"]["template"]["metadata"].get("annotations", {})
    assert deployment["status"]["updatedReplicas"] == deployment["spec"]["replicas"]
    assert model_pods(chain) != before, "the restart must have replaced pods"
    assert load.failures == [], load.failures[:5]
    again = chain.play("site.yml", "--tags", "model_deployment", extra_vars=reseeded)
    assert again.returncode == 0, again.tail()
    assert again.changed == 0, again.tail(60)
    back = chain.play("site.yml", "--tags", "model_deployment")
    assert back.returncode == 0, back.tail()


def test_unpullable_image_fails_with_the_pod_reason_rolls_back_and_keeps_serving(
    chain: KindChain, first_run: PlaybookRun
) -> None:
    image = json.loads(chain.kubectl("-n", "house-price", "get", "deployment", "model", "-o", "json"))["spec"][
        "template"
    ]["spec"]["containers"][0]["image"]
    missing = image.rsplit(":", 1)[0] + ":9.9.9"
    with PredictLoad(chain.model_url) as load:
        run = chain.play(
            "site.yml",
            "--tags",
            "model_deployment",
            extra_vars={
                "mlmon_model_image_tag": "9.9.9",
                "mlmon_model_build_image": False,
                "model_deployment_progress_deadline_seconds": 15,
            },
        )
    assert run.returncode != 0
    assert re.search(rf"(ErrImagePull|ImagePullBackOff): [^\n]*{re.escape(missing)}", run.output), run.tail()
    assert "Rolled back to the previous revision" in run.output
    assert load.failures == [], load.failures[:5]
    assert load.ok > 20
    assert load.versions == {"1.0.0"}
    deployment = json.loads(chain.kubectl("-n", "house-price", "get", "deployment", "model", "-o", "json"))
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == image
    assert deployment["status"]["readyReplicas"] == deployment["spec"]["replicas"]


def test_a_cluster_that_refuses_the_credentials_ends_the_crd_wait_at_once_with_its_reason(
    chain: KindChain, first_run: PlaybookRun, tmp_path: Path
) -> None:
    """The same cluster through a kubeconfig whose user is a token it does not know: every call is 401."""
    config = yaml.safe_load(chain.kubeconfig.read_text())
    for user in config["users"]:
        user["user"] = {"token": "not-a-token-of-this-cluster"}
    wrong = tmp_path / "wrong-token.yaml"
    wrong.write_text(yaml.safe_dump(config))
    variables = {"mlmon_kubeconfig": str(wrong), "service_monitor_crd_timeout": 120}
    run = chain.play("site.yml", "--tags", "service_monitor", extra_vars=variables)
    assert run.returncode != 0, run.tail()
    assert "Could not list the CustomResourceDefinitions" in run.output, run.tail()
    assert "Unauthorized" in run.output or "401" in run.output, run.tail()
    assert "RETRYING" not in run.output, "a refused call must not be retried for the whole timeout"


def test_stand_in_chart_custom_resources_pass_the_real_crds_strictly(
    chain: KindChain, first_run: PlaybookRun, tmp_path: Path
) -> None:
    """testbed/charts' CRs, every component on, against prometheus-operator's real CRDs: no unknown field."""
    rendered = subprocess.run(
        [str(BIN / "helm"), "template", "prom", str(REPO / "testbed/charts/kube-prometheus-stack"), "-n", "monitoring"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    custom = [doc for doc in yaml.safe_load_all(rendered) if doc and doc["apiVersion"].startswith("monitoring.coreos")]
    assert {doc["kind"] for doc in custom} == {"Prometheus", "Alertmanager", "ServiceMonitor", "PrometheusRule"}
    manifest = tmp_path / "custom.yaml"
    manifest.write_text(yaml.safe_dump_all(custom))
    applied = chain.kubectl("apply", "--dry-run=server", "--validate=strict", "-n", "monitoring", "-f", str(manifest))
    assert applied.count("(server dry run)") == len(custom), applied


def test_the_chapters_numeric_service_monitor_port_is_refused_by_the_real_crd(
    chain: KindChain, first_run: PlaybookRun, tmp_path: Path
) -> None:
    """The chapter's `port: 8000`: the real CRD wants the Service port's name, a string."""
    monitor = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": "chapter", "namespace": "house-price"},
        "spec": {"selector": {"matchLabels": {"app": "model"}}, "endpoints": [{"port": 8000, "path": "/metrics"}]},
    }
    manifest = tmp_path / "chapter.yaml"
    manifest.write_text(yaml.safe_dump(monitor))
    with pytest.raises(subprocess.CalledProcessError) as refused:
        chain.kubectl("apply", "--dry-run=server", "-f", str(manifest))
    assert "spec.endpoints[0].port" in refused.value.stderr, refused.value.stderr
    assert "string" in refused.value.stderr, refused.value.stderr


def test_grafana_unreachable_fails_after_bounded_retries_naming_the_url(
    chain: KindChain, first_run: PlaybookRun
) -> None:
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


def test_verbose_run_never_prints_the_password_and_pods_only_reference_it(
    chain: KindChain, first_run: PlaybookRun
) -> None:
    run = chain.play("site.yml", "-vvv", "--tags", "prometheus_stack,grafana_dashboards")
    assert run.returncode == 0, run.tail()
    assert chain.password not in run.output
    pods = chain.kubectl("get", "pods", "-A", "-o", "yaml")
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


def kind_gateway() -> str:
    """The host's IPv4 address on kind's network (podman's or Docker's network "kind"): pods reach the host there."""
    [network] = json.loads(engine("network", "inspect", "kind").stdout)
    subnets = network.get("subnets") or [
        {"gateway": c.get("Gateway", "")} for c in (network.get("IPAM") or {}).get("Config") or []
    ]
    return next(s["gateway"] for s in subnets if "." in s.get("gateway", ""))


def test_alert_drill_target_down_pages_the_webhook_then_resolves(chain: KindChain, first_run: PlaybookRun) -> None:
    """Kind: Prometheus cannot scrape the model, ModelApiTargetDown fires and the real Alertmanager pages.

    The scrapes fail because the ServiceMonitor is pointed at a path the pods do not serve (the pods keep
    running, so the liveness probe cannot undo it); the webhook is the test's, on the host, reached from the
    pod network at kind's gateway, its URL (with a token) only in the receivers' Secret.
    """
    with http_inbox(bind="0.0.0.0", advertised=kind_gateway()) as inbox:
        receivers = {
            "mlmon_alert_webhook_url": f"{inbox.url}/page?token=drill-{chain.password[-6:]}",
            "prometheus_stack_alert_group_wait": "5s",
            "prometheus_stack_alert_group_interval": "10s",
        }
        configured = chain.play("site.yml", "--tags", "prometheus_stack", extra_vars=receivers)
        assert configured.returncode == 0, configured.tail()
        again = chain.play("site.yml", "--tags", "prometheus_stack", extra_vars=receivers)
        assert again.returncode == 0 and again.changed == 0, again.tail()
        values = subprocess.run(
            [str(BIN / "helm"), "get", "values", "prom", "-n", "monitoring", "--all", "-o", "json"],
            env={"PATH": str(BIN), "HOME": str(chain.state), "KUBECONFIG": str(chain.kubeconfig)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert "url_file" in values and "token=drill" not in values, "the URL lives in the Secret, not the values"

        def target_down(post: HttpPost, status: str) -> bool:
            return post.body.get("status") == status and any(
                a["labels"].get("alertname") == "ModelApiTargetDown" for a in post.body.get("alerts", [])
            )

        broken = chain.play(
            "site.yml", "--tags", "service_monitor_apply", extra_vars={"service_monitor_path": "/no-such-metrics"}
        )
        try:
            assert broken.returncode == 0, broken.tail()
            firing = inbox.wait_for(lambda p: target_down(p, "firing"), 480, "ModelApiTargetDown firing")
        finally:
            repaired = chain.play("site.yml", "--tags", "service_monitor_apply")
        assert repaired.returncode == 0, repaired.tail()
        assert firing.path == receivers["mlmon_alert_webhook_url"].removeprefix(inbox.url)
        alert = next(a for a in firing.body["alerts"] if a["labels"]["alertname"] == "ModelApiTargetDown")
        assert (alert["labels"]["namespace"], alert["labels"]["severity"]) == ("house-price", "critical")
        assert alert["annotations"]["summary"] == "Prometheus cannot scrape a model API pod"
        assert alert["annotations"]["runbook"] == "docs/runbooks.md#modelapitargetdown"
        inbox.wait_for(lambda p: target_down(p, "resolved"), 300, "ModelApiTargetDown resolved")
    restored = chain.play("site.yml", "--tags", "prometheus_stack")
    assert restored.returncode == 0, restored.tail()


PROMETHEUS_URL = "http://127.0.0.1:30300"


def prometheus(expr: str) -> list[dict]:
    answer = httpx.get(f"{PROMETHEUS_URL}/api/v1/query", params={"query": expr}, timeout=10)
    answer.raise_for_status()
    return answer.json()["data"]["result"]


def drift_psi() -> dict[str, float]:
    return {
        s["metric"]["feature"]: float(s["value"][1])
        for s in prometheus('mlmon:house_price_drift:psi{namespace="house-price"}')
    }


def firing_drift_alerts() -> set[tuple[str, str]]:
    return {
        (s["metric"]["alertname"], s["metric"]["feature"])
        for s in prometheus('ALERTS{alertname=~"ModelInputDrift|PredictionShift", alertstate="firing"}')
    }


def wait_for_drift_rules(window: str, wait_seconds: int, timeout: float = 240) -> None:
    """Until the real Prometheus evaluates the drift rules the role just applied: the operator writes them into a
    ConfigMap the kubelet syncs into the pod within about a minute, and the config reloader then reloads."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = httpx.get(f"{PROMETHEUS_URL}/api/v1/rules", timeout=10)
        answer.raise_for_status()
        rules = [rule for group in answer.json()["data"]["groups"] for rule in group["rules"]]
        observed = [r["query"] for r in rules if r["name"] == "mlmon:house_price_drift:observations"]
        waits = {r["name"]: r.get("duration") for r in rules if r["name"] in ("ModelInputDrift", "PredictionShift")}
        if observed and all(f"[{window}]" in q for q in observed) and set(waits.values()) == {wait_seconds}:
            return
        time.sleep(5)
    raise AssertionError(f"Prometheus did not load the drift rules with [{window}] and a {wait_seconds}s wait")


def feed(chain: KindChain, houses: list[dict], seconds: float, until=lambda: False) -> None:
    """100 houses every 5 s through the NodePort (a new connection each, so both pods see them), for ``seconds``
    or until ``until()`` holds."""
    deadline = time.monotonic() + seconds
    with httpx.Client(base_url=chain.model_url, timeout=30, headers={"Connection": "close"}) as client:
        for start in range(0, len(houses), 100):
            client.post("/batch-predict", json={"houses": houses[start : start + 100]}).raise_for_status()
            if time.monotonic() > deadline or until():
                return
            time.sleep(5)


def test_drift_drill_in_distribution_is_quiet_shifted_traffic_fires_the_drift_alerts(
    chain: KindChain, first_run: PlaybookRun
) -> None:
    """Kind: the real Prometheus computes every feature's PSI from both pods' counters; in-distribution traffic keeps
    each below 0.1 with no alert, only-waterfront houses three times larger fire ModelInputDrift for sqft and
    location and PredictionShift, and no other feature. The window (1m) and the alerts' wait (30s) are shortened
    through the service_monitor role's variables."""
    short = {
        "service_monitor_drift_window": "1m",
        "service_monitor_drift_for": "30s",
        "service_monitor_prediction_shift_for": "30s",
    }
    configured = chain.play("site.yml", "--tags", "service_monitor", extra_vars=short)
    assert configured.returncode == 0, configured.tail()
    try:
        wait_for_drift_rules("1m", 30)
        # 80 s of training-like houses: the 1m window then holds nothing else (not the earlier tests' one house).
        feed(chain, in_distribution(2_000, seed=7), 80)
        quiet = drift_psi()
        assert set(quiet) == {"sqft", "bedrooms", "bathrooms", "location", "year_built", "condition", "prediction"}
        assert max(quiet.values()) < 0.1, quiet
        assert firing_drift_alerts() == set()
        assert prometheus('ALERTS{alertname=~"ModelInputDrift|PredictionShift"}') == [], "not even pending"

        expected = {("ModelInputDrift", "sqft"), ("ModelInputDrift", "location"), ("PredictionShift", "prediction")}
        feed(chain, shifted(4_000, seed=8), 240, until=lambda: firing_drift_alerts() == expected)
        assert firing_drift_alerts() == expected, drift_psi()
        loud = drift_psi()
        assert min(loud["sqft"], loud["location"], loud["prediction"]) > 0.2, loud
        assert max(loud[f] for f in ("bedrooms", "bathrooms", "year_built", "condition")) < 0.1, loud
    finally:
        restored = chain.play("site.yml", "--tags", "service_monitor")
    assert restored.returncode == 0, restored.tail()
    wait_for_drift_rules("1h", 1800)


def canary_play(chain: KindChain, tag: str, **extra: object) -> PlaybookRun:
    variables = {"mlmon_model_image_tag": tag, "model_deployment_strategy": "canary", **extra}
    return chain.play("site.yml", "--tags", "model_deployment", extra_vars=variables)


def serving_image(chain: KindChain) -> str:
    return chain.kubectl(
        "-n", "house-price", "get", "deployment", "model", "-o", "jsonpath={.spec.template.spec.containers[0].image}"
    )


def test_canary_good_release_is_promoted_under_load_with_zero_failed_requests(
    chain: KindChain, first_run: PlaybookRun
) -> None:
    """Kind: 1.1.0 runs as model-canary beside the stable, the analysis in the real Prometheus passes three times in
    a row, the stable takes the image and the canary goes; the load (a connection per request, so the canary gets its
    share) sees no failed request. A rerun with the image promoted changes nothing, runs no analysis, writes nothing.
    """
    with PredictLoad(chain.model_url, max_seconds=600, new_connections=True) as load:
        run = canary_play(chain, "1.1.0")
        load.wait_for_version("1.1.0")
    assert run.returncode == 0, run.tail(60)
    assert load.failures == [], load.failures[:5]
    assert load.versions == {"1.0.0", "1.1.0"}
    words = " ".join(run.output.split())  # the YAML callback folds long messages
    analyses = re.findall(r"analysis \d+ at [0-9.]+ s: (\w+) \(canary (\d+) requests", words)
    assert [outcome for outcome, _ in analyses[-3:]] == ["pass"] * 3, run.tail(60)
    assert all(int(requests) >= 50 for _, requests in analyses[-3:]), analyses
    assert "3 analyses in a row passed every check" in words
    assert serving_image(chain).endswith(":1.1.0")
    assert "model-canary" not in chain.kubectl("-n", "house-price", "get", "deployments", "-o", "name")

    before = len(chain.audit())
    again = canary_play(chain, "1.1.0")
    assert again.returncode == 0, again.tail()
    assert again.changed == 0, again.tail(60)
    assert "Analyse the canary" not in again.output
    assert role_writes(chain.audit()[before:]) == []


def test_canary_bad_release_is_aborted_naming_the_check_and_the_stable_keeps_serving(
    chain: KindChain, first_run: PlaybookRun
) -> None:
    """Kind: 1.2.0 is built with MLMON_DRILL_ERROR_RATIO=0.2 (its image answers a fifth of the predictions 500: it
    starts, passes its probes and turns ready, which the rolling strategy would have let through). The first analysis
    with enough requests aborts naming the 5xx check, its bound and the observed ratio; the canary is removed, the
    stable keeps its image and answers every request."""
    offline = yaml.safe_load((REPO / "inventory/local/group_vars/offline.yml").read_text())
    base = offline["mlmon_model_build_args"] if ENGINE == "podman" else {}
    stable = serving_image(chain)
    with PredictLoad(chain.model_url, max_seconds=600, new_connections=True) as load:
        run = canary_play(chain, "1.2.0", mlmon_model_build_args={**base, "MLMON_DRILL_ERROR_RATIO": "0.2"})
    assert run.returncode != 0, run.tail(60)
    assert re.search(
        r"Canary of \S+:1\.2\.0 \(house-price/model-canary\) aborted: canary analysis \d+ failed 5xx ratio: "
        r"observed 0\.[12]\d*, threshold 0\.01",
        " ".join(run.output.split()),  # the YAML callback folds long messages
    ), run.tail(60)
    assert "keeps serving" in run.output
    assert serving_image(chain) == stable
    assert "model-canary" not in chain.kubectl("-n", "house-price", "get", "deployments", "-o", "name")
    assert {f.split(":")[0] for f in load.failures} <= {"HTTP 500"}, load.failures[:5]
    with PredictLoad(chain.model_url, new_connections=True) as after:
        time.sleep(10)
    assert after.failures == [] and after.ok > 50 and after.versions == {stable.rsplit(":", 1)[1]}
    back = chain.play("site.yml", "--tags", "model_deployment")
    assert back.returncode == 0, back.tail()


def test_teardown_removes_what_site_created_then_the_cluster(chain: KindChain, first_run: PlaybookRun) -> None:
    run = chain.play("playbooks/teardown.yml", "--skip-tags", "kind_cluster")
    assert run.returncode == 0, run.tail()
    namespaces = chain.kubectl("get", "namespaces", "-o", "name").split()
    assert "namespace/house-price" not in namespaces
    assert "namespace/monitoring" not in namespaces
    assert chain.kubectl("get", "secrets", "-A", "-l", "owner=helm", "-o", "name") == ""
    assert "servicemonitors.monitoring.coreos.com" in chain.kubectl("get", "crd", "-o", "name"), (
        "CRDs stay, as with Helm"
    )
    whole = chain.play("playbooks/teardown.yml")
    assert whole.returncode == 0, whole.tail()
    assert CLUSTER not in kind("get", "clusters").stdout.split()
    again = chain.play("playbooks/teardown.yml")
    assert again.returncode == 0, again.tail()
    assert again.changed == 0
