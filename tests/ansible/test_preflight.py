"""Wrong inventory values fail in preflight, naming the variable, before anything touches a cluster.

Column: real (the real ansible-playbook runs site.yml); no cluster is reachable or needed: the kubeconfig points
at a file that does not exist, so any task that got past preflight would fail differently.
"""

from __future__ import annotations

import pytest
import yaml

from tests.playbook_runner import REPO, run_playbook

NO_CLUSTER = {"MLMON_GRAFANA_ADMIN_PASSWORD": "preflight-pw-1"}
# inventory/local's settings for a cluster that exists already (no kind_cluster play), its kubeconfig pointed at
# nothing.
INVENTORY = "tests/ansible/data/existing-cluster/hosts.yml"
NOWHERE = {"mlmon_kubeconfig": "/nonexistent/mlmon-no-cluster/kubeconfig"}


def _run(tags: str, extra_vars: dict | None = None, env: dict | None = None):
    return run_playbook(
        "site.yml",
        "--tags",
        tags,
        inventory=INVENTORY,
        extra_vars={**NOWHERE, **(extra_vars or {})},
        env={**NO_CLUSTER, **(env or {})},
    )


def test_missing_grafana_password_names_the_variable_and_the_environment_variable() -> None:
    run = _run("prometheus_stack", env={"MLMON_GRAFANA_ADMIN_PASSWORD": ""})
    assert run.returncode != 0
    assert "prometheus_stack_grafana_admin_password" in run.output
    assert "MLMON_GRAFANA_ADMIN_PASSWORD" in run.output
    assert "Create the monitoring namespace" not in run.output, "preflight must stop the play before any cluster call"


@pytest.mark.parametrize(
    ("tags", "extra_vars", "named"),
    [
        ("model_deployment", {"mlmon_model_node_port": "not-a-port"}, "model_deployment_node_port"),
        ("model_deployment", {"mlmon_model_node_port": 8080}, "model_deployment_node_port"),
        ("model_deployment", {"mlmon_model_image_tag": "latest"}, "model_deployment_image_tag"),
        ("model_deployment", {"model_deployment_replicas": "two"}, "model_deployment_replicas"),
        (
            "model_deployment",
            {"model_deployment_cors_origins": ["*"], "model_deployment_cors_allow_credentials": True},
            "model_deployment_cors_origins",
        ),
        ("model_deployment", {"model_deployment_strategy": "blue-green"}, "model_deployment_strategy"),
        ("model_deployment", {"model_deployment_canary_max_error_ratio": 2}, "model_deployment_canary_max_error_ratio"),
        ("model_deployment", {"model_deployment_canary_window": 10}, "model_deployment_canary_window"),
        ("model_deployment", {"model_deployment_canary_passes": "many"}, "model_deployment_canary_passes"),
        ("service_monitor", {"service_monitor_port": "8000"}, "service_monitor_port"),
        ("service_monitor", {"service_monitor_interval": "often"}, "service_monitor_interval"),
        ("service_monitor", {"service_monitor_drift_window": "1 hour"}, "service_monitor_drift_window"),
        ("service_monitor", {"service_monitor_prediction_shift_for": "0m"}, "service_monitor_prediction_shift_for"),
        ("service_monitor", {"service_monitor_drift_psi_threshold": 0}, "service_monitor_drift_psi_threshold"),
        ("service_monitor", {"service_monitor_drift_min_observations": 0}, "service_monitor_drift_min_observations"),
        ("prometheus_stack", {"prometheus_stack_retention": "ten days"}, "prometheus_stack_retention"),
        ("prometheus_stack", {"mlmon_grafana_node_port": 30300}, "prometheus_stack_grafana_node_port"),
        ("verify", {"verify_warmup_batch_size": 0}, "verify_warmup_batch_size"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_bad_value_fails_in_preflight_naming_the_variable(tags: str, extra_vars: dict, named: str) -> None:
    run = _run(tags, extra_vars)
    assert run.returncode != 0, run.tail()
    assert named in run.output, run.tail()
    assert run.changed == 0


def test_password_is_not_printed_when_preflight_fails_verbosely() -> None:
    """A -vvv run that fails in preflight never echoes the password it was given."""
    secret = "preflight-secret-0f9c3b"
    run = run_playbook(
        "site.yml",
        "--tags",
        "prometheus_stack",
        "-vvv",
        inventory=INVENTORY,
        extra_vars={**NOWHERE, "prometheus_stack_retention": "bad"},
        env={**NO_CLUSTER, "MLMON_GRAFANA_ADMIN_PASSWORD": secret},
    )
    assert run.returncode != 0
    assert secret not in run.output


@pytest.mark.parametrize(
    ("tags", "key_value", "named"),
    [
        ("model_deployment", "model_deployment_replicas=0", "model_deployment_replicas"),
        ("model_deployment", "model_deployment_progress_deadline_seconds=900", "model_deployment_rollout_timeout"),
        ("prometheus_stack", "mlmon_grafana_node_port=30300", "prometheus_stack_grafana_node_port"),
    ],
)
def test_values_given_as_key_value_strings_are_checked_as_numbers(tags: str, key_value: str, named: str) -> None:
    """`-e name=value` hands the roles strings; preflight still compares them as numbers and names the variable."""
    run = run_playbook("site.yml", "--tags", tags, "-e", key_value, inventory=INVENTORY, extra_vars=NOWHERE,
                       env=NO_CLUSTER)
    assert run.returncode != 0, run.tail()
    assert named in run.output, run.tail()
    assert "Error rendering expression" not in run.output, run.tail()


@pytest.mark.parametrize(
    ("tags", "host_vars", "named"),
    [
        # Once mapped from mlmon_* by the playbooks, which made an inventory value of these silently ignored.
        ("model_deployment", {"model_deployment_node_port": 8080}, "model_deployment_node_port"),
        ("model_deployment", {"model_deployment_image_tag": "latest"}, "model_deployment_image_tag"),
        ("prometheus_stack", {"prometheus_stack_grafana_node_port": 30300}, "prometheus_stack_grafana_node_port"),
        ("verify", {"verify_model_url": "127.0.0.1:30100"}, "verify_model_url"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_a_role_variable_in_host_vars_wins_over_the_shared_setting(tmp_path, tags, host_vars, named) -> None:
    """A role variable set in host_vars reaches its role (preflight refuses it by name) over mlmon_*.

    Real: ansible-playbook with a copy of the existing-cluster inventory plus a host_vars file.
    """
    inventory = tmp_path / "inventory"
    inventory.mkdir()
    source = REPO / "tests/ansible/data/existing-cluster"
    (inventory / "hosts.yml").write_text((source / "hosts.yml").read_text())
    (inventory / "group_vars").symlink_to((source / "group_vars").resolve())
    (inventory / "host_vars").mkdir()
    (inventory / "host_vars" / "existing.yml").write_text(yaml.safe_dump(host_vars))
    run = run_playbook(
        "site.yml", "--tags", tags, inventory=str(inventory), extra_vars=NOWHERE, env=NO_CLUSTER
    )
    assert run.returncode != 0, run.tail()
    assert named in run.output, run.tail()
    assert run.changed == 0


EMAIL = {
    "prometheus_stack_alert_email_to": ["oncall@example.com"],
    "prometheus_stack_alert_email_from": "alertmanager@example.com",
    "prometheus_stack_alert_email_smarthost": "smtp.example.com:587",
}


@pytest.mark.parametrize(
    ("extra_vars", "named", "why"),
    [
        ({"prometheus_stack_alert_webhook_url": "hooks.example.com/x"}, "prometheus_stack_alert_webhook_url", "http"),
        ({"prometheus_stack_alert_slack_webhook_url": "ftp://x"}, "prometheus_stack_alert_slack_webhook_url", "http"),
        ({"prometheus_stack_alert_email_to": ["oncall@example.com"]}, "prometheus_stack_alert_email_smarthost",
         "must be set too"),
        ({**EMAIL, "prometheus_stack_alert_email_smarthost": "smtp.example.com"},
         "prometheus_stack_alert_email_smarthost", "host:port"),
        ({**EMAIL, "prometheus_stack_alert_email_to": ["oncall"]}, "prometheus_stack_alert_email_to", "addresses"),
        ({"prometheus_stack_alert_email_smarthost": "smtp.example.com:587"}, "prometheus_stack_alert_email_to",
         "is empty"),
        ({**EMAIL, "prometheus_stack_alert_email_username": "mlmon"}, "prometheus_stack_alert_email_password",
         "MLMON_ALERT_EMAIL_PASSWORD"),
        ({"prometheus_stack_alert_severity_receivers": {"page": ["webhook"]}},
         "prometheus_stack_alert_severity_receivers", "the alerts carry critical and warning"),
        ({"prometheus_stack_alert_severity_receivers": {"critical": ["slack"]}},
         "prometheus_stack_alert_severity_receivers.critical", "prometheus_stack_alert_slack_webhook_url"),
        ({"prometheus_stack_alert_severity_receivers": {"warning": ["pagerduty"]}},
         "prometheus_stack_alert_severity_receivers.warning", "the receivers are webhook, slack, email"),
        ({"prometheus_stack_alert_group_interval": "0s"}, "prometheus_stack_alert_group_interval",
         "(0s) is not a duration"),
        ({"prometheus_stack_extra_values": {"alertmanager": {"enabled": False}}},
         "prometheus_stack_extra_values.alertmanager.enabled", "reach nobody"),
    ],
    ids=[
        "webhook-url-without-scheme", "slack-url-not-http", "email-to-without-smarthost", "smarthost-without-port",
        "email-to-not-an-address", "smarthost-without-to", "username-without-password", "unknown-severity",
        "severity-to-unset-receiver", "unknown-receiver", "zero-group-interval", "alertmanager-off",
    ],
)
def test_bad_alert_receiver_setting_fails_in_preflight_naming_the_key(extra_vars: dict, named: str, why: str) -> None:
    run = _run("prometheus_stack", extra_vars)
    flat = " ".join(run.output.split())
    assert run.returncode != 0, run.tail()
    assert named in flat and why in flat, run.tail()
    assert run.changed == 0


def test_alert_receivers_that_are_set_pass_preflight() -> None:
    """Every receiver set, severities split between them: preflight passes."""
    run = _run("prometheus_stack_preflight", {
        **EMAIL,
        "prometheus_stack_alert_webhook_url": "https://hooks.example.com/mlmon?token=x",
        "prometheus_stack_alert_slack_webhook_url": "https://hooks.slack.com/services/T0/B0/x",
        "prometheus_stack_alert_email_username": "mlmon",
        "prometheus_stack_alert_email_password": "smtp-pw",
        "prometheus_stack_alert_severity_receivers": {"critical": ["slack", "webhook"], "warning": ["email"]},
    })
    assert run.returncode == 0, run.tail()


def test_receiver_secrets_are_not_printed_when_preflight_fails_verbosely() -> None:
    """A -vvv run that refuses the webhook URL shows neither it nor the other receivers' secrets."""
    secrets = {
        "prometheus_stack_alert_webhook_url": "ftp://hooks.example.com/?token=webhook-secret-41c2",
        "prometheus_stack_alert_slack_webhook_url": "https://hooks.slack.com/services/T0/B0/slack-secret-9a7e",
    }
    run = run_playbook("site.yml", "--tags", "prometheus_stack", "-vvv", inventory=INVENTORY,
                       extra_vars={**NOWHERE, **secrets},
                       env={**NO_CLUSTER, "MLMON_ALERT_EMAIL_PASSWORD": "smtp-secret-3b8d"})
    assert run.returncode != 0
    assert "prometheus_stack_alert_webhook_url" in run.output
    for secret in ("webhook-secret-41c2", "slack-secret-9a7e", "smtp-secret-3b8d"):
        assert secret not in run.output


def test_only_the_wrong_canary_settings_are_named() -> None:
    """Of the canary settings, preflight names the wrong ones, each with its value and what it must be."""
    run = _run("model_deployment", {"model_deployment_canary_max_p95_factor": 0.5,
                                    "model_deployment_canary_timeout": 60})
    flat = " ".join(run.output.split())
    assert run.returncode != 0, run.tail()
    assert "model_deployment_canary_max_p95_factor (0.5) must be at least 1" in flat, run.tail()
    assert "model_deployment_canary_timeout (60) must be at least interval x passes (90)" in flat, run.tail()
    assert "model_deployment_canary_max_error_ratio (" not in flat
    assert run.changed == 0
