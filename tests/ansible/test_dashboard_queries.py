"""The dashboard_queries filter lists every query Grafana would run, with variables resolved.

Column: real (pure function of the filter plugin the verify role uses).
"""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from plugins.filter.dashboard_queries import dashboard_queries

DASHBOARD = {
    "title": "ML",
    "panels": [
        {
            "type": "row",
            "title": "HTTP",
            "collapsed": True,
            "panels": [
                {
                    "title": "Rate",
                    "targets": [{"refId": "A", "expr": 'sum(rate(x_total{job="$job"}[$__rate_interval]))'}],
                },
            ],
        },
        {
            "title": "Both",
            "targets": [
                {"refId": "A", "expr": 'y{namespace="${namespace}", job=~"[[job]]"}'},
                {"refId": "B", "expr": "hidden", "hide": True},
                {"refId": "C", "expr": 'z{job=~"${job:regex}"}'},
            ],
        },
        {"title": "Text", "type": "text"},
    ],
}
VARIABLES = {"job": "model", "namespace": "house-price", "__rate_interval": "1m"}


def test_collects_nested_panels_skips_hidden_targets_and_resolves_every_variable_form() -> None:
    queries = dashboard_queries(DASHBOARD, VARIABLES)
    assert [(q["panel"], q["ref_id"]) for q in queries] == [("Rate", "A"), ("Both", "A"), ("Both", "C")]
    assert queries[0]["name"] == "ML / Rate / A"
    assert queries[0]["expr"] == 'sum(rate(x_total{job="model"}[1m]))'
    assert queries[1]["expr"] == 'y{namespace="house-price", job=~"model"}'
    assert queries[2]["expr"] == 'z{job=~"model"}'


def test_a_variable_without_a_value_is_an_error_naming_panel_and_variable() -> None:
    with pytest.raises(AnsibleFilterError, match=r"panel 'Rate' target A: no value for template variable \$job"):
        dashboard_queries(DASHBOARD, {"namespace": "house-price", "__rate_interval": "1m"})


def test_a_variable_without_a_value_takes_the_value_the_dashboard_is_saved_with() -> None:
    """As Grafana opens it: the saved current value unless the caller gives one; none saved stays an error."""
    board = {
        "title": "ML",
        "templating": {
            "list": [
                {"name": "job", "current": {}},
                {"name": "feature", "current": {"selected": True, "text": "sqft", "value": "sqft"}},
            ]
        },
        "panels": [{"title": "Drift", "targets": [{"refId": "A", "expr": 'psi{job="$job", feature="$feature"}'}]}],
    }
    [saved] = dashboard_queries(board, {"job": "model"})
    assert saved["expr"] == 'psi{job="model", feature="sqft"}'
    [given] = dashboard_queries(board, {"job": "model", "feature": "location"})
    assert given["expr"] == 'psi{job="model", feature="location"}'
    with pytest.raises(AnsibleFilterError, match=r"no value for template variable \$job"):
        dashboard_queries(board, {})
