"""Hand-written validation of built-in kinds (pkg/apis/*/validation), for the rules clients trip on.

Each validator returns ``errors.Cause`` items with the apiserver's field paths and wording;
the REST layer turns a non-empty list into a 422 Invalid. Covered: object metadata (names per
kind, labels, annotations, finalizers, owner references), pod specs (containers, ports, probes,
env, volumes, resources), Deployments/ReplicaSets/StatefulSets/DaemonSets (selector vs template
labels, strategy), Services (types, ports, nodePorts, clusterIP), ConfigMaps/Secrets (keys,
types, immutability), Namespaces and CRDs, plus the immutable fields of updates.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import Any

from . import names
from .errors import (
    Cause,
    GoSyntax,
    duplicate,
    field_not_found,
    forbidden_field,
    invalid,
    not_supported,
    required,
)
from .quantity import quantity_value
from .resources import ResourceType
from .selectors import selector_object_matcher

Obj = dict[str, Any]
Causes = list[Cause]
STANDARD_FINALIZERS = ("kubernetes", "orphan", "foregroundDeletion")
IMMUTABLE = "field is immutable"


def _each(path: str, msgs: list[str], value: Any) -> Causes:
    return [invalid(path, value, m) for m in msgs]


# --- metadata -------------------------------------------------------------------------------


def name_validator(rt: ResourceType) -> Callable[[str], list[str]]:
    if rt.group == "" and rt.kind in ("Namespace",):
        return names.is_dns1123_label
    if rt.group == "" and rt.kind == "Service":
        return names.is_dns1035_label
    if rt.group == "rbac.authorization.k8s.io":
        return names.is_path_segment_name
    return names.is_dns1123_subdomain


def validate_meta(rt: ResourceType, meta: Obj, old: Obj | None) -> Causes:
    out: Causes = []
    name = meta.get("name", "")
    if not name:
        out.append(required("metadata.name", "name or generateName is required"))
    else:
        out += _each("metadata.name", name_validator(rt)(name), name)
    out += validate_labels(meta.get("labels"), "metadata.labels")
    out += validate_annotations(meta.get("annotations"), "metadata.annotations")
    for i, fin in enumerate(meta.get("finalizers") or []):
        out += _each(f"metadata.finalizers[{i}]", names.is_qualified_name(fin), fin)
    out += _owner_refs(meta.get("ownerReferences") or [])
    if old is not None:
        old_meta = old["metadata"]
        for key in ("uid",):
            if meta.get(key) != old_meta.get(key):
                out.append(invalid(f"metadata.{key}", meta.get(key), IMMUTABLE))
        if meta.get("deletionTimestamp") and not old_meta.get("deletionTimestamp"):
            out.append(
                invalid(
                    "metadata.deletionTimestamp",
                    meta["deletionTimestamp"],
                    "field is immutable; may only be changed via deletion",
                )
            )
    return out


def validate_labels(labels: Any, path: str) -> Causes:
    out: Causes = []
    for key, value in (labels or {}).items():
        out += _each(path, names.is_qualified_name(key), key)
        out += _each(path, names.is_label_value(value), value)
    return out


def validate_annotations(annotations: Any, path: str) -> Causes:
    out: Causes = []
    total = 0
    for key, value in (annotations or {}).items():
        out += _each(path, names.is_qualified_name(key.lower()), key)
        total += len(key) + len(value)
    if total > 256 * 1024:
        out.append(Cause("FieldValueTooLong", "Too long: must have at most 262144 bytes", path))
    return out


def _owner_refs(refs: list[Obj]) -> Causes:
    out: Causes = []
    controllers = []
    for ref in refs:
        path = "metadata.ownerReferences"
        for key in ("apiVersion", "kind", "name"):
            if not ref.get(key):
                out.append(invalid(f"{path}.{key}", ref.get(key, ""), f"{key} must not be empty"))
        if not ref.get("uid"):
            out.append(invalid(f"{path}.uid", "", "uid must not be empty"))
        if ref.get("controller"):
            controllers.append(f"{ref.get('kind')}/{ref.get('name')}")
    if len(controllers) > 1:
        out.append(
            invalid(
                "metadata.ownerReferences",
                refs,
                'Only one reference can have Controller set to true. Found "true" in references for '
                + " and ".join(controllers),
            )
        )
    return out


# --- pods -----------------------------------------------------------------------------------

PULL_POLICIES = ["Always", "IfNotPresent", "Never"]
PROTOCOLS = ["SCTP", "TCP", "UDP"]
RESTART_POLICIES = ["Always", "Never", "OnFailure"]
DNS_POLICIES = ["ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"]
TERMINATION_POLICIES = ["FallbackToLogsOnError", "File"]


def _probe(probe: Any, path: str) -> Causes:
    if not isinstance(probe, dict):
        return []
    out: Causes = []
    handlers = [k for k in ("exec", "httpGet", "tcpSocket", "grpc") if k in probe]
    if not handlers:
        out.append(required(path, "must specify a handler type"))
    elif len(handlers) > 1:
        out.append(forbidden_field(f"{path}.{handlers[1]}", "may not specify more than 1 handler type"))
    for key in ("periodSeconds", "timeoutSeconds", "successThreshold", "failureThreshold"):
        if key in probe and probe[key] < 1:
            out.append(invalid(f"{path}.{key}", probe[key], "must be greater than or equal to 1"))
    if probe.get("initialDelaySeconds", 0) < 0:
        out.append(
            invalid(f"{path}.initialDelaySeconds", probe["initialDelaySeconds"], "must be greater than or equal to 0")
        )
    out += _port_ref((probe.get("httpGet") or {}).get("port"), f"{path}.httpGet.port", "httpGet" in probe)
    out += _port_ref((probe.get("tcpSocket") or {}).get("port"), f"{path}.tcpSocket.port", "tcpSocket" in probe)
    scheme = (probe.get("httpGet") or {}).get("scheme")
    if scheme and scheme not in ("HTTP", "HTTPS"):
        out.append(not_supported(f"{path}.httpGet.scheme", scheme, ["HTTP", "HTTPS"]))
    return out


def _port_ref(port: Any, path: str, present: bool) -> Causes:
    if not present:
        return []
    if port is None:
        return [required(path)]
    if isinstance(port, int):
        return _each(path, names.is_port_number(port), port)
    return _each(path, names.is_port_name(port), port)


def _resources(res: Any, path: str) -> Causes:
    out: Causes = []
    if not isinstance(res, dict):
        return out
    limits = res.get("limits") or {}
    requests = res.get("requests") or {}
    for kind, values in (("limits", limits), ("requests", requests)):
        for key, value in values.items():
            parsed = quantity_value(str(value))
            if parsed is not None and parsed < 0:
                out.append(invalid(f"{path}.{kind}[{key}]", value, "must be greater than or equal to 0"))
    for key, value in requests.items():
        if key in limits:
            want, cap = quantity_value(str(value)), quantity_value(str(limits[key]))
            if want is not None and cap is not None and want > cap:
                out.append(
                    invalid(f"{path}.requests", value, f"must be less than or equal to {key} limit of {limits[key]}")
                )
    return out


def _container(c: Obj, path: str, volumes: set[str], seen_ports: dict[str, str]) -> Causes:
    out: Causes = []
    name = c.get("name", "")
    if not name:
        out.append(required(f"{path}.name"))
    else:
        out += _each(f"{path}.name", names.is_dns1123_label(name), name)
    if not c.get("image"):
        out.append(required(f"{path}.image"))
    policy = c.get("imagePullPolicy")
    if policy is not None and policy not in PULL_POLICIES:
        out.append(not_supported(f"{path}.imagePullPolicy", policy, PULL_POLICIES))
    tpolicy = c.get("terminationMessagePolicy")
    if tpolicy is not None and tpolicy not in TERMINATION_POLICIES:
        out.append(not_supported(f"{path}.terminationMessagePolicy", tpolicy, TERMINATION_POLICIES))
    for i, port in enumerate(c.get("ports") or []):
        here = f"{path}.ports[{i}]"
        pname = port.get("name")
        if pname:
            out += _each(f"{here}.name", names.is_port_name(pname), pname)
            if pname in seen_ports:
                out.append(duplicate(f"{here}.name", pname))
            seen_ports[pname] = here
        number = port.get("containerPort", 0)
        out += _each(f"{here}.containerPort", names.is_port_number(number), number)
        if port.get("hostPort"):
            out += _each(f"{here}.hostPort", names.is_port_number(port["hostPort"]), port["hostPort"])
        proto = port.get("protocol")
        if proto is not None and proto not in PROTOCOLS:
            out.append(not_supported(f"{here}.protocol", proto, PROTOCOLS))
    for i, env in enumerate(c.get("env") or []):
        ename = env.get("name", "")
        if not ename:
            out.append(required(f"{path}.env[{i}].name"))
        else:
            out += _each(f"{path}.env[{i}].name", names.is_env_var_name(ename), ename)
        if "value" in env and env.get("valueFrom"):
            out.append(invalid(f"{path}.env[{i}].valueFrom", "", "may not be specified when `value` is not empty"))
    for i, mount in enumerate(c.get("volumeMounts") or []):
        if mount.get("name") and mount["name"] not in volumes:
            out.append(field_not_found(f"{path}.volumeMounts[{i}].name", mount["name"]))
        if not mount.get("mountPath"):
            out.append(required(f"{path}.volumeMounts[{i}].mountPath"))
    for key in ("livenessProbe", "readinessProbe", "startupProbe"):
        out += _probe(c.get(key), f"{path}.{key}")
    out += _resources(c.get("resources"), f"{path}.resources")
    return out


def validate_pod_spec(spec: Any, path: str, restart_policies: list[str] | None = None) -> Causes:
    if not isinstance(spec, dict):
        return [required(path)]
    out: Causes = []
    volumes: set[str] = set()
    for i, vol in enumerate(spec.get("volumes") or []):
        vname = vol.get("name", "")
        if not vname:
            out.append(required(f"{path}.volumes[{i}].name"))
        else:
            out += _each(f"{path}.volumes[{i}].name", names.is_dns1123_label(vname), vname)
            if vname in volumes:
                out.append(duplicate(f"{path}.volumes[{i}].name", vname))
        volumes.add(vname)
    containers = spec.get("containers") or []
    if not containers:
        out.append(required(f"{path}.containers"))
    seen: set[str] = set()
    for key in ("initContainers", "containers"):
        seen_ports: dict[str, str] = {}
        for i, c in enumerate(spec.get(key) or []):
            here = f"{path}.{key}[{i}]"
            out += _container(c, here, volumes, seen_ports)
            cname = c.get("name")
            if cname and cname in seen:
                out.append(duplicate(f"{here}.name", cname))
            if cname:
                seen.add(cname)
    policy = spec.get("restartPolicy")
    allowed = restart_policies or RESTART_POLICIES
    if policy is not None and policy not in allowed:
        out.append(not_supported(f"{path}.restartPolicy", policy, allowed))
    dns = spec.get("dnsPolicy")
    if dns is not None and dns not in DNS_POLICIES:
        out.append(not_supported(f"{path}.dnsPolicy", dns, DNS_POLICIES))
    grace = spec.get("terminationGracePeriodSeconds")
    if isinstance(grace, int) and grace < 0:
        out.append(invalid(f"{path}.terminationGracePeriodSeconds", grace, "must be greater than or equal to 0"))
    sa = spec.get("serviceAccountName")
    if sa:
        out += _each(f"{path}.serviceAccountName", names.is_dns1123_subdomain(sa), sa)
    return out


def _pod(obj: Obj, old: Obj | None) -> Causes:
    out = validate_pod_spec(obj.get("spec"), "spec")
    if old is not None:
        new_spec = _strip_mutable_pod_spec(obj.get("spec") or {})
        old_spec = _strip_mutable_pod_spec(old.get("spec") or {})
        if new_spec != old_spec:
            out.append(
                forbidden_field(
                    "spec",
                    "pod updates may not change fields other than `spec.containers[*].image`,"
                    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
                    "`spec.tolerations` (only additions to existing tolerations),"
                    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was "
                    "previously negative)",
                )
            )
    return out


def _strip_mutable_pod_spec(spec: Obj) -> Obj:
    out = {
        k: v
        for k, v in spec.items()
        if k not in ("activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds", "nodeName")
    }
    for key in ("containers", "initContainers"):
        if key in out:
            out[key] = [{k: v for k, v in c.items() if k != "image"} for c in out[key]]
    return out


# --- workloads ------------------------------------------------------------------------------


def _selector(selector: Any, path: str) -> Causes:
    out: Causes = []
    if not isinstance(selector, dict):
        return out
    out += validate_labels(selector.get("matchLabels"), f"{path}.matchLabels")
    ops = ["DoesNotExist", "Exists", "In", "NotIn"]
    for i, expr in enumerate(selector.get("matchExpressions") or []):
        here = f"{path}.matchExpressions[{i}]"
        op = expr.get("operator")
        if op not in ops:
            out.append(not_supported(f"{here}.operator", op, ops))
        elif op in ("In", "NotIn") and not expr.get("values"):
            out.append(required(f"{here}.values", "must be specified when `operator` is 'In' or 'NotIn'"))
        elif op in ("Exists", "DoesNotExist") and expr.get("values"):
            out.append(
                forbidden_field(f"{here}.values", "may not be specified when `operator` is 'Exists' or 'DoesNotExist'")
            )
    return out


def _go_selector(selector: Obj) -> GoSyntax:
    labels = ", ".join(f'"{k}":"{v}"' for k, v in sorted((selector.get("matchLabels") or {}).items()))
    return GoSyntax(
        "v1.LabelSelector{MatchLabels:map[string]string{" + labels + "}, "
        "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}"
    )


def _go_labels(labels: Obj) -> GoSyntax:
    return GoSyntax("map[string]string{" + ", ".join(f'"{k}":"{v}"' for k, v in sorted(labels.items())) + "}")


def _workload(obj: Obj, old: Obj | None, kind: str, template_required: bool = True) -> Causes:
    spec = obj.get("spec") or {}
    out: Causes = []
    selector = spec.get("selector")
    if selector is None:
        out.append(required("spec.selector"))
    elif not (selector.get("matchLabels") or selector.get("matchExpressions")):
        out.append(invalid("spec.selector", _go_selector(selector), f"empty selector is invalid for {kind}"))
    out += _selector(selector, "spec.selector")
    for key in ("replicas", "revisionHistoryLimit", "minReadySeconds"):
        value = spec.get(key)
        if isinstance(value, int) and value < 0:
            out.append(invalid(f"spec.{key}", value, "must be greater than or equal to 0"))
    template = spec.get("template")
    if template is None:
        if template_required:
            out.append(required("spec.template"))
        return out
    labels = (template.get("metadata") or {}).get("labels") or {}
    out += validate_labels(labels, "spec.template.metadata.labels")
    selects = bool(selector and (selector.get("matchLabels") or selector.get("matchExpressions")))
    if selects and not selector_object_matcher(selector)(labels):
        out.append(
            invalid("spec.template.metadata.labels", _go_labels(labels), "`selector` does not match template `labels`")
        )
    out += validate_pod_spec(template.get("spec"), "spec.template.spec", ["Always"])
    if old is not None and selector != (old.get("spec") or {}).get("selector"):
        out.append(invalid("spec.selector", _go_selector(selector or {}), IMMUTABLE))
    return out


def _percent_or_int(value: Any) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d+%", value):
        return int(value[:-1])
    return None


def _deployment(obj: Obj, old: Obj | None) -> Causes:
    out = _workload(obj, old, "deployment")
    spec = obj.get("spec") or {}
    strategy = spec.get("strategy") or {}
    kinds = ["Recreate", "RollingUpdate"]
    stype = strategy.get("type")
    if stype not in kinds:
        out.append(not_supported("spec.strategy.type", stype, kinds))
    rolling = strategy.get("rollingUpdate")
    if stype == "Recreate" and rolling is not None:
        out.append(
            forbidden_field("spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'")
        )
    if isinstance(rolling, dict):
        for key in ("maxUnavailable", "maxSurge"):
            value = rolling.get(key)
            if value is not None and _percent_or_int(value) is None:
                out.append(
                    invalid(
                        f"spec.strategy.rollingUpdate.{key}",
                        value,
                        "a valid percent string must be a numeric string followed by an ending '%' "
                        "(e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
                    )
                )
        if _percent_or_int(rolling.get("maxUnavailable")) == 0 and _percent_or_int(rolling.get("maxSurge")) == 0:
            out.append(
                invalid(
                    "spec.strategy.rollingUpdate.maxUnavailable",
                    rolling.get("maxUnavailable"),
                    "may not be 0 when `maxSurge` is 0",
                )
            )
        unavailable = rolling.get("maxUnavailable")
        if isinstance(unavailable, str) and (_percent_or_int(unavailable) or 0) > 100:
            out.append(
                invalid("spec.strategy.rollingUpdate.maxUnavailable", unavailable, "must not be greater than 100%")
            )
    deadline = spec.get("progressDeadlineSeconds")
    if isinstance(deadline, int) and deadline <= spec.get("minReadySeconds", 0):
        out.append(invalid("spec.progressDeadlineSeconds", deadline, "must be greater than minReadySeconds"))
    return out


def _replica_set(obj: Obj, old: Obj | None) -> Causes:
    return _workload(obj, old, "replicaset")


def _stateful_set(obj: Obj, old: Obj | None) -> Causes:
    out = _workload(obj, old, "statefulset")
    if old is not None:
        mutable = (
            "replicas",
            "template",
            "updateStrategy",
            "persistentVolumeClaimRetentionPolicy",
            "minReadySeconds",
            "ordinals",
            "revisionHistoryLimit",
        )
        new_rest = {k: v for k, v in (obj.get("spec") or {}).items() if k not in mutable}
        old_rest = {k: v for k, v in (old.get("spec") or {}).items() if k not in mutable}
        if new_rest != old_rest:
            out.append(
                forbidden_field(
                    "spec",
                    "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
                    "'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and "
                    "'minReadySeconds' are forbidden",
                )
            )
    return out


def _daemon_set(obj: Obj, old: Obj | None) -> Causes:
    return _workload(obj, old, "daemonset")


# --- services -------------------------------------------------------------------------------

SERVICE_TYPES = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]


def _service(obj: Obj, old: Obj | None) -> Causes:
    spec = obj.get("spec") or {}
    out: Causes = []
    stype = spec.get("type", "ClusterIP")
    if stype not in SERVICE_TYPES:
        out.append(not_supported("spec.type", stype, SERVICE_TYPES))
    ports = spec.get("ports") or []
    headless = spec.get("clusterIP") == "None"
    if not ports and stype != "ExternalName" and not headless:
        out.append(required("spec.ports"))
    if stype == "ExternalName":
        ext = spec.get("externalName", "")
        if not ext:
            out.append(required("spec.externalName"))
        else:
            out += _each("spec.externalName", names.is_dns1123_subdomain(ext.rstrip(".")), ext)
    seen_names: set[str] = set()
    seen_ports: set[tuple[int, str]] = set()
    for i, port in enumerate(ports):
        here = f"spec.ports[{i}]"
        pname = port.get("name", "")
        if len(ports) > 1 and not pname:
            out.append(required(f"{here}.name"))
        elif pname:
            out += _each(f"{here}.name", names.is_dns1123_label(pname), pname)
            if pname in seen_names:
                out.append(duplicate(f"{here}.name", pname))
            seen_names.add(pname)
        number = port.get("port", 0)
        out += _each(f"{here}.port", names.is_port_number(number), number)
        proto = port.get("protocol", "TCP")
        if proto not in PROTOCOLS:
            out.append(not_supported(f"{here}.protocol", proto, PROTOCOLS))
        key = (number, proto)
        if key in seen_ports:
            out.append(duplicate(here, {"port": number, "protocol": proto}))
        seen_ports.add(key)
        target = port.get("targetPort")
        if isinstance(target, int):
            out += _each(f"{here}.targetPort", names.is_port_number(target), target)
        elif isinstance(target, str):
            out += _each(f"{here}.targetPort", names.is_port_name(target), target)
        node_port = port.get("nodePort")
        if node_port and stype not in ("NodePort", "LoadBalancer"):
            out.append(forbidden_field(f"{here}.nodePort", f"may not be used when `type` is '{stype}'"))
        elif node_port:
            out += _each(f"{here}.nodePort", names.is_port_number(node_port), node_port)
    affinity = spec.get("sessionAffinity", "None")
    if affinity not in ("ClientIP", "None"):
        out.append(not_supported("spec.sessionAffinity", affinity, ["ClientIP", "None"]))
    for key, allowed in (
        ("externalTrafficPolicy", ["Cluster", "Local"]),
        ("internalTrafficPolicy", ["Cluster", "Local"]),
    ):
        value = spec.get(key)
        if value is not None and value not in allowed:
            out.append(not_supported(f"spec.{key}", value, allowed))
    if spec.get("externalTrafficPolicy") and stype not in ("NodePort", "LoadBalancer"):
        out.append(
            invalid(
                "spec.externalTrafficPolicy",
                spec["externalTrafficPolicy"],
                "may only be set when `type` is 'NodePort' or 'LoadBalancer'",
            )
        )
    out += validate_labels(spec.get("selector"), "spec.selector")
    if old is not None:
        old_ip = (old.get("spec") or {}).get("clusterIP")
        if (
            old_ip
            and spec.get("clusterIP") != old_ip
            and stype != "ExternalName"
            and (old.get("spec") or {}).get("type") != "ExternalName"
        ):
            out.append(invalid("spec.clusterIPs[0]", [spec.get("clusterIP")], "may not change once set"))
    return out


# --- config and secrets ---------------------------------------------------------------------


def _keys(obj: Obj, fields: tuple[str, ...]) -> Causes:
    out: Causes = []
    seen: set[str] = set()
    for fld in fields:
        for key in obj.get(fld) or {}:
            out += _each(f"{fld}[{key}]", names.is_config_map_key(key), key)
            if key in seen:
                out.append(invalid(f"{fld}[{key}]", key, "duplicate of key present in data"))
            seen.add(key)
    return out


def _immutable_data(obj: Obj, old: Obj | None, fields: tuple[str, ...]) -> Causes:
    if old is None:
        return []
    out: Causes = []
    if old.get("immutable"):
        for fld in fields:
            if obj.get(fld) != old.get(fld):
                out.append(forbidden_field(fld, "field is immutable when `immutable` is set"))
        if not obj.get("immutable"):
            out.append(forbidden_field("immutable", "field is immutable when `immutable` is set"))
    return out


def _config_map(obj: Obj, old: Obj | None) -> Causes:
    out = _keys(obj, ("data", "binaryData"))
    size = sum(len(k) + len(v) for f in ("data", "binaryData") for k, v in (obj.get(f) or {}).items())
    if size > 1024 * 1024:
        out.append(Cause("FieldValueTooLong", "Too long: must have at most 1048576 bytes", ""))
    return out + _immutable_data(obj, old, ("data", "binaryData"))


SECRET_REQUIRED = {
    "kubernetes.io/tls": ("tls.crt", "tls.key"),
    "kubernetes.io/dockerconfigjson": (".dockerconfigjson",),
    "kubernetes.io/dockercfg": (".dockercfg",),
    "kubernetes.io/basic-auth": (),
    "kubernetes.io/ssh-auth": ("ssh-privatekey",),
}


def _secret(obj: Obj, old: Obj | None) -> Causes:
    out = _keys(obj, ("data",))
    stype = obj.get("type", "Opaque")
    data = obj.get("data") or {}
    for key in SECRET_REQUIRED.get(stype, ()):
        if key not in data:
            out.append(required(f"data[{key}]"))
    if stype == "kubernetes.io/service-account-token":
        annotations = obj["metadata"].get("annotations") or {}
        if not annotations.get("kubernetes.io/service-account.name"):
            out.append(required("metadata.annotations[kubernetes.io/service-account.name]"))
    size = sum(len(base64.b64decode(v)) for v in data.values() if isinstance(v, str))
    if size > 1024 * 1024:
        out.append(Cause("FieldValueTooLong", "Too long: must have at most 1048576 bytes", "data"))
    if old is not None and old.get("type", "Opaque") != stype:
        out.append(invalid("type", stype, IMMUTABLE))
    return out + _immutable_data(obj, old, ("data",))


# --- namespaces, CRDs -----------------------------------------------------------------------


def _namespace(obj: Obj, old: Obj | None) -> Causes:
    out: Causes = []
    for i, fin in enumerate((obj.get("spec") or {}).get("finalizers") or []):
        here = f"spec.finalizers[{i}]"
        msgs = names.is_qualified_name(fin)
        out += _each(here, msgs, fin)
        if not msgs and "/" not in fin and fin not in STANDARD_FINALIZERS:
            out.append(invalid(here, fin, "name is neither a standard finalizer name nor is it fully qualified"))
    return out


SCOPES = ["Cluster", "Namespaced"]


def _crd(obj: Obj, old: Obj | None) -> Causes:
    spec = obj.get("spec") or {}
    out: Causes = []
    group = spec.get("group", "")
    plural = (spec.get("names") or {}).get("plural", "")
    name = obj["metadata"].get("name", "")
    if name != f"{plural}.{group}":
        out.append(invalid("metadata.name", name, 'must be spec.names.plural+"."+spec.group'))
    if not group:
        out.append(required("spec.group"))
    elif "." not in group:
        out.append(invalid("spec.group", group, "should be a domain with at least one dot"))
    else:
        out += _each("spec.group", names.is_dns1123_subdomain(group), group)
    scope = spec.get("scope")
    if scope not in SCOPES:
        out.append(not_supported("spec.scope", scope, SCOPES))
    crd_names = spec.get("names") or {}
    for key in ("plural", "singular"):
        value = crd_names.get(key, "")
        if value:
            out += _each(f"spec.names.{key}", names.is_dns1123_label(value), value)
    for key in ("kind", "listKind"):
        value = crd_names.get(key, "")
        if not value:
            out.append(required(f"spec.names.{key}"))
        elif not re.fullmatch(r"[A-Za-z][-A-Za-z0-9_]*", value):
            out.append(
                invalid(
                    f"spec.names.{key}",
                    value,
                    "may have mixed case, but should otherwise match: [a-z]([-a-z0-9]*[a-z0-9])?",
                )
            )
    for i, short in enumerate(crd_names.get("shortNames") or []):
        out += _each(f"spec.names.shortNames[{i}]", names.is_dns1123_label(short), short)
    versions = spec.get("versions") or []
    if not versions:
        out.append(required("spec.versions", "must have exactly one version marked as storage version"))
    storage = [v for v in versions if v.get("storage")]
    if versions and len(storage) != 1:
        out.append(invalid("spec.versions", versions, "must have exactly one version marked as storage version"))
    seen: set[str] = set()
    for i, version in enumerate(versions):
        here = f"spec.versions[{i}]"
        vname = version.get("name", "")
        out += _each(f"{here}.name", names.is_dns1123_label(vname), vname)
        if vname in seen:
            out.append(invalid(f"{here}.name", vname, "must appear only once"))
        seen.add(vname)
        schema = (version.get("schema") or {}).get("openAPIV3Schema")
        if schema is None:
            out.append(required(f"{here}.schema.openAPIV3Schema", "schemas are required"))
        else:
            out += _structural(schema, f"{here}.schema.openAPIV3Schema", root=True)
        scale = (version.get("subresources") or {}).get("scale")
        if isinstance(scale, dict):
            for key in ("specReplicasPath", "statusReplicasPath"):
                if not scale.get(key):
                    out.append(required(f"{here}.subresources.scale.{key}"))
    if old is not None:
        old_spec = old.get("spec") or {}
        if old_spec.get("scope") != spec.get("scope"):
            out.append(invalid("spec.scope", spec.get("scope"), IMMUTABLE))
        if old_spec.get("names", {}).get("plural") != crd_names.get("plural"):
            out.append(invalid("spec.names.plural", crd_names.get("plural"), IMMUTABLE))
    return out


def _structural(schema: Any, path: str, root: bool = False) -> Causes:
    if not isinstance(schema, dict):
        return []
    out: Causes = []
    kind = schema.get("type")
    if root and kind != "object":
        out.append(invalid(f"{path}.type", kind or "", "must be object at the root"))
    preserve = schema.get("x-kubernetes-preserve-unknown-fields") or schema.get("x-kubernetes-int-or-string")
    if not kind and not preserve and not root and ("properties" in schema or "items" in schema):
        out.append(required(f"{path}.type", "must not be empty for specified object fields"))
    if kind == "array" and not isinstance(schema.get("items"), dict):
        out.append(required(f"{path}.items", "must be specified"))
    for key, sub in (schema.get("properties") or {}).items():
        out += _structural(sub, f"{path}.properties[{key}]")
    if isinstance(schema.get("items"), dict):
        out += _structural(schema["items"], f"{path}.items")
    if isinstance(schema.get("additionalProperties"), dict):
        out += _structural(schema["additionalProperties"], f"{path}.additionalProperties")
    if schema.get("properties") and isinstance(schema.get("additionalProperties"), dict):
        out.append(
            forbidden_field(f"{path}.additionalProperties", "additionalProperties and properties are mutual exclusive")
        )
    return out


def _endpoints(obj: Obj, old: Obj | None) -> Causes:
    out: Causes = []
    for i, subset in enumerate(obj.get("subsets") or []):
        for j, port in enumerate(subset.get("ports") or []):
            number = port.get("port", 0)
            out += _each(f"subsets[{i}].ports[{j}].port", names.is_port_number(number), number)
    return out


def _rbac_binding(obj: Obj, old: Obj | None) -> Causes:
    out: Causes = []
    ref = obj.get("roleRef") or {}
    kinds = ["ClusterRole", "Role"] if obj.get("kind") == "RoleBinding" else ["ClusterRole"]
    if ref.get("kind") not in kinds:
        out.append(not_supported("roleRef.kind", ref.get("kind"), kinds))
    if ref.get("apiGroup") != "rbac.authorization.k8s.io":
        out.append(not_supported("roleRef.apiGroup", ref.get("apiGroup"), ["rbac.authorization.k8s.io"]))
    if not ref.get("name"):
        out.append(required("roleRef.name"))
    if old is not None and (old.get("roleRef") or {}) != ref:
        out.append(invalid("roleRef", ref, "cannot change roleRef"))
    return out


VALIDATORS: dict[tuple[str, str], Callable[[Obj, Obj | None], Causes]] = {
    ("", "Pod"): _pod,
    ("", "Service"): _service,
    ("", "ConfigMap"): _config_map,
    ("", "Secret"): _secret,
    ("", "Namespace"): _namespace,
    ("", "Endpoints"): _endpoints,
    ("apps", "Deployment"): _deployment,
    ("apps", "ReplicaSet"): _replica_set,
    ("apps", "StatefulSet"): _stateful_set,
    ("apps", "DaemonSet"): _daemon_set,
    ("apiextensions.k8s.io", "CustomResourceDefinition"): _crd,
    ("rbac.authorization.k8s.io", "RoleBinding"): _rbac_binding,
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): _rbac_binding,
}


def validate(rt: ResourceType, obj: Obj, old: Obj | None) -> Causes:
    """All semantic causes for a built-in object (metadata first, then the kind's rules)."""
    out = validate_meta(rt, obj.get("metadata") or {}, old)
    check = VALIDATORS.get((rt.group, rt.kind))
    if check and not rt.is_custom:
        out += check(obj, old)
    return out
