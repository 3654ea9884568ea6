"""Column: rehearsal. The kubernetes python client (typed and DynamicClient) against the apiserver.

Pins the answers client code branches on: CRUD round trips with server defaults, 409 Conflict on
a stale resourceVersion, unknown fields (Strict: 400 naming the field; default Warn: dropped with
a ``Warning: 299`` header), 422 Invalid with one cause per field, label/field selectors and
pagination, watches from a resourceVersion with bookmarks, and 410 Expired for a compacted one.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes import dynamic
from kubernetes import watch as k8s_watch
from kubernetes.client.exceptions import ApiException

from tests.rehearsal.conftest import Kube
from tests.rehearsal.fixtures import start_cluster


def _cm(name: str, labels: dict[str, str] | None = None, **data: str) -> k8s.V1ConfigMap:
    return k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name=name, labels=labels), data=data)


def test_crud_round_trip_with_defaults(kube: Kube, namespace: str) -> None:
    apps = k8s.AppsV1Api(kube.api)
    body = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "api"},
        "spec": {
            "selector": {"matchLabels": {"app": "api"}},
            "template": {
                "metadata": {"labels": {"app": "api"}},
                "spec": {
                    "containers": [{"name": "api", "image": "example/api:latest", "ports": [{"containerPort": 80}]}]
                },
            },
        },
    }
    created = apps.create_namespaced_deployment(namespace, body)
    assert created.metadata.generation == 1
    assert created.metadata.uid
    assert created.spec.replicas == 1
    assert created.spec.revision_history_limit == 10
    container = created.spec.template.spec.containers[0]
    assert container.image_pull_policy == "Always"
    assert container.ports[0].protocol == "TCP"
    assert container.termination_message_path == "/dev/termination-log"
    patched = apps.patch_namespaced_deployment("api", namespace, {"spec": {"replicas": 3}})
    assert patched.spec.replicas == 3
    assert patched.metadata.generation == 2
    labelled = apps.patch_namespaced_deployment("api", namespace, {"metadata": {"labels": {"tier": "web"}}})
    assert labelled.metadata.generation == 2
    assert int(labelled.metadata.resource_version) > int(patched.metadata.resource_version)
    apps.delete_namespaced_deployment("api", namespace)
    with pytest.raises(ApiException) as missing:
        apps.read_namespaced_deployment("api", namespace)
    assert missing.value.status == 404


def test_stale_update_is_a_conflict(kube: Kube, namespace: str) -> None:
    core = k8s.CoreV1Api(kube.api)
    first = core.create_namespaced_config_map(namespace, _cm("stale", x="1"))
    fresh = core.read_namespaced_config_map("stale", namespace)
    fresh.data = {"x": "2"}
    core.replace_namespaced_config_map("stale", namespace, fresh)
    first.data = {"x": "3"}
    with pytest.raises(ApiException) as conflict:
        core.replace_namespaced_config_map("stale", namespace, first)
    assert conflict.value.status == 409
    assert "the object has been modified; please apply your changes to the latest version" in conflict.value.body


def test_unchanged_update_does_not_bump_resource_version(kube: Kube, namespace: str) -> None:
    core = k8s.CoreV1Api(kube.api)
    created = core.create_namespaced_config_map(namespace, _cm("same", x="1"))
    again = core.replace_namespaced_config_map("same", namespace, created)
    assert again.metadata.resource_version == created.metadata.resource_version


def test_unknown_fields_strict_and_warn(kube: Kube, namespace: str) -> None:
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "typo"}, "dta": {"a": "b"}}
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    status, _, strict = kube.raw("POST", path, body, [("fieldValidation", "Strict")])
    assert status == 400
    assert strict["reason"] == "BadRequest"
    assert (
        strict["message"]
        == 'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "dta"'
    )
    status, headers, created = kube.raw("POST", path, body)
    assert status == 201
    assert kube.warnings(headers) == '299 - "unknown field \\"dta\\""'
    assert "dta" not in created


def test_invalid_object_names_each_field(kube: Kube, namespace: str) -> None:
    body = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "svc"},
        "spec": {"type": "NodePort", "ports": [{"name": "a", "port": 80, "nodePort": 80}, {"name": "a", "port": 81}]},
    }
    status, _, answer = kube.raw("POST", f"/api/v1/namespaces/{namespace}/services", body)
    assert status == 422
    assert answer["reason"] == "Invalid"
    causes = {(c["field"], c["reason"]) for c in answer["details"]["causes"]}
    assert ("spec.ports[1].name", "FieldValueDuplicate") in causes
    assert ("spec.ports[0].nodePort", "FieldValueInvalid") in causes
    assert answer["message"].startswith('Service "svc" is invalid: [')


def test_wrong_type_on_a_builtin_is_a_decode_error(kube: Kube, namespace: str) -> None:
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "typed"}, "data": {"a": 1}}
    status, _, answer = kube.raw("POST", f"/api/v1/namespaces/{namespace}/configmaps", body)
    assert status == 400
    assert "json: cannot unmarshal number 1 into Go struct field ConfigMap.data of type string" in answer["message"]


def test_selectors_and_pagination(kube: Kube, namespace: str) -> None:
    core = k8s.CoreV1Api(kube.api)
    for i, tier in enumerate(["web", "web", "db", "cache"]):
        core.create_namespaced_config_map(namespace, _cm(f"cm{i}", {"tier": tier}))
    names = lambda items: [i.metadata.name for i in items]  # noqa: E731
    assert names(core.list_namespaced_config_map(namespace, label_selector="tier in (web,db)").items) == [
        "cm0",
        "cm1",
        "cm2",
    ]
    assert names(core.list_namespaced_config_map(namespace, label_selector="tier!=web,tier").items) == ["cm2", "cm3"]
    assert names(core.list_namespaced_config_map(namespace, field_selector="metadata.name=cm3").items) == ["cm3"]
    with pytest.raises(ApiException) as bad:
        core.list_namespaced_config_map(namespace, field_selector="spec.foo=bar")
    assert bad.value.status == 400
    assert "field label not supported: spec.foo" in bad.value.body
    first = core.list_namespaced_config_map(namespace, limit=2, label_selector="tier")
    assert names(first.items) == ["cm0", "cm1"]
    rest = core.list_namespaced_config_map(
        namespace, limit=2, label_selector="tier", _continue=first.metadata._continue
    )
    assert names(rest.items) == ["cm2", "cm3"]
    assert not rest.metadata._continue
    core.delete_collection_namespaced_config_map(namespace, label_selector="tier=web")
    assert names(core.list_namespaced_config_map(namespace, label_selector="tier").items) == ["cm2", "cm3"]


def test_watch_from_a_resource_version_with_bookmarks(kube: Kube, namespace: str) -> None:
    core = k8s.CoreV1Api(kube.api)
    start = core.create_namespaced_config_map(namespace, _cm("w1")).metadata.resource_version
    core.patch_namespaced_config_map("w1", namespace, {"data": {"a": "b"}})
    core.create_namespaced_config_map(namespace, _cm("w2"))
    core.delete_namespaced_config_map("w1", namespace)
    seen = []
    stream = k8s_watch.Watch().stream(
        core.list_namespaced_config_map,
        namespace,
        resource_version=start,
        allow_watch_bookmarks=True,
        timeout_seconds=3,
    )
    for event in stream:
        seen.append((event["type"], event["object"].metadata.name if event["type"] != "BOOKMARK" else ""))
    assert seen[:3] == [("MODIFIED", "w1"), ("ADDED", "w2"), ("DELETED", "w1")]
    assert ("BOOKMARK", "") in seen[3:]


def test_dynamic_client_lists_and_applies(kube: Kube, namespace: str) -> None:
    dyn = dynamic.DynamicClient(kube.api)
    cms = dyn.resources.get(api_version="v1", kind="ConfigMap")
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "dyn", "namespace": namespace},
        "data": {"k": "v"},
    }
    applied = cms.server_side_apply(body=body, name="dyn", namespace=namespace, field_manager="pytest")
    assert applied.data.k == "v"
    again = cms.server_side_apply(body=body, name="dyn", namespace=namespace, field_manager="pytest")
    assert again.metadata.resourceVersion == applied.metadata.resourceVersion
    assert [i.metadata.name for i in cms.get(namespace=namespace).items] == ["dyn"]


@pytest.fixture(scope="module")
def small_history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[k8s.ApiClient]:
    state: Path = tmp_path_factory.mktemp("small-history")
    with start_cluster(state, "--watch-history", "5") as cluster:
        api = k8s_config.new_client_from_config(str(cluster.kubeconfig))
        yield api
        api.close()


def test_watch_from_a_compacted_resource_version_is_expired(small_history: k8s.ApiClient) -> None:
    core = k8s.CoreV1Api(small_history)
    first = core.create_namespaced_config_map("default", _cm("old")).metadata.resource_version
    for i in range(10):
        core.create_namespaced_config_map("default", _cm(f"n{i}"))
    with pytest.raises(ApiException) as expired:
        for _ in k8s_watch.Watch().stream(
            core.list_namespaced_config_map, "default", resource_version=first, timeout_seconds=2
        ):
            pass
    assert expired.value.status == 410


def _deployment(name: str, selector: dict[str, str], labels: dict[str, str]) -> dict[str, object]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "selector": {"matchLabels": selector},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "c", "image": "x/y:1"}]}},
        },
    }


def test_semantic_rules_of_workloads_and_services(kube: Kube, namespace: str) -> None:
    deployments = f"/apis/apps/v1/namespaces/{namespace}/deployments"
    status, _, mismatch = kube.raw("POST", deployments, _deployment("m", {"app": "a"}, {"app": "b"}))
    assert status == 422
    assert mismatch["details"]["causes"] == [
        {
            "reason": "FieldValueInvalid",
            "message": 'Invalid value: map[string]string{"app":"b"}: `selector` does not match template `labels`',
            "field": "spec.template.metadata.labels",
        }
    ]
    assert kube.raw("POST", deployments, _deployment("d", {"app": "a"}, {"app": "a", "v": "1"}))[0] == 201
    patch = {"spec": {"selector": {"matchLabels": {"app": "a", "v": "1"}}}}
    status, _, immutable = kube.raw("PATCH", f"{deployments}/d", patch, content_type="application/merge-patch+json")
    assert status == 422
    assert immutable["details"]["causes"][0]["field"] == "spec.selector"
    assert immutable["details"]["causes"][0]["message"].endswith("field is immutable")
    services = f"/api/v1/namespaces/{namespace}/services"
    node_port = {"type": "NodePort", "ports": [{"port": 80, "nodePort": 31555}]}
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "np1"}, "spec": node_port}
    status, _, first = kube.raw("POST", services, svc)
    assert status == 201
    assert first["spec"]["externalTrafficPolicy"] == "Cluster"
    status, _, taken = kube.raw("POST", services, {**svc, "metadata": {"name": "np2"}})
    assert status == 422
    assert taken["details"]["causes"] == [
        {
            "reason": "FieldValueInvalid",
            "message": "Invalid value: 31555: provided port is already allocated",
            "field": "spec.ports[0].nodePort",
        }
    ]
    moved = {"spec": {"clusterIP": "127.99.0.1"}}
    status, _, fixed = kube.raw("PATCH", f"{services}/np1", moved, content_type="application/merge-patch+json")
    assert status == 422
    assert "may not change once set" in fixed["message"]


def test_auth_and_content_negotiation(kube: Kube) -> None:
    cluster = kube.cluster
    with httpx.Client(
        base_url=cluster.url, verify=ssl.create_default_context(cafile=cluster.ca_file), timeout=10
    ) as http:
        assert http.get("/version").json()["gitVersion"].startswith("v1.33.")
        anonymous = http.get("/api/v1/namespaces")
        assert anonymous.status_code == 401
        assert anonymous.json()["reason"] == "Unauthorized"
        auth = {"Authorization": f"Bearer {cluster.token}"}
        assert http.get("/api/v1/namespaces", headers={**auth, "Authorization": "Bearer wrong"}).status_code == 401
        proto_only = http.get("/api/v1/namespaces", headers={**auth, "Accept": "application/vnd.kubernetes.protobuf"})
        assert proto_only.status_code == 406
        fallback = http.get(
            "/api/v1/namespaces", headers={**auth, "Accept": "application/vnd.kubernetes.protobuf, */*"}
        )
        assert fallback.headers["Content-Type"].startswith("application/json")
        assert fallback.json()["kind"] == "NamespaceList"
        assert http.delete("/api/v1/namespaces", headers=auth).status_code == 405
        missing = http.get("/apis/nothing.example.com/v1/things", headers=auth)
        assert missing.status_code == 404
        assert missing.json()["message"] == "the server could not find the requested resource"
