"""The crds_not_established filter the roles' CRD waits retry on.

Column: real (pure function of the filter plugin).
"""

from __future__ import annotations

from plugins.filter.crds_not_established import crds_not_established

WANTED = ["servicemonitors.monitoring.coreos.com", "prometheusrules.monitoring.coreos.com"]


def crd(name: str, **conditions: str) -> dict:
    return {
        "metadata": {"name": name},
        "status": {"conditions": [{"type": kind, "status": status} for kind, status in conditions.items()]},
    }


def test_all_established_is_empty() -> None:
    listed = [crd(name, NamesAccepted="True", Established="True") for name in WANTED]
    assert crds_not_established([*listed, crd("other.example.com", Established="False")], WANTED) == []


def test_missing_and_not_yet_established_are_named_in_the_given_order() -> None:
    listed = [crd(WANTED[1], NamesAccepted="True", Established="False")]
    assert crds_not_established(listed, WANTED) == WANTED


def test_a_crd_without_status_is_not_established() -> None:
    assert crds_not_established([{"metadata": {"name": WANTED[0]}}], WANTED[:1]) == WANTED[:1]


def test_no_list_at_all_names_everything() -> None:
    assert crds_not_established(None, WANTED) == WANTED
