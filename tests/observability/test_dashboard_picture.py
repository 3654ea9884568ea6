"""The picture verify draws of the dashboard has data in every plot, drawn from the real app's metrics.

Real: the app under uvicorn and /usr/bin/prometheus scraping it every second with the project's rules, after the
bounded mixed load of this package's stack; mlmon.monitoring.dashboard_png runs in a real ansible-playbook over the
last minute, with the template variables resolved as Grafana would, and must draw one plot per panel, none empty.
"""

import json
from pathlib import Path

from PIL import Image

from tests.ansible.test_dashboard_png import coloured, colours, panels_with_queries, run_module
from tests.observability import dashboard
from tests.observability.conftest import CLUSTER_LABELS, JOB, RATE_INTERVAL, Stack, requires_prometheus

pytestmark = requires_prometheus

VARIABLES = {
    "namespace": CLUSTER_LABELS["namespace"],
    "job": JOB,
    "datasource": "prometheus",
    "__rate_interval": RATE_INTERVAL,
    "__interval": RATE_INTERVAL,
}


def test_every_plot_of_the_picture_has_data(stack: Stack, tmp_path: Path) -> None:
    end = stack.at  # the load's moment, however long the session's other tests ran before this one
    result = run_module(
        tmp_path, stack.prometheus.url, [dashboard.DASHBOARD_FILE], variables=VARIABLES, start=end - 60, end=end, step=1
    )
    assert result["rc"] == 0, result.get("msg")
    [drawn] = result["dashboards"]
    expected = panels_with_queries(json.loads(dashboard.DASHBOARD_FILE.read_text()))
    assert [plot["title"] for plot in drawn["plots"]] == expected
    assert drawn["axes"] == len(expected)
    assert drawn["empty_panels"] == []
    with Image.open(drawn["path"]) as png:
        image = png.convert("RGB")
    for plot in drawn["plots"]:
        assert any(coloured(pixel) for pixel in colours(image, plot["box"])), f"{plot['title']} has no line"
