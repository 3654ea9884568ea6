"""Column: rehearsal. The real kubectl 1.32 against the rehearsal apiserver.

Pins what kubectl relies on: discovery (api-resources with short names), client-side apply
(a second apply is "unchanged" and sends no write), server-side apply (a second apply stores
nothing: same resourceVersion), server-side printing (``kubectl get`` columns), ``kubectl wait``
on a condition, ``kubectl create`` of an existing object (AlreadyExists) and server dry-run.
"""

from __future__ import annotations

import json

from tests.rehearsal.conftest import Kube

MANIFEST = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: registry.example/web:1.0
          ports:
            - {name: http, containerPort: 8080}
          resources:
            requests: {cpu: 100m, memory: 64Mi}
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
    - {name: http, port: 80, targetPort: http}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  mode: rehearsal
"""


def _rvs(kube: Kube, namespace: str) -> dict[str, str]:
    out = kube.kubectl("get", "deploy,svc,cm", "-n", namespace, "-o", "json").stdout
    return {f"{i['kind']}/{i['metadata']['name']}": i["metadata"]["resourceVersion"] for i in json.loads(out)["items"]}


def test_discovery_lists_kinds_with_short_names(kube: Kube) -> None:
    out = kube.kubectl("api-resources", "--no-headers").stdout
    rows = {line.split()[0]: line.split() for line in out.splitlines()}
    assert rows["deployments"][1] == "deploy"
    assert rows["customresourcedefinitions"][1] == "crd,crds"
    assert "Secret" in rows["secrets"]
    assert kube.kubectl("version", "-o", "json").stdout.count("v1.33") >= 1


def test_second_client_side_apply_is_unchanged_and_writes_nothing(kube: Kube, namespace: str) -> None:
    first = kube.kubectl("apply", "-n", namespace, "-f", "-", stdin=MANIFEST).stdout
    assert "deployment.apps/web created" in first
    before = _rvs(kube, namespace)
    mark = kube.cluster.mark()
    second = kube.kubectl("apply", "-n", namespace, "-f", "-", stdin=MANIFEST).stdout
    assert second.split("\n")[:3] == [
        "deployment.apps/web unchanged",
        "service/web unchanged",
        "configmap/settings unchanged",
    ]
    assert kube.cluster.writes(mark, user_agent="kubectl") == []
    after = _rvs(kube, namespace)
    assert after["ConfigMap/settings"] == before["ConfigMap/settings"]
    assert after["Service/web"] == before["Service/web"]


def test_second_server_side_apply_stores_nothing(kube: Kube, namespace: str) -> None:
    kube.kubectl("apply", "--server-side", "-n", namespace, "-f", "-", stdin=MANIFEST)
    before = _rvs(kube, namespace)
    out = kube.kubectl("apply", "--server-side", "-n", namespace, "-f", "-", stdin=MANIFEST).stdout
    assert "configmap/settings serverside-applied" in out
    after = _rvs(kube, namespace)
    assert after["ConfigMap/settings"] == before["ConfigMap/settings"]
    assert after["Service/web"] == before["Service/web"]
    managed = json.loads(
        kube.kubectl("get", "cm", "settings", "-n", namespace, "-o", "json", "--show-managed-fields").stdout
    )
    entry = managed["metadata"]["managedFields"][0]
    assert (entry["manager"], entry["operation"]) == ("kubectl", "Apply")
    assert entry["fieldsV1"] == {"f:data": {"f:mode": {}}}


def test_server_side_apply_conflict_needs_force(kube: Kube, namespace: str) -> None:
    kube.kubectl("apply", "--server-side", "-n", namespace, "-f", "-", stdin=MANIFEST)
    changed = MANIFEST.replace("mode: rehearsal", "mode: other")
    clash = kube.kubectl(
        "apply", "--server-side", "--field-manager", "intruder", "-n", namespace, "-f", "-", stdin=changed, check=False
    )
    assert clash.returncode != 0
    assert 'conflict with "kubectl"' in clash.stderr
    assert ".data.mode" in clash.stderr
    kube.kubectl(
        "apply",
        "--server-side",
        "--force-conflicts",
        "--field-manager",
        "intruder",
        "-n",
        namespace,
        "-f",
        "-",
        stdin=changed,
    )
    assert kube.kubectl("get", "cm", "settings", "-n", namespace, "-o", "jsonpath={.data.mode}").stdout == "other"


def test_get_prints_server_side_columns(kube: Kube, namespace: str) -> None:
    kube.kubectl("apply", "-n", namespace, "-f", "-", stdin=MANIFEST)
    header = kube.kubectl("get", "svc", "web", "-n", namespace).stdout.splitlines()[0].split()
    assert header == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
    assert (
        kube.kubectl(
            "get", "deploy", "web", "-n", namespace, "-o", "jsonpath={.spec.strategy.rollingUpdate.maxSurge}"
        ).stdout
        == "25%"
    )


def test_create_of_an_existing_object_is_already_exists(kube: Kube, namespace: str) -> None:
    cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: once\n"
    kube.kubectl("create", "-n", namespace, "-f", "-", stdin=cm)
    again = kube.kubectl("create", "-n", namespace, "-f", "-", stdin=cm, check=False)
    assert again.returncode == 1
    assert (
        'Error from server (AlreadyExists): error when creating "STDIN": configmaps "once" already exists'
        in again.stderr
    )


def test_server_dry_run_stores_nothing(kube: Kube, namespace: str) -> None:
    mark = kube.cluster.mark()
    out = kube.kubectl("apply", "--dry-run=server", "-n", namespace, "-f", "-", stdin=MANIFEST).stdout
    assert "deployment.apps/web created (server dry run)" in out
    assert kube.cluster.writes(mark, user_agent="kubectl")
    missing = kube.kubectl("get", "deploy", "web", "-n", namespace, check=False)
    assert "NotFound" in missing.stderr


def test_wait_for_a_condition(kube: Kube) -> None:
    crd = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.wait.rehearsal.io
spec:
  group: wait.rehearsal.io
  scope: Namespaced
  names: {plural: gadgets, singular: gadget, kind: Gadget}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
"""
    kube.kubectl("apply", "-f", "-", stdin=crd)
    done = kube.kubectl("wait", "--for=condition=Established", "crd/gadgets.wait.rehearsal.io", "--timeout=20s")
    assert "condition met" in done.stdout
    kube.kubectl("delete", "crd", "gadgets.wait.rehearsal.io")


def test_unknown_field_is_rejected_by_strict_validation(kube: Kube, namespace: str) -> None:
    bad = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: typo\ndta:\n  a: b\n"
    out = kube.kubectl("apply", "-n", namespace, "-f", "-", stdin=bad, check=False)
    assert out.returncode == 1
    assert 'strict decoding error: unknown field "dta"' in out.stderr


def test_create_generators_send_protobuf(kube: Kube, namespace: str) -> None:
    """``kubectl create <kind>`` and ``kubectl run`` write protobuf bodies, read back as JSON."""
    kube.kubectl("create", "deployment", "gen", "--image=registry.example/gen:2", "--replicas=0", "-n", namespace)
    kube.kubectl("create", "secret", "generic", "gen", "--from-literal=token=abc", "-n", namespace)
    kube.kubectl("create", "service", "clusterip", "gen", "--tcp=80:8080", "-n", namespace)
    kube.kubectl("run", "gen", "--image=registry.example/gen:2", "--env=A=B", "--labels=x=y", "-n", namespace)
    deploy = json.loads(kube.kubectl("get", "deploy", "gen", "-n", namespace, "-o", "json").stdout)
    assert deploy["spec"]["replicas"] == 0
    assert deploy["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.example/gen:2"
    secret = json.loads(kube.kubectl("get", "secret", "gen", "-n", namespace, "-o", "json").stdout)
    assert secret["data"] == {"token": "YWJj"}
    service = json.loads(kube.kubectl("get", "svc", "gen", "-n", namespace, "-o", "json").stdout)
    assert service["spec"]["ports"] == [{"name": "80-8080", "port": 80, "protocol": "TCP", "targetPort": 8080}]
    pod = json.loads(kube.kubectl("get", "pod", "gen", "-n", namespace, "-o", "json").stdout)
    assert pod["spec"]["containers"][0]["env"] == [{"name": "A", "value": "B"}]
    assert pod["metadata"]["labels"] == {"x": "y"}


def test_string_data_secret_reapply_is_configured_but_not_stored(kube: Kube, namespace: str) -> None:
    """As kubernetes/kubernetes#87736: stringData is write-only, so kubectl always sends a patch."""
    secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: sd\nstringData:\n  password: hunter2\n"
    kube.kubectl("apply", "-n", namespace, "-f", "-", stdin=secret)
    stored = json.loads(kube.kubectl("get", "secret", "sd", "-n", namespace, "-o", "json").stdout)
    assert stored["data"] == {"password": "aHVudGVyMg=="}
    assert "stringData" not in stored
    again = kube.kubectl("apply", "-n", namespace, "-f", "-", stdin=secret).stdout
    assert again.strip() == "secret/sd configured"
    after = json.loads(kube.kubectl("get", "secret", "sd", "-n", namespace, "-o", "json").stdout)
    assert after["metadata"]["resourceVersion"] == stored["metadata"]["resourceVersion"]
