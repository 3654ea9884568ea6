"""Two clusters in one inventory are provisioned independently by one site.yml run.

Column: rehearsal (one rehearsal server process serves both clusters, rehearsal-N and rehearsal-N+1, each
with its own API, node address, pods, real uvicorn and real Prometheus processes).
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.chain import HOUSE, Chain, rehearsal_chain

pytestmark = pytest.mark.timeout(1500)


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    with rehearsal_chain(tmp_path_factory.mktemp("two"), count=2) as started:
        yield started


def test_one_run_provisions_both_clusters_and_a_rerun_changes_nothing(two: Chain) -> None:
    first = two.play()
    assert first.returncode == 0, first.tail(60)
    assert set(first.recap) == set(two.hosts)
    assert all(host["changed"] > 0 and host["failed"] == 0 for host in first.recap.values()), first.recap
    for host in two.hosts:
        answer = httpx.post(two.model_url(host) + "/predict", json=HOUSE, timeout=10)
        assert answer.status_code == 200
    rerun = two.play()
    assert rerun.returncode == 0, rerun.tail(60)
    assert rerun.changed == 0


def test_a_failure_on_one_cluster_leaves_the_other_untouched(two: Chain) -> None:
    """A bad image tag for one host fails that host only; the other is converged and unchanged."""
    bad, good = two.hosts
    run = two.play("site.yml", "--tags", "model_deployment", "-e", "@" + str(bad_vars(two, bad)))
    assert run.returncode != 0
    assert run.recap[bad]["failed"] == 1
    assert run.recap[good]["failed"] == 0 and run.recap[good]["changed"] == 0
    for host in two.hosts:
        answer = httpx.post(two.model_url(host) + "/predict", json=HOUSE, timeout=10)
        assert answer.json()["model_version"] == "1.0.0"


def bad_vars(two: Chain, host: str):
    """Extra vars that give one host an image tag no node can pull (per-host, through a condition)."""
    path = two.state / "bad-tag.yml"
    path.write_text(
        "mlmon_model_image_tag: \"{{ '9.9.9' if inventory_hostname == '" + host + "' else '1.0.0' }}\"\n"
        "model_deployment_progress_deadline_seconds: \"{{ 15 if inventory_hostname == '" + host + "' else 120 }}\"\n"
    )
    return path
