#!/usr/bin/python
"""Ansible module mlmon.monitoring.canary_analysis: judge a canary against the stable from Prometheus's series."""

from __future__ import annotations

DOCUMENTATION = r"""
module: canary_analysis
short_description: Decide from Prometheus whether a canary is promoted or aborted
description:
  - Every O(interval) seconds, asks the Prometheus HTTP API (C(/api/v1/query), instant queries over the last
    O(window) seconds) about the canary's series (C(track="canary")) and the stable's (C(track!="canary")) of
    O(namespace)/O(job), and judges five checks. C(5xx ratio) and C(5xx ratio vs stable) (at most the stable's
    plus O(max_error_ratio_increase)); C(p95 latency) of C(/predict) and C(/batch-predict), and C(p95 latency vs
    stable) (at most O(max_p95_factor) times the stable's plus O(p95_margin_seconds)); C(prediction PSI vs stable),
    the population stability index between the two sides' predictions over the bins of
    C(house_price_drift_observations_total{feature="prediction"}) since the analysis began, skipped with a note
    where those series do not exist.
  - A check counts only when the canary served at least O(min_requests) requests in the window (the relative
    checks ask the same of the stable); otherwise it is inconclusive, neither a pass nor a fail.
  - Any failing check ends the analysis with the verdict C(abort) at once; O(passes) analyses in a row with
    every check passed (or skipped) end it with C(promote); no verdict within O(timeout) seconds is an C(abort)
    whose check is C(no verdict). The module itself does not fail on an abort; it fails when Prometheus does not
    answer.
  - Reads only. In check mode it does not run (an analysis takes minutes of live traffic) and returns no verdict.
version_added: 0.1.0
options:
  url:
    description: Base URL of Prometheus, for example C(http://127.0.0.1:30300).
    type: str
    required: true
  namespace:
    description: The C(namespace) label of the model's series.
    type: str
    required: true
  job:
    description: The C(job) label of the model's series (the Service's name, for a ServiceMonitor).
    type: str
    required: true
  interval:
    description: Seconds between two analyses; the first comes one interval after the start.
    type: int
    default: 30
  window:
    description: Seconds of series each analysis reads; at least two scrape intervals.
    type: int
    default: 60
  passes:
    description: Analyses in a row that must pass to promote.
    type: int
    default: 3
  timeout:
    description: Seconds after which an analysis without a verdict aborts.
    type: int
    default: 600
  min_requests:
    description:
      - Requests the canary (and, for the relative checks, the stable) must serve in the window for a check to count.
    type: int
    default: 50
  max_error_ratio:
    description: Highest share of 5xx answers of the canary.
    type: float
    default: 0.01
  max_error_ratio_increase:
    description: How much the canary's share of 5xx answers may exceed the stable's.
    type: float
    default: 0.005
  max_p95_seconds:
    description: Highest p95 latency of the canary's predictions, in seconds.
    type: float
    default: 0.5
  max_p95_factor:
    description: How many times the stable's p95 latency the canary's may be (plus O(p95_margin_seconds)).
    type: float
    default: 1.5
  p95_margin_seconds:
    description: Seconds added to the relative p95 bound, for the histogram's resolution at small latencies.
    type: float
    default: 0.01
  prediction_drift:
    description: Compare the canary's prediction distribution with the stable's (PSI), where the drift series exist.
    type: bool
    default: true
  max_prediction_psi:
    description: Highest PSI between the canary's and the stable's predictions.
    type: float
    default: 0.2
  drift_min_observations:
    description: Predictions each side must have made since the analysis began for the PSI to count.
    type: int
    default: 250
  validate_certs:
    description: Verify the TLS certificate of an https URL.
    type: bool
    default: true
author: mlmon maintainers (@mlmon)
"""

EXAMPLES = r"""
- name: Analyse the canary
  mlmon.monitoring.canary_analysis:
    url: http://127.0.0.1:30300
    namespace: house-price
    job: model
  register: analysis

- name: Fail on an abort, naming the check
  ansible.builtin.fail:
    msg: "{{ analysis.msg }}"
  when: analysis.verdict == 'abort'
"""

RETURN = r"""
verdict:
  description: C(promote) or C(abort); empty in check mode.
  returned: always
  type: str
msg:
  description: The verdict in a sentence; for an abort the check, its observed value and its threshold.
  returned: always
  type: str
failed_check:
  description: For an abort, the check that decided it (C(no verdict) when time ran out), else null.
  returned: always
  type: dict
  contains:
    name: {description: The check's name., type: str}
    observed: {description: The canary's value., type: float}
    threshold: {description: The bound it was held to., type: float}
    note: {description: What the numbers are., type: str}
report:
  description: One line per analysis (its outcome, the requests of both sides, every check), then the verdict.
  returned: always
  type: list
  elements: str
analyses:
  description: Every analysis, in order.
  returned: always
  type: list
  elements: dict
  contains:
    number: {description: 1 for the first analysis., type: int}
    elapsed: {description: Seconds since the start., type: float}
    outcome: {description: "C(pass), C(fail) or C(inconclusive).", type: str}
    canary_requests: {description: Requests the canary served in the window., type: float}
    stable_requests: {description: Requests the stable served in the window., type: float}
    checks:
      description: Each check's name, outcome (C(pass), C(fail), C(inconclusive), C(skipped)), observed value, threshold
        and note.
      type: list
      elements: dict
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mlmon.monitoring.plugins.module_utils.canary_analysis import Settings, run
from ansible_collections.mlmon.monitoring.plugins.module_utils.prometheus_api import PrometheusError, get

POSITIVE = ("interval", "window", "passes", "timeout")
NOT_NEGATIVE = (
    "min_requests",
    "max_error_ratio",
    "max_error_ratio_increase",
    "max_p95_seconds",
    "max_p95_factor",
    "p95_margin_seconds",
    "max_prediction_psi",
    "drift_min_observations",
)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "url": {"type": "str", "required": True},
            "namespace": {"type": "str", "required": True},
            "job": {"type": "str", "required": True},
            "interval": {"type": "int", "default": 30},
            "window": {"type": "int", "default": 60},
            # Not a secret: how many analyses in a row must pass.
            "passes": {"type": "int", "default": 3, "no_log": False},
            "timeout": {"type": "int", "default": 600},
            "min_requests": {"type": "int", "default": 50},
            "max_error_ratio": {"type": "float", "default": 0.01},
            "max_error_ratio_increase": {"type": "float", "default": 0.005},
            "max_p95_seconds": {"type": "float", "default": 0.5},
            "max_p95_factor": {"type": "float", "default": 1.5},
            "p95_margin_seconds": {"type": "float", "default": 0.01},
            "prediction_drift": {"type": "bool", "default": True},
            "max_prediction_psi": {"type": "float", "default": 0.2},
            "drift_min_observations": {"type": "int", "default": 250},
            "validate_certs": {"type": "bool", "default": True},
        },
        supports_check_mode=True,
    )
    params = module.params
    wrong = [f"{name} must be at least 1 (is {params[name]})" for name in POSITIVE if params[name] < 1]
    wrong += [f"{name} must not be negative (is {params[name]})" for name in NOT_NEGATIVE if params[name] < 0]
    if wrong:
        module.fail_json(msg="; ".join(wrong))
    if module.check_mode:
        module.exit_json(
            changed=False,
            verdict="",
            msg="Check mode: the canary analysis does not run.",
            failed_check=None,
            analyses=[],
            report=[],
        )
    url = params["url"].rstrip("/")

    def query(expr: str) -> list[dict[str, Any]]:
        data = get(url, "/api/v1/query", {"query": expr}, params["validate_certs"]).get("data", {})
        return list(data.get("result", []))

    settings = Settings(
        namespace=params["namespace"],
        job=params["job"],
        window=params["window"],
        **{name: params[name] for name in NOT_NEGATIVE},
        prediction_drift=params["prediction_drift"],
    )
    try:
        verdict = run(query, settings, params["interval"], params["passes"], params["timeout"])
    except PrometheusError as error:
        module.fail_json(msg=f"Prometheus at {url} did not answer the canary analysis: {error}")
    module.exit_json(changed=False, **verdict.as_dict())


if __name__ == "__main__":
    main()
