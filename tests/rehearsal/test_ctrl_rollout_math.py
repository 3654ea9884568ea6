"""Column: rehearsal. The deployment controller's arithmetic, pinned to upstream's behaviour:
maxSurge/maxUnavailable resolution and rounding, how far the new ReplicaSet may grow, how a
scaling event is shared out, pod-template-hash, revisions and the status conditions that
``kubectl rollout status`` and kubernetes.core's ``wait`` read."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.rehearsal.kube.controllers import deployment_status as ds
from tests.rehearsal.kube.controllers.podtemplate import (
    HASH_LABEL,
    SAFE_ALPHABET,
    equal_ignore_hash,
    template_hash,
)
from tests.rehearsal.kube.controllers.revisions import (
    REVISION,
    REVISION_HISTORY,
    set_new_rs_annotations,
)
from tests.rehearsal.kube.controllers.rollout import (
    MAX_REPLICAS,
    max_surge,
    max_unavailable,
    new_rs_new_replicas,
    proportional_sizes,
    resolve_fenceposts,
    scaled_value,
)

Obj = dict[str, Any]


def deployment(replicas: int, surge: Any = "25%", unavailable: Any = "25%", **spec: Any) -> Obj:
    return {
        "metadata": {"name": "web", "namespace": "default", "generation": 1, "uid": "d"},
        "spec": {
            "replicas": replicas,
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable},
            },
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": []}},
            **spec,
        },
    }


def replica_set(name: str, size: int, created: str = "2024-01-01T00:00:00Z", **status: int) -> Obj:
    return {
        "metadata": {"name": name, "creationTimestamp": created, "annotations": {}},
        "spec": {"replicas": size},
        "status": status,
    }


@pytest.mark.parametrize(
    ("value", "total", "round_up", "expected"),
    [(3, 10, True, 3), ("25%", 10, True, 3), ("25%", 10, False, 2), ("25%", 1, True, 1),
     ("25%", 1, False, 0), ("100%", 5, False, 5), ("0%", 7, True, 0)],
)
def test_int_or_percent_is_scaled_with_the_requested_rounding(
    value: Any, total: int, round_up: bool, expected: int
) -> None:
    assert scaled_value(value, total, round_up) == expected


def test_a_non_percent_string_is_refused() -> None:
    with pytest.raises(ValueError, match="string is not a percentage"):
        scaled_value("5", 10, True)


@pytest.mark.parametrize(
    ("surge", "unavailable", "desired", "expected"),
    [("0%", "1%", 2, (0, 1)), ("1%", "25%", 2, (1, 0)), ("1%", "0%", 1, (1, 0)), (0, 0, 3, (0, 1)),
     (1, 0, 4, (1, 0)), ("25%", "25%", 10, (3, 2))],
)
def test_fenceposts_never_resolve_to_zero_and_zero(
    surge: Any, unavailable: Any, desired: int, expected: tuple[int, int]
) -> None:
    assert resolve_fenceposts(surge, unavailable, desired) == expected


@pytest.mark.parametrize(
    ("replicas", "unavailable", "expected"),
    [(10, 5, 5), (10, 10, 10), (5, 10, 5), (0, 10, 0), (10, "50%", 5), (5, "100%", 5)],
)
def test_max_unavailable_is_capped_at_replicas(replicas: int, unavailable: Any, expected: int) -> None:
    assert max_unavailable(deployment(replicas, 1, unavailable)) == expected


def test_recreate_has_no_surge_and_no_unavailability_budget() -> None:
    d = deployment(3)
    d["spec"]["strategy"] = {"type": "Recreate"}
    assert (max_surge(d), max_unavailable(d)) == (0, 0)
    assert new_rs_new_replicas(d, [], replica_set("new", 0)) == 3


def test_new_replica_set_grows_within_the_surge() -> None:
    d = deployment(3, surge=1, unavailable=0)
    old, new = replica_set("old", 3), replica_set("new", 0)
    assert new_rs_new_replicas(d, [old, new], new) == 1
    new["spec"]["replicas"] = 1
    assert new_rs_new_replicas(d, [old, new], new) == 1
    old["spec"]["replicas"] = 2
    assert new_rs_new_replicas(d, [old, new], new) == 2


def test_new_replica_set_never_exceeds_the_desired_count() -> None:
    d = deployment(2, surge="100%", unavailable=0)
    new = replica_set("new", 1)
    assert new_rs_new_replicas(d, [new], new) == 2


def test_scaling_mid_rollout_is_shared_in_proportion() -> None:
    """10 → 15 replicas with maxSurge 3 while two ReplicaSets of 8 and 5 run (annotated for a
    Deployment of 10+3): the 5 new pods of headroom split 3/2, larger ReplicaSet first."""
    d = deployment(15, surge=3, unavailable=0)
    old = replica_set("old", 8, "2024-01-01T00:00:00Z")
    new = replica_set("new", 5, "2024-01-02T00:00:00Z")
    for rs in (old, new):
        rs["metadata"]["annotations"][MAX_REPLICAS] = "13"
    ordered, sizes, direction = proportional_sizes(d, [new, old])
    assert direction == "up"
    assert [rs["metadata"]["name"] for rs in ordered] == ["old", "new"]
    assert sizes == {"old": 11, "new": 7}
    assert sum(sizes.values()) == 15 + 3


def test_scaling_down_mid_rollout_takes_from_the_older_first_when_equal() -> None:
    d = deployment(2, surge=0, unavailable=1)
    old = replica_set("old", 2, "2024-01-01T00:00:00Z")
    new = replica_set("new", 2, "2024-01-02T00:00:00Z")
    for rs in (old, new):
        rs["metadata"]["annotations"][MAX_REPLICAS] = "4"
    ordered, sizes, direction = proportional_sizes(d, [new, old])
    assert direction == "down"
    assert ordered[0]["metadata"]["name"] == "old"
    assert sizes == {"old": 1, "new": 1}


def template(image: str, **labels: str) -> Obj:
    return {
        "metadata": {"labels": {"app": "web", **labels}},
        "spec": {"containers": [{"name": "web", "image": image}], "restartPolicy": "Always"},
    }


def test_pod_template_hash_is_stable_and_follows_the_template() -> None:
    a = template("app:1")
    shuffled = {"spec": copy.deepcopy(a["spec"]), "metadata": copy.deepcopy(a["metadata"])}
    assert template_hash(a) == template_hash(shuffled)
    assert template_hash(a) != template_hash(template("app:2"))
    assert template_hash(a) == template_hash(template("app:1", **{HASH_LABEL: "xyz"}))
    assert template_hash(a, 1) != template_hash(a)
    assert set(template_hash(a)) <= set(SAFE_ALPHABET)


def test_restarted_at_annotation_is_a_template_change() -> None:
    restarted = template("app:1")
    restarted["metadata"]["annotations"] = {"kubectl.kubernetes.io/restartedAt": "2024-01-01T00:00:00Z"}
    assert not equal_ignore_hash(restarted, template("app:1"))
    assert template_hash(restarted) != template_hash(template("app:1"))


def test_template_equality_ignores_the_hash_label_and_empty_values() -> None:
    a = template("app:1", **{HASH_LABEL: "abc"})
    b = template("app:1")
    b["metadata"]["annotations"] = {}
    assert equal_ignore_hash(a, b)


def test_a_brought_back_replica_set_keeps_its_former_revisions() -> None:
    d = deployment(1)
    d["metadata"]["annotations"] = {"team": "ml", REVISION: "3"}
    rs = replica_set("web-1", 1)
    rs["metadata"]["annotations"] = {REVISION: "1"}
    assert set_new_rs_annotations(d, rs, 4, True, 1, 2)
    notes = rs["metadata"]["annotations"]
    assert (notes[REVISION], notes[REVISION_HISTORY], notes["team"]) == ("4", "1", "ml")
    assert set_new_rs_annotations(d, rs, 6, True, 1, 2)
    assert notes[REVISION_HISTORY] == "1,4"
    assert not set_new_rs_annotations(d, rs, 5, True, 1, 2)


def test_a_new_replica_set_records_the_deployment_size() -> None:
    rs = replica_set("web-1", 1)
    set_new_rs_annotations(deployment(4), rs, 1, False, 4, 5)
    notes = rs["metadata"]["annotations"]
    assert (notes["deployment.kubernetes.io/desired-replicas"], notes[MAX_REPLICAS]) == ("4", "5")


def rolled(replicas: int) -> Obj:
    d = deployment(replicas, progressDeadlineSeconds=10)
    d["status"] = {}
    return d


def test_available_condition_follows_min_availability() -> None:
    d = rolled(4)
    status = ds.calculate_status([replica_set("a", 4, availableReplicas=3, replicas=4)], None, d, 0)
    available = ds.get_condition(status, "Available")
    assert available is not None
    assert (available["status"], available["reason"]) == ("True", "MinimumReplicasAvailable")
    assert available["message"] == "Deployment has minimum availability."
    status = ds.calculate_status([replica_set("a", 4, availableReplicas=2, replicas=4)], None, d, 0)
    available = ds.get_condition(status, "Available")
    assert available is not None
    assert (available["status"], available["reason"]) == ("False", "MinimumReplicasUnavailable")
    assert ds.wire(status)["unavailableReplicas"] == 2


def test_zero_counters_are_omitted_as_go_omits_them() -> None:
    d = rolled(0)
    status = ds.wire(ds.calculate_status([], None, d, 0))
    assert "unavailableReplicas" not in status
    assert "replicas" not in status
    assert status["observedGeneration"] == 1


def test_progressing_moves_only_last_update_time_while_progress_continues() -> None:
    d = rolled(2)
    new = replica_set("web-new", 2, replicas=1)
    d["status"] = ds.wire(ds.rollout_status([new], new, d, 1000.0))
    first = ds.get_condition(d["status"], "Progressing")
    assert first is not None
    assert first["reason"] == ds.UPDATED_REASON
    assert first["message"] == 'ReplicaSet "web-new" is progressing.'
    new["status"] = {"replicas": 2, "readyReplicas": 1}
    later = ds.get_condition(ds.rollout_status([new], new, d, 1005.0), "Progressing")
    assert later is not None
    assert later["lastTransitionTime"] == first["lastTransitionTime"]
    assert later["lastUpdateTime"] != first["lastUpdateTime"]


def test_complete_rollout_says_new_replica_set_available() -> None:
    d = rolled(2)
    new = replica_set("web-new", 2, replicas=2, readyReplicas=2, availableReplicas=2)
    status = ds.rollout_status([new], new, d, 1000.0)
    cond = ds.get_condition(status, "Progressing")
    assert cond is not None
    assert (cond["status"], cond["reason"]) == ("True", "NewReplicaSetAvailable")
    assert cond["message"] == 'ReplicaSet "web-new" has successfully progressed.'
    assert ds.stuck_requeue_after(d, status, 1000.0) is None


def test_no_progress_for_the_deadline_is_progress_deadline_exceeded() -> None:
    d = rolled(1)
    new = replica_set("web-new", 1, replicas=1)
    d["status"] = ds.wire(ds.rollout_status([new], new, d, 1000.0))
    assert ds.stuck_requeue_after(d, d["status"], 1000.0) == pytest.approx(11.0)
    not_yet = ds.rollout_status([new], new, d, 1009.0)
    cond = ds.get_condition(not_yet, "Progressing")
    assert cond is not None and cond["reason"] == ds.UPDATED_REASON
    timed_out = ds.rollout_status([new], new, d, 1011.0)
    cond = ds.get_condition(timed_out, "Progressing")
    assert cond is not None
    assert (cond["status"], cond["reason"]) == ("False", "ProgressDeadlineExceeded")
    assert cond["message"] == 'ReplicaSet "web-new" has timed out progressing.'


def test_pausing_and_resuming_set_unknown_progressing() -> None:
    d = rolled(1)
    d["status"] = {"conditions": [ds.new_condition("Progressing", "True", ds.UPDATED_REASON, "", 0)]}
    d["spec"]["paused"] = True
    paused = ds.paused_condition(d, 10.0)
    assert paused is not None
    cond = ds.get_condition(paused, "Progressing")
    assert cond is not None
    assert (cond["status"], cond["reason"], cond["message"]) == (
        "Unknown", "DeploymentPaused", "Deployment is paused"
    )
    d["status"], d["spec"]["paused"] = paused, False
    resumed = ds.paused_condition(d, 20.0)
    assert resumed is not None
    cond = ds.get_condition(resumed, "Progressing")
    assert cond is not None and cond["reason"] == "DeploymentResumed"
