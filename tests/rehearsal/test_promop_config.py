"""The operator stand-in's pure parts: generated configuration, rule files, workload objects.

Column "real": generated files are checked with the real ``promtool``. The expected structures
are prometheus-operator v0.93's (pkg/prometheus/promcfg.go, server/statefulset.go) for a
Prometheus 2.42 server.
"""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.rehearsal.promop import config, rules, workload
from tests.rehearsal.promop.discovery import Request
from tests.rehearsal.promop.process import ConfigRejected, check_config
from tests.rehearsal.promop.runnable import expand, runnable
from tests.rehearsal.promop.scrape import Context, Unsupported, service_monitor_jobs
from tests.rehearsal.promop.selection import select
from tests.rehearsal.promop.version import Version, binary_version

V242 = Version(2, 42, 0)
needs_promtool = pytest.mark.skipif(shutil.which("promtool") is None,
                                    reason="promtool not installed")


def prometheus_cr(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "monitoring.coreos.com/v1", "kind": "Prometheus",
        "metadata": {"name": "prom-kube-prometheus-stack-prometheus", "namespace": "monitoring",
                     "uid": "3b7c", "labels": {"release": "prom"}},
        "spec": {"serviceMonitorSelector": {"matchLabels": {"release": "prom"}},
                 "serviceMonitorNamespaceSelector": {},
                 "ruleSelector": {"matchLabels": {"release": "prom"}},
                 "ruleNamespaceSelector": {}, "retention": "10d", "portName": "http-web",
                 "shards": 1, "replicas": 1, **spec},
    }


def service_monitor(name: str = "model", port: Any = "http", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
        "metadata": {"name": name, "namespace": "house-price", "labels": {"release": "prom"}},
        "spec": {"selector": {"matchLabels": {"app": "model"}},
                 "namespaceSelector": {"matchNames": ["house-price"]},
                 "endpoints": [{"port": port, "path": "/metrics", "interval": "15s"}], **spec},
    }


def test_job_matches_the_operator_layout() -> None:
    """Job name, discovery, path/interval and the keep rules on service label and port name."""
    ctx = Context(prometheus_cr(), V242)
    [job] = service_monitor_jobs(ctx, service_monitor())
    assert job["job_name"] == "serviceMonitor/house-price/model/0"
    assert job["honor_labels"] is False
    assert job["kubernetes_sd_configs"] == [
        {"role": "endpoints", "namespaces": {"names": ["house-price"]}}]
    assert (job["scrape_interval"], job["metrics_path"]) == ("15s", "/metrics")
    rules_ = job["relabel_configs"]
    assert rules_[0] == {"source_labels": ["job"], "target_label": "__tmp_prometheus_job_name"}
    assert rules_[1] == {"action": "keep",
                         "source_labels": ["__meta_kubernetes_service_label_app",
                                           "__meta_kubernetes_service_labelpresent_app"],
                         "regex": "(model);true"}
    assert rules_[2] == {"action": "keep",
                         "source_labels": ["__meta_kubernetes_endpoint_port_name"],
                         "regex": "http"}
    targets = [r.get("target_label") for r in rules_]
    for label in ("namespace", "service", "pod", "container", "job", "endpoint"):
        assert label in targets
    assert {"target_label": "endpoint", "replacement": "http"} in rules_
    assert rules_[-1] == {"source_labels": ["__tmp_hash", "__tmp_disable_sharding"],
                          "regex": "$(SHARD);|.+;.+", "action": "keep"}


def test_numeric_port_keeps_the_literal() -> None:
    """The seed's port "8000" becomes a keep rule on the port NAME 8000, which no port has."""
    [job] = service_monitor_jobs(Context(prometheus_cr(), V242),
                                 service_monitor(port="8000"))
    assert {"action": "keep", "source_labels": ["__meta_kubernetes_endpoint_port_name"],
            "regex": "8000"} in job["relabel_configs"]


def test_selector_expressions_and_any_namespace() -> None:
    """matchExpressions map to keep/drop rules; namespaceSelector.any drops the names list."""
    monitor = service_monitor(
        selector={"matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]},
                                       {"key": "canary", "operator": "DoesNotExist"}]},
        namespaceSelector={"any": True})
    [job] = service_monitor_jobs(Context(prometheus_cr(), V242), monitor)
    assert job["kubernetes_sd_configs"] == [{"role": "endpoints"}]
    assert {"action": "keep", "source_labels": ["__meta_kubernetes_service_label_tier",
                                                "__meta_kubernetes_service_labelpresent_tier"],
            "regex": "(a|b);true"} in job["relabel_configs"]
    assert {"action": "drop", "source_labels": ["__meta_kubernetes_service_labelpresent_canary"],
            "regex": "true"} in job["relabel_configs"]


def test_fields_newer_than_the_binary_are_left_out() -> None:
    """trackTimestampsStaleness needs 2.48: left out for 2.42, kept for 3.14, as the operator."""
    monitor = service_monitor()
    monitor["spec"]["endpoints"][0]["trackTimestampsStaleness"] = True
    old = Context(prometheus_cr(), V242)
    assert "track_timestamps_staleness" not in service_monitor_jobs(old, monitor)[0]
    assert old.warnings
    new = Context(prometheus_cr(), Version(3, 14, 0))
    assert service_monitor_jobs(new, monitor)[0]["track_timestamps_staleness"] is True


def test_secret_credentials_are_not_reproduced() -> None:
    """An endpoint with basicAuth from a Secret is rejected rather than scraped without it."""
    monitor = service_monitor()
    monitor["spec"]["endpoints"][0]["basicAuth"] = {
        "username": {"name": "s", "key": "u"}, "password": {"name": "s", "key": "p"}}
    with pytest.raises(Unsupported, match="basicAuth"):
        service_monitor_jobs(Context(prometheus_cr(), V242), monitor)


def test_selection_follows_selectors() -> None:
    """A null selector selects nothing, a null namespace selector only the own namespace."""
    namespaces = [{"metadata": {"name": n, "labels": {}}} for n in ("monitoring", "house-price")]
    good = service_monitor()
    other = service_monitor(name="other")
    other["metadata"]["labels"] = {"release": "nope"}
    chosen = select([good, other], "monitoring", {"matchLabels": {"release": "prom"}}, {},
                    namespaces)
    assert [m["metadata"]["name"] for m in chosen] == ["model"]
    assert select([good], "monitoring", None, {}, namespaces) == []
    assert select([good], "monitoring", {}, None, namespaces) == []


def test_server_config_global_and_rule_files() -> None:
    """Global section, external labels, rule file globs and storage as the operator writes."""
    ctx = Context(prometheus_cr(tsdb={"outOfOrderTimeWindow": "0s"}), V242)
    maps = config.rule_config_map_names("prom-kube-prometheus-stack-prometheus")
    generated = config.server_config(ctx, [service_monitor()], [], maps)
    assert list(generated) == ["global", "rule_files", "scrape_configs", "storage"]
    assert generated["storage"] == {"tsdb": {"out_of_order_time_window": "0s"}}
    assert generated["global"] == {
        "scrape_interval": "30s",
        "external_labels": {"prometheus": "monitoring/prom-kube-prometheus-stack-prometheus",
                            "prometheus_replica": "$(POD_NAME)"},
        "evaluation_interval": "30s"}
    assert generated["rule_files"][0] == (
        "/etc/prometheus/rules/prometheus-prom-kube-prometheus-stack-prometheus-rulefiles-0"
        "/*.yaml")
    assert len(generated["rule_files"]) == 3


@needs_promtool
def test_generated_config_passes_promtool(tmp_path: Path) -> None:
    """real: the runnable form of the generated configuration passes promtool check config."""
    ctx = Context(prometheus_cr(tsdb={"outOfOrderTimeWindow": "10m"},
                                alerting={"alertmanagers": [
                                    {"namespace": "monitoring", "name": "am", "port": "http-web",
                                     "apiVersion": "v2"}]}), V242)
    text = config.render(config.server_config(
        ctx, [service_monitor(), service_monitor(name="seed", port="8000")], [],
        config.rule_config_map_names("p")))
    assert "&id" not in text
    runnable_text, requests = runnable(text, tmp_path, {"POD_NAME": "prometheus-0", "SHARD": "0"})
    assert "kubernetes_sd_configs" not in runnable_text
    assert set(requests.values()) == {Request("endpoints", ("house-price",)),
                                      Request("endpoints", ("monitoring",))}
    path = tmp_path / "prometheus.yaml"
    path.write_text(runnable_text)
    check_config(path)
    path.write_text(runnable_text.replace("scrape_interval: 15s", "scrape_interval: 15q"))
    with pytest.raises(ConfigRejected):
        check_config(path)


def test_expand_substitutes_known_variables_only() -> None:
    """$(POD_NAME) and $(SHARD) are replaced; unknown references stay literal."""
    assert expand("$(POD_NAME)/$(SHARD)/$(OTHER)", {"POD_NAME": "p-0", "SHARD": "0"}) == (
        "p-0/0/$(OTHER)")


def prometheus_rule(expr: Any = "up == 0") -> dict[str, Any]:
    return {"metadata": {"name": "model-alerts", "namespace": "house-price", "uid": "9f"},
            "spec": {"groups": [{"name": "model", "labels": {"team": "ml"},
                                 "query_offset": "1m",
                                 "rules": [{"alert": "ModelDown", "expr": expr, "for": "5m",
                                            "keep_firing_for": "1m",
                                            "labels": {"severity": "critical"}}]}]}}


@needs_promtool
def test_rule_file_for_2_42_passes_promtool() -> None:
    """real: a PrometheusRule becomes <ns>-<name>-<uid>.yaml without fields 2.42 lacks."""
    rule = prometheus_rule()
    assert rules.file_name(rule) == "house-price-model-alerts-9f.yaml"
    content = rules.rule_file(rule, V242)
    group = yaml.safe_load(content)["groups"][0]
    assert "query_offset" not in group and "labels" not in group
    assert group["rules"][0]["keep_firing_for"] == "1m"
    rules.check(content)


@needs_promtool
def test_invalid_rule_is_rejected_by_promtool() -> None:
    """real: an expression Prometheus cannot parse is rejected with promtool's message."""
    with pytest.raises(rules.InvalidRule, match="parse error"):
        rules.check(rules.rule_file(prometheus_rule("rate(up[5m]"), V242))


def test_rule_config_maps_split_at_half_a_mebibyte() -> None:
    """Rule files are packed first-fit into ConfigMaps of at most 512 KiB."""
    big = "x" * (300 * 1024)
    assert [sorted(b) for b in rules.config_map_data({"a": big, "b": big, "c": "small"})] == [
        ["a"], ["b", "c"]]


def test_stateful_set_mirrors_the_operator() -> None:
    """Name, selector labels, containers, args and mounts of prometheus-<name>."""
    settings = workload.ReloaderSettings(
        "quay.io/prometheus-operator/prometheus-config-reloader:v0.93.1", {})
    cr = prometheus_cr(image="quay.io/prometheus/prometheus:v3.14.0-distroless",
                       walCompression=True, externalUrl="http://prom:9090")
    maps = config.rule_config_map_names(cr["metadata"]["name"])
    sts = workload.stateful_set(cr, V242, settings, maps, "h")
    name = "prom-kube-prometheus-stack-prometheus"
    assert sts["metadata"]["name"] == f"prometheus-{name}"
    assert sts["spec"]["serviceName"] == "prometheus-operated"
    assert sts["spec"]["selector"]["matchLabels"]["operator.prometheus.io/name"] == name
    assert sts["metadata"]["ownerReferences"][0]["kind"] == "Prometheus"
    pod = sts["spec"]["template"]["spec"]
    server, reloader = pod["containers"]
    assert server["ports"] == [{"name": "http-web", "containerPort": 9090, "protocol": "TCP"}]
    assert "--storage.tsdb.retention.time=10d" in server["args"]
    assert "--web.enable-lifecycle" in server["args"]
    assert server["readinessProbe"]["httpGet"] == {"path": "/-/ready", "port": "http-web",
                                                   "scheme": "HTTP"}
    assert reloader["ports"][0]["name"] == "reloader-web"
    assert pod["initContainers"][0]["name"] == "init-config-reloader"
    assert {"name": f"prometheus-{name}", "secret": {"secretName": f"prometheus-{name}"}} == (
        pod["volumes"][0] | {"name": f"prometheus-{name}"})
    assert workload.server_args(cr["spec"], Version(3, 14, 0)).count(
        "--storage.tsdb.retention.time=10d") == 0


def test_config_secret_holds_gzipped_yaml() -> None:
    """prometheus-<name> carries prometheus.yaml.gz, gzip of the rendered configuration."""
    import base64

    secret = workload.config_secret(prometheus_cr(), config.compress("global: {}\n"))
    assert secret["metadata"]["name"] == "prometheus-prom-kube-prometheus-stack-prometheus"
    data = base64.b64decode(secret["data"]["prometheus.yaml.gz"])
    assert gzip.decompress(data) == b"global: {}\n"


@pytest.mark.skipif(shutil.which("prometheus") is None, reason="prometheus not installed")
def test_binary_version_is_read_from_the_binary() -> None:
    """real: the installed binary reports its version (Debian's 2.42 here)."""
    assert binary_version() >= Version(2, 0, 0)
