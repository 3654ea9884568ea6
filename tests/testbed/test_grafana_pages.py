"""Column: real (stand-in process). A browser at ``/`` and ``/d/<uid>`` gets an HTML page, not a JSON 404.

The page says the server is mlmon's Grafana stand-in and draws no panels, lists the dashboards or one dashboard's
rows and panels, and names the picture verify draws of it (``build/verify/<uid>.png`` on the controller).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from html.parser import HTMLParser

import httpx
import pytest

from testbed.grafana_standin.launcher import REPO_ROOT, GrafanaStandin

MODEL_DASHBOARD = json.loads((REPO_ROOT / "files" / "dashboards" / "ml-model-api.json").read_text())
NOT_GRAFANA = "This is mlmon's Grafana stand-in, not Grafana"


class Page(HTMLParser):
    """A page's text (tags dropped, whitespace collapsed), its links, and the text of its h1, h2 and li elements."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.links: list[str] = []
        self.elements: dict[str, list[str]] = {"h1": [], "h2": [], "li": []}
        self._open: list[str] = []
        self._chunks: list[str] = []
        self.feed(html)
        self.text = " ".join("".join(self._chunks).split())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.links += [value or "" for name, value in attrs if name == "href"]
        if tag in self.elements:
            self.elements[tag].append("")
            self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1] == tag:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        self._chunks.append(data)
        if self._open:
            self.elements[self._open[-1]][-1] += data


def html_page(answer: httpx.Response, status: int) -> Page:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    page = Page(answer.text)
    assert NOT_GRAFANA in page.text
    assert "does not draw panels" in page.text
    return page


@pytest.fixture(scope="module")
def admin(shared_grafana_standin: GrafanaStandin) -> Iterator[httpx.Client]:
    """The admin, with the model dashboard filed in a folder and a dashboard at the root."""
    with httpx.Client(base_url=shared_grafana_standin.url, auth=shared_grafana_standin.admin_auth) as client:
        client.post("/api/folders", json={"uid": "p-folder", "title": "ML models"}).raise_for_status()
        saved = client.post("/api/dashboards/db", json={"dashboard": MODEL_DASHBOARD, "folderUid": "p-folder"})
        saved.raise_for_status()
        loose = {"uid": "p-loose", "title": "<b>Loose</b> & odd", "panels": [{"type": "text", "title": "Notes"}]}
        client.post("/api/dashboards/db", json={"dashboard": loose}).raise_for_status()
        yield client


def test_the_home_page_lists_every_dashboard_with_its_page_and_picture(admin: httpx.Client) -> None:
    page = html_page(admin.get("/", headers={"Accept": "text/html"}), 200)
    assert page.elements["h1"] == ["Dashboards"]
    uid = MODEL_DASHBOARD["uid"]
    assert f"/d/{uid}/ml-model-api" in page.links
    assert "/d/p-loose/b-loose-b-odd" in page.links
    assert f"ML Model API in folder ML models (uid {uid}), picture build/verify/{uid}.png" in page.text
    assert "<b>Loose</b> & odd" in page.text, "a title is shown as text, never as markup"
    assert "ansible-playbook site.yml --tags verify_picture" in page.text
    for link in page.links:
        assert admin.get(link).status_code == 200, link


@pytest.mark.parametrize("path", ["/d/{uid}", "/d/{uid}/ml-model-api", "/d/{uid}/any-slug"])
def test_a_dashboard_page_lists_its_rows_and_panels_in_order(admin: httpx.Client, path: str) -> None:
    uid = MODEL_DASHBOARD["uid"]
    page = html_page(admin.get(path.format(uid=uid)), 200)
    assert page.elements["h1"] == ["ML Model API"]
    rows = [panel["title"] for panel in MODEL_DASHBOARD["panels"] if panel["type"] == "row"]
    assert page.elements["h2"] == rows == ["HTTP", "Model", "Data drift"]
    panels = [f"{panel['title']} ({panel['type']})" for panel in MODEL_DASHBOARD["panels"] if panel["type"] != "row"]
    assert page.elements["li"] == panels
    assert f"Its picture: build/verify/{uid}.png." in page.text
    assert f"/api/dashboards/uid/{uid}" in page.links


def test_an_unknown_uid_is_a_404_page(admin: httpx.Client) -> None:
    page = html_page(admin.get("/d/no-such-uid/whatever"), 404)
    assert page.elements["h1"] == ["Dashboard not found"]
    assert "No dashboard has the uid no-such-uid." in page.text
    assert admin.get("/api/no-such-endpoint").json() == {"message": "Not found"}, "the API's 404 stays JSON"


@pytest.mark.parametrize("path", ["/", "/d/mlmon-ml-model-api"])
def test_a_browser_without_credentials_is_asked_for_them(
    shared_grafana_standin: GrafanaStandin, admin: httpx.Client, path: str
) -> None:
    answer = httpx.get(f"{shared_grafana_standin.url}{path}")
    assert answer.headers["www-authenticate"] == 'Basic realm="mlmon Grafana stand-in", charset="UTF-8"'
    page = html_page(answer, 401)
    assert "ML Model API" not in page.text, "nothing about the dashboards before signing in"
    wrong = httpx.get(f"{shared_grafana_standin.url}{path}", auth=("admin", "wrong"))
    assert "Invalid username or password" in html_page(wrong, 401).text
