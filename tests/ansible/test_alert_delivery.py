"""Alerts reach a person: the Alertmanager configuration the prometheus_stack role gives the chart, run for real.

Column: real. ansible-playbook renders the role's ``alertmanager.config`` and its receivers' Secret
(tests/ansible/playbooks/render_alertmanager.yml), each key of the Secret written as a file in a temporary
directory that stands where the operator mounts the Secret in the pod (/etc/alertmanager/secrets/<name>/). The
real Alertmanager v0.31.1, built from its Go module by ``make images`` (the one the kind cluster runs here), loads
that configuration; the test runs the receivers: an HTTP server for the webhook and for Slack's incoming webhook,
and an SMTP server. The alerts posted carry the labels and annotations of files/alerts/rules.yml.

Not proven here: that the operator mounts the Secret where the configuration reads it (on kind), and that
Prometheus fires these alerts (tests/observability/test_alert_rules.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.ansible.alert_receivers import HttpInbox, HttpPost, SmtpInbox, http_inbox, smtp_inbox
from tests.app.appserver import HOST, free_port, wait_until
from tests.playbook_runner import REPO, run_playbook
from tests.processes import terminate

CACHE = Path(os.environ.get("MLMON_CACHE") or Path.home() / ".cache/mlmon")
ALERTMANAGER = CACHE / "go-bin" / "alertmanager"
VERSION = next(
    line.split("=", 1)[1]
    for line in (REPO / "images/versions.env").read_text().splitlines()
    if line.startswith("ALERTMANAGER_VERSION=")
)
RULES = {
    rule["alert"]: rule
    for group in yaml.safe_load((REPO / "files/alerts/rules.yml").read_text())["groups"]
    for rule in group["rules"]
    if "alert" in rule
}
SECRET_NAME = "mlmon-alertmanager-receivers"
# Secrets the inventory would give: the webhook URL carries a token, as many do.
TOKEN = "webhook-token-5d1e9a"
SLACK_KEY = "slack-key-77b0c4"
SMTP_USER, SMTP_PASSWORD = "mlmon", "smtp-password-8c2f31"
RECIPIENT, SENDER = "oncall@example.com", "alertmanager@example.com"


WEBHOOK_PATH = f"/hooks/mlmon?token={TOKEN}"
SLACK_PATH = f"/services/T0000/B0000/{SLACK_KEY}"


@dataclass(frozen=True)
class Rendered:
    """What the role would give the chart and the Secret, rendered for these receivers."""

    values: dict[str, Any]
    config_file: Path
    secrets_dir: Path
    webhook_url: str
    slack_url: str


@pytest.fixture(scope="module")
def receivers() -> Iterator[HttpInbox]:
    with http_inbox() as inbox:
        yield inbox


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpInbox]:
    with smtp_inbox() as inbox:
        yield inbox


def render(out: Path, extra_vars: dict[str, Any]) -> None:
    """Run render_alertmanager.yml with the role's defaults and ``extra_vars`` into ``out``."""
    run = run_playbook(
        "tests/ansible/playbooks/render_alertmanager.yml",
        inventory="localhost,",
        extra_vars={"out": str(out), **extra_vars},
    )
    assert run.returncode == 0, run.tail()


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory, receivers: HttpInbox, smtp: SmtpInbox) -> Rendered:
    """Critical alerts page through the webhook and e-mail, warnings make a ticket in Slack; 1 s groups."""
    out = tmp_path_factory.mktemp("alertmanager")
    webhook_url, slack_url = receivers.url + WEBHOOK_PATH, receivers.url + SLACK_PATH
    render(out, {
        "_prometheus_stack_alert_secrets_dir": str(out / "secrets"),
        "prometheus_stack_alert_webhook_url": webhook_url,
        "prometheus_stack_alert_slack_webhook_url": slack_url,
        "prometheus_stack_alert_email_to": [RECIPIENT],
        "prometheus_stack_alert_email_from": SENDER,
        "prometheus_stack_alert_email_smarthost": f"{HOST}:{smtp.port}",
        "prometheus_stack_alert_email_username": SMTP_USER,
        "prometheus_stack_alert_email_password": SMTP_PASSWORD,
        # The test's SMTP server offers no STARTTLS; Go sends a password unencrypted to loopback only.
        "prometheus_stack_alert_email_require_tls": False,
        "prometheus_stack_alert_severity_receivers": {"critical": ["webhook", "email"], "warning": ["slack"]},
        "prometheus_stack_alert_group_wait": "1s",
        "prometheus_stack_alert_group_interval": "1s",
    })
    return Rendered(
        values=json.loads((out / "values.json").read_text()),
        config_file=out / "alertmanager.yml",
        secrets_dir=out / "secrets",
        webhook_url=webhook_url,
        slack_url=slack_url,
    )


class Alertmanager:
    """The real binary on a free loopback port, clustering off; alerts posted through its v2 API."""

    def __init__(self, config_file: Path, workdir: Path) -> None:
        self.url = f"http://{HOST}:{free_port()}"
        self._log = workdir / "alertmanager.log"
        with self._log.open("wb") as log:
            self._process = subprocess.Popen(
                [
                    str(ALERTMANAGER),
                    f"--config.file={config_file}",
                    f"--storage.path={workdir / 'data'}",
                    f"--web.listen-address={self.url.removeprefix('http://')}",
                    "--cluster.listen-address=",
                    "--log.level=debug",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_until(self._ready, 30, f"Alertmanager on {self.url}")
        except (TimeoutError, RuntimeError):
            self.stop()
            raise

    def _ready(self) -> bool:
        if self._process.poll() is not None:
            raise RuntimeError(f"alertmanager exited with code {self._process.returncode}:\n{self.log()}")
        try:
            return httpx.get(f"{self.url}/-/ready", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def post(self, *alerts: dict[str, Any]) -> None:
        httpx.post(f"{self.url}/api/v2/alerts", json=list(alerts), timeout=5).raise_for_status()

    def alerts(self) -> list[dict[str, Any]]:
        answer = httpx.get(f"{self.url}/api/v2/alerts", timeout=5)
        answer.raise_for_status()
        return answer.json()

    def log(self) -> str:
        return self._log.read_text(errors="replace")

    def stop(self) -> None:
        terminate(self._process)


@pytest.fixture
def alertmanager(rendered: Rendered, tmp_path: Path) -> Iterator[Alertmanager]:
    if not ALERTMANAGER.is_file():
        pytest.fail(f"{ALERTMANAGER} is missing: run `make images` (it builds Alertmanager {VERSION} from Go).")
    version = subprocess.run([str(ALERTMANAGER), "--version"], capture_output=True, text=True, check=True).stdout
    assert f"version {VERSION.removeprefix('v')} " in version, (
        f"{ALERTMANAGER} is not {VERSION} (images/versions.env): run `make images`.\n{version}"
    )
    server = Alertmanager(rendered.config_file, tmp_path)
    yield server
    server.stop()


def alert(name: str, namespace: str = "house-price", resolved: bool = False) -> dict[str, Any]:
    """The alert Prometheus sends for rule ``name`` of files/alerts/rules.yml, on the model's job."""
    rule = RULES[name]
    now = datetime.now(UTC)
    return {
        "labels": {"alertname": name, **rule["labels"], "namespace": namespace, "job": "model",
                   "prometheus": "monitoring/prom-kube-prometheus-stack-prometheus"},
        "annotations": {"summary": rule["annotations"]["summary"], "runbook": rule["annotations"]["runbook"]},
        "startsAt": (now - timedelta(minutes=3)).isoformat(),
        "endsAt": (now - timedelta(seconds=1) if resolved else now + timedelta(minutes=5)).isoformat(),
    }


def notifies(post: HttpPost, path: str, status: str, name: str, namespace: str = "house-price") -> bool:
    return post.path == path and post.body.get("status") == status and any(
        a["labels"].get("alertname") == name and a["labels"].get("namespace") == namespace
        for a in post.body.get("alerts", [])
    )


def test_the_chart_values_hold_no_secret_and_mount_the_receivers_secret(rendered: Rendered, tmp_path: Path) -> None:
    """real: the values Helm stores (and --diff shows) name files; the Secret's keys hold the URLs and password."""
    text = json.dumps(rendered.values)
    for secret in (TOKEN, SLACK_KEY, SMTP_PASSWORD):
        assert secret not in text
    alertmanager = rendered.values["alertmanager"]
    assert alertmanager["enabled"] is True
    assert alertmanager["alertmanagerSpec"]["secrets"] == [SECRET_NAME]
    files = {path.name: path.read_text() for path in rendered.secrets_dir.iterdir()}
    assert files == {
        "webhook-url": rendered.webhook_url,
        "slack-webhook-url": rendered.slack_url,
        "email-password": SMTP_PASSWORD,
    }

    # With the role's own secrets directory, the files are read where the operator mounts the Secret.
    render(tmp_path, {"write_secrets": False, "prometheus_stack_alert_webhook_url": "https://hooks.example/x"})
    config = yaml.safe_load((tmp_path / "alertmanager.yml").read_text())
    [page] = [r for r in config["receivers"] if r["name"] == "page"]
    assert page["webhook_configs"][0]["url_file"] == f"/etc/alertmanager/secrets/{SECRET_NAME}/webhook-url"


def test_every_severity_of_the_models_alerts_is_routed_to_a_receiver(rendered: Rendered) -> None:
    """real: no alert of files/alerts/rules.yml carries a severity that the configuration sends nowhere."""
    config = yaml.safe_load(rendered.config_file.read_text())
    routed = {route["matchers"][0]: route["receiver"] for route in config["route"]["routes"]}
    severities = {rule["labels"]["severity"] for rule in RULES.values()}
    assert {f'severity = "{severity}"' for severity in severities} <= set(routed), routed
    assert config["route"]["receiver"] == "null"


def test_a_critical_alert_reaches_the_webhook_with_labels_summary_runbook_then_its_resolution(
    alertmanager: Alertmanager, receivers: HttpInbox
) -> None:
    """real: ModelApiTargetDown pages through the webhook (URL read from the Secret's file), then resolves."""
    alertmanager.post(alert("ModelApiTargetDown"))
    firing = receivers.wait_for(
        lambda p: notifies(p, WEBHOOK_PATH, "firing", "ModelApiTargetDown"), 20, "the firing notification"
    ).body
    assert firing["receiver"] == "page"
    assert firing["groupLabels"] == {"alertname": "ModelApiTargetDown", "namespace": "house-price"}
    [sent] = firing["alerts"]
    assert sent["labels"]["severity"] == "critical"
    assert sent["labels"]["job"] == "model"
    assert sent["annotations"]["summary"] == RULES["ModelApiTargetDown"]["annotations"]["summary"]
    assert sent["annotations"]["runbook"] == "docs/runbooks.md#modelapitargetdown"

    alertmanager.post(alert("ModelApiTargetDown", resolved=True))
    resolved = receivers.wait_for(
        lambda p: notifies(p, WEBHOOK_PATH, "resolved", "ModelApiTargetDown"), 20, "the resolved notification"
    ).body
    assert [a["status"] for a in resolved["alerts"]] == ["resolved"]
    assert not [p for p in receivers.items if p.path == SLACK_PATH and "ModelApiTargetDown" in json.dumps(p.body)], (
        "a critical alert goes to the page receivers (webhook, e-mail), not to Slack"
    )


def test_a_critical_alert_is_mailed_with_the_password_from_the_secret_file(
    alertmanager: Alertmanager, smtp: SmtpInbox
) -> None:
    """real: the e-mail receiver logs in with the password read from the Secret's file and mails the summary."""
    alertmanager.post(alert("ModelApiTargetDown", namespace="mail-drill"))
    mail = smtp.wait_for(
        lambda m: "mail-drill" in str((m.message or {}).get("Subject", "")), 20, "the alert e-mail"
    )
    assert mail.login == (SMTP_USER, SMTP_PASSWORD)
    assert (mail.sender, mail.recipients) == (SENDER, [RECIPIENT])
    assert "ModelApiTargetDown" in str(mail.message["Subject"])
    assert RULES["ModelApiTargetDown"]["annotations"]["summary"] in mail.text()


def test_target_down_inhibits_the_models_other_alerts_in_its_namespace(
    alertmanager: Alertmanager, receivers: HttpInbox
) -> None:
    """real: with ModelApiTargetDown firing, the model's latency warning in its namespace is not delivered."""
    alertmanager.post(
        alert("ModelApiTargetDown", namespace="inhibit-drill"),
        alert("ModelApiHighLatency", namespace="inhibit-drill"),
        alert("ModelApiHighLatency", namespace="inhibit-control"),
    )
    # The control: the same warning in a namespace whose target is up reaches Slack, with summary and runbook.
    control = receivers.wait_for(
        lambda p: p.path == SLACK_PATH and "inhibit-control" in json.dumps(p.body), 20, "the control warning in Slack"
    ).body
    text = control["attachments"][0]["text"]
    assert RULES["ModelApiHighLatency"]["annotations"]["summary"] in text
    assert "docs/runbooks.md#modelapihighlatency" in text

    # Both groups flush at once (their alerts started before group_wait); give the inhibited one two group
    # intervals more to show up if it were delivered.
    time.sleep(2)
    [inhibited] = [
        a for a in alertmanager.alerts()
        if a["labels"]["alertname"] == "ModelApiHighLatency" and a["labels"]["namespace"] == "inhibit-drill"
    ]
    assert inhibited["status"]["state"] == "suppressed"
    assert inhibited["status"]["inhibitedBy"], "suppressed by an inhibition, not a silence"
    delivered = [json.dumps(p.body) for p in receivers.items]
    assert not [body for body in delivered if "inhibit-drill" in body and "ModelApiHighLatency" in body]
