"""Column: real (stand-in process). Health, authentication and service-account tokens over real HTTP."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from testbed.grafana_standin.launcher import GrafanaStandin, running_grafana

ACCESS_DENIED = re.compile(r"ACE\d{10}")


@pytest.fixture(scope="module")
def grafana(shared_grafana_standin: GrafanaStandin) -> GrafanaStandin:
    return shared_grafana_standin


@pytest.fixture(scope="module")
def admin(grafana: GrafanaStandin) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=grafana.url, auth=grafana.admin_auth) as client:
        yield client


def _token_client(grafana: GrafanaStandin, admin: httpx.Client, name: str,
                  role: str) -> httpx.Client:
    account = admin.post("/api/serviceaccounts", json={"name": name, "role": role})
    assert account.status_code == 201, account.text
    token = admin.post(f"/api/serviceaccounts/{account.json()['id']}/tokens",
                       json={"name": f"{name}-token"})
    assert token.status_code == 200, token.text
    return httpx.Client(base_url=grafana.url,
                        headers={"Authorization": f"Bearer {token.json()['key']}"})


def test_health_needs_no_credentials_and_is_pretty_printed(grafana: GrafanaStandin) -> None:
    answer = httpx.get(f"{grafana.url}/api/health")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json; charset=UTF-8"
    assert answer.text == ('{\n  "database": "ok",\n  "version": "12.3.0",\n'
                           '  "commit": "standin"\n}')


def test_health_fails_while_unhealthy_for_lasts(tmp_path: Path) -> None:
    """``--unhealthy-for`` makes the role's wait for ``/api/health`` testable."""
    with running_grafana(tmp_path, extra_args=["--unhealthy-for", "3600"]) as grafana:
        answer = httpx.get(f"{grafana.url}/api/health")
        assert answer.status_code == 503
        assert answer.json() == {"database": "failing", "version": "12.3.0",
                                 "commit": "standin"}


def test_request_without_credentials_is_401(grafana: GrafanaStandin) -> None:
    answer = httpx.get(f"{grafana.url}/api/search")
    assert answer.status_code == 401
    assert answer.text == '{"message":"Unauthorized"}'
    assert "www-authenticate" not in answer.headers


def test_wrong_password_is_401_with_the_authn_error(grafana: GrafanaStandin) -> None:
    answer = httpx.get(f"{grafana.url}/api/search", auth=(grafana.admin_user, "wrong"))
    assert answer.status_code == 401
    assert answer.text == ('{"extra":null,"message":"Invalid username or password",'
                           '"messageId":"password-auth.failed","statusCode":401,"traceID":""}')


def test_unknown_user_is_401(grafana: GrafanaStandin) -> None:
    answer = httpx.get(f"{grafana.url}/api/search", auth=("root", grafana.admin_password))
    assert answer.status_code == 401
    assert answer.json()["messageId"] == "password-auth.failed"


def test_undecodable_basic_header_counts_as_no_credentials(grafana: GrafanaStandin) -> None:
    answer = httpx.get(f"{grafana.url}/api/search", headers={"Authorization": "Basic %%%"})
    assert answer.status_code == 401
    assert answer.json() == {"message": "Unauthorized"}


def test_five_failed_logins_block_the_right_password_too(
        grafana_standin: GrafanaStandin) -> None:
    url = f"{grafana_standin.url}/api/search"
    for _ in range(5):
        assert httpx.get(url, auth=(grafana_standin.admin_user, "nope")).status_code == 401
    blocked = httpx.get(url, auth=grafana_standin.admin_auth)
    assert blocked.status_code == 401
    assert blocked.json()["messageId"] == "password-auth.failed"


def test_four_failed_logins_do_not_block(grafana_standin: GrafanaStandin) -> None:
    url = f"{grafana_standin.url}/api/search"
    for _ in range(4):
        httpx.get(url, auth=(grafana_standin.admin_user, "nope"))
    assert httpx.get(url, auth=grafana_standin.admin_auth).status_code == 200


def test_unknown_bearer_token_is_401(grafana: GrafanaStandin) -> None:
    for token in ("glsa_" + "a" * 32 + "_00000000", "not-a-token"):
        answer = httpx.get(f"{grafana.url}/api/search",
                           headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 401
        assert answer.json()["message"] == "Invalid API key"
        assert answer.json()["messageId"] == "api-key.invalid"


def test_service_account_token_flow(grafana: GrafanaStandin, admin: httpx.Client) -> None:
    created = admin.post("/api/serviceaccounts", json={"name": "Flow Bot", "role": "Editor"})
    assert created.status_code == 201
    account = created.json()
    assert (account["name"], account["login"], account["role"], account["tokens"]) == \
        ("Flow Bot", "sa-1-flow-bot", "Editor", 0)
    token = admin.post(f"/api/serviceaccounts/{account['id']}/tokens", json={"name": "ci"})
    assert token.status_code == 200
    key = token.json()["key"]
    assert re.fullmatch(r"glsa_[A-Za-z0-9]{32}_[0-9a-f]{8}", key)
    listed = admin.get(f"/api/serviceaccounts/{account['id']}/tokens").json()
    assert [t["name"] for t in listed] == ["ci"]
    assert key not in admin.get(f"/api/serviceaccounts/{account['id']}/tokens").text
    as_bot = httpx.post(f"{grafana.url}/api/folders", json={"uid": "bot-made", "title": "Bot"},
                        headers={"Authorization": f"Bearer {key}"})
    assert as_bot.status_code == 200
    assert as_bot.json()["createdBy"] == "Flow Bot"
    assert grafana.requests()[-1]["user"] == "sa-1-flow-bot"


def test_service_account_search(admin: httpx.Client) -> None:
    admin.post("/api/serviceaccounts", json={"name": "Searchable One"})
    result = admin.get("/api/serviceaccounts/search", params={"query": "searchable"}).json()
    assert result["totalCount"] == 1
    assert result["serviceAccounts"][0]["role"] == "Viewer"
    assert (result["page"], result["perPage"]) == (1, 1000)


def test_duplicate_service_account_is_400(admin: httpx.Client) -> None:
    assert admin.post("/api/serviceaccounts", json={"name": "Twice"}).status_code == 201
    again = admin.post("/api/serviceaccounts", json={"name": "Twice"})
    assert again.status_code == 400
    assert again.json()["message"] == "service account already exists"


def test_service_account_needs_a_valid_role(admin: httpx.Client) -> None:
    answer = admin.post("/api/serviceaccounts", json={"name": "Odd", "role": "Superuser"})
    assert answer.status_code == 400
    assert answer.json()["message"] == "invalid role specified"


def test_token_for_unknown_service_account_is_404(admin: httpx.Client) -> None:
    answer = admin.post("/api/serviceaccounts/999/tokens", json={"name": "x"})
    assert answer.status_code == 404
    assert answer.json()["message"] == "service account not found"


def test_viewer_token_reads_but_cannot_write(grafana: GrafanaStandin,
                                             admin: httpx.Client) -> None:
    with _token_client(grafana, admin, "Viewer Bot", "Viewer") as viewer:
        assert viewer.get("/api/search").status_code == 200
        assert viewer.get("/api/datasources").status_code == 200
        denied = viewer.post("/api/dashboards/db", json={"dashboard": {"title": "No"}})
        assert denied.status_code == 403
        body = denied.json()
        assert body["message"] == ("You'll need additional permissions to perform this action. "
                                   "Permissions needed: any of dashboards:create, "
                                   "dashboards:write")
        assert body["title"] == "Access denied"
        assert ACCESS_DENIED.fullmatch(body["accessErrorId"])
        folder = viewer.post("/api/folders", json={"title": "No"})
        assert folder.status_code == 403
        assert folder.json()["message"].endswith("Permissions needed: folders:create")
        assert viewer.post("/api/serviceaccounts", json={"name": "x"}).status_code == 403


def test_editor_token_cannot_manage_service_accounts(grafana: GrafanaStandin,
                                                     admin: httpx.Client) -> None:
    with _token_client(grafana, admin, "Editor Bot", "Editor") as editor:
        denied = editor.get("/api/serviceaccounts/search")
        assert denied.status_code == 403
        assert denied.json()["message"].endswith("Permissions needed: serviceaccounts:read")
        assert editor.post("/api/dashboards/db",
                           json={"dashboard": {"title": "Editor made"}}).status_code == 200


def test_role_none_token_reads_nothing(grafana: GrafanaStandin, admin: httpx.Client) -> None:
    with _token_client(grafana, admin, "Nobody Bot", "None") as nobody:
        assert nobody.get("/api/datasources").status_code == 403
        assert nobody.get("/api/search").json() == []


def test_basic_scheme_in_any_case_is_accepted(grafana: GrafanaStandin) -> None:
    credentials = base64.b64encode(
        f"{grafana.admin_user}:{grafana.admin_password}".encode()).decode()
    answer = httpx.get(f"{grafana.url}/api/search",
                       headers={"Authorization": f"basic {credentials}"})
    assert answer.status_code == 200


def test_bearer_scheme_is_case_sensitive(grafana: GrafanaStandin, admin: httpx.Client) -> None:
    with _token_client(grafana, admin, "Case Bot", "Viewer") as bot:
        token = str(bot.headers["Authorization"]).removeprefix("Bearer ")
    lower = httpx.get(f"{grafana.url}/api/search", headers={"Authorization": f"bearer {token}"})
    assert lower.status_code == 401
    assert lower.json() == {"message": "Unauthorized"}
    as_api_key = httpx.get(f"{grafana.url}/api/search", auth=("api_key", token))
    assert as_api_key.status_code == 200
