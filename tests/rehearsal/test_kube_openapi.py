"""Column: rehearsal. The OpenAPI documents kubectl and helm download, read by the real kubectl.

Pins: ``kubectl explain --output plaintext-openapiv2`` reads /openapi/v2 in gnostic protobuf
(what client-go's ``OpenAPISchema()`` accepts); ``kubectl explain`` reads /openapi/v3; every
PATCH operation in the v3 documents lists the ``fieldValidation`` query parameter (client-go's
QueryParamVerifierV3 then trusts server-side validation); a stale ``?hash=`` is redirected.
"""

from __future__ import annotations

from tests.rehearsal.conftest import Kube


def test_explain_reads_v2_protobuf(kube: Kube) -> None:
    out = kube.kubectl("explain", "deployment.spec.strategy", "--output=plaintext-openapiv2").stdout
    assert "KIND:     Deployment" in out
    assert "rollingUpdate\t<Object>" in out


def test_explain_reads_v3(kube: Kube) -> None:
    out = kube.kubectl("explain", "service.spec.ports.targetPort").stdout
    assert "FIELD: targetPort <IntOrString>" in out


def test_v3_patch_operations_accept_field_validation(kube: Kube) -> None:
    status, _, root = kube.raw("GET", "/openapi/v3")
    assert status == 200
    url = root["paths"]["apis/apps/v1"]["serverRelativeURL"]
    path, _, digest = url.partition("?hash=")
    status, _, doc = kube.raw("GET", path, query=[("hash", digest)])
    assert status == 200
    patches = [item["patch"] for item in doc["paths"].values() if "patch" in item]
    assert patches
    for op in patches:
        assert "fieldValidation" in {p["name"] for p in op["parameters"]}, op["operationId"]
    deployment = doc["components"]["schemas"]["io.k8s.api.apps.v1.Deployment"]
    assert deployment["x-kubernetes-group-version-kind"] == [{"group": "apps", "kind": "Deployment", "version": "v1"}]
    containers = doc["components"]["schemas"]["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]
    assert containers["x-kubernetes-patch-merge-key"] == "name"
