#!/usr/bin/python
"""Ansible module mlmon.monitoring.prometheus_queries: wait until PromQL queries return data."""

from __future__ import annotations

DOCUMENTATION = r"""
module: prometheus_queries
short_description: Wait until each of a list of PromQL queries returns a finite value
description:
  - Asks the Prometheus HTTP API (C(/api/v1/query)) every I(interval) seconds until every query returns at least one
    sample whose value is finite (not NaN nor infinite), or I(timeout) seconds have passed.
  - Reads only; never changes anything, so it runs the same in check mode.
  - One module call instead of one task per query keeps the verify role's reruns short.
version_added: 0.1.0
options:
  url:
    description: Base URL of Prometheus, for example C(http://127.0.0.1:30300).
    type: str
    required: true
  queries:
    description: The queries; each has a C(name) to report it by and the PromQL C(expr).
    type: list
    elements: dict
    required: true
  timeout:
    description: Seconds to wait for every query to return data.
    type: int
    default: 180
  interval:
    description: Seconds between two rounds of queries.
    type: int
    default: 5
  validate_certs:
    description: Verify the TLS certificate of an https URL.
    type: bool
    default: true
author: mlmon maintainers (@mlmon)
"""

EXAMPLES = r"""
- name: Wait until the model is scraped
  mlmon.monitoring.prometheus_queries:
    url: http://127.0.0.1:30300
    queries:
      - name: model up
        expr: up{job="model"} == 1
"""

RETURN = r"""
results:
  description: One item per query, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    name: {description: The query's name., type: str}
    expr: {description: The PromQL sent., type: str}
    samples: {description: Samples with a finite value in the last answer., type: int}
    error: {description: "Prometheus's error for the query, if any.", type: str}
rounds:
  description: How many rounds of queries were sent.
  returned: always
  type: int
"""

import math
import time
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mlmon.monitoring.plugins.module_utils.prometheus_api import PrometheusError, get


def finite_samples(answer: dict[str, Any]) -> int:
    """The number of samples with a finite value in an instant-query answer."""
    data = answer.get("data", {})
    if data.get("resultType") == "scalar":
        values = [data["result"][1]]
    else:
        values = [sample["value"][1] for sample in data.get("result", [])]
    return sum(1 for value in values if math.isfinite(float(value)))


def ask(url: str, expr: str, validate_certs: bool) -> tuple[int, str]:
    """Send one instant query; return its finite sample count and Prometheus's error, if any."""
    try:
        return finite_samples(get(url, "/api/v1/query", {"query": expr}, validate_certs)), ""
    except PrometheusError as error:
        return 0, str(error)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "url": {"type": "str", "required": True},
            "queries": {"type": "list", "elements": "dict", "required": True},
            "timeout": {"type": "int", "default": 180},
            "interval": {"type": "int", "default": 5},
            "validate_certs": {"type": "bool", "default": True},
        },
        supports_check_mode=True,
    )
    url = module.params["url"].rstrip("/")
    queries = module.params["queries"]
    for query in queries:
        if not query.get("name") or not query.get("expr"):
            module.fail_json(msg=f"each query needs a name and an expr, got {query}")
    results = {q["name"]: {"name": q["name"], "expr": q["expr"], "samples": 0, "error": ""} for q in queries}
    deadline = time.monotonic() + module.params["timeout"]
    rounds = 0
    while True:
        rounds += 1
        for query in queries:
            if results[query["name"]]["samples"] == 0:
                samples, error = ask(url, query["expr"], module.params["validate_certs"])
                results[query["name"]].update(samples=samples, error=error)
        missing = [r for r in results.values() if r["samples"] == 0]
        if not missing or time.monotonic() + module.params["interval"] > deadline:
            break
        time.sleep(module.params["interval"])
    outcome = {"changed": False, "results": list(results.values()), "rounds": rounds}
    if missing:
        lines = [f"{r['name']}: {r['error'] or 'no finite value'} ({r['expr']})" for r in missing]
        module.fail_json(
            msg=f"{len(missing)} of {len(queries)} queries returned no data from {url} within "
            f"{module.params['timeout']}s: " + "; ".join(lines),
            **outcome,
        )
    module.exit_json(**outcome)


if __name__ == "__main__":
    main()
