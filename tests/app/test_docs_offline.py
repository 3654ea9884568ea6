"""Swagger UI (/docs) and ReDoc (/redoc) work without internet access: the service serves every asset they load.

Real HTTP against a real uvicorn serving ``create_app(settings)`` in a background thread: each page is fetched,
every script, stylesheet, icon, image and API description it references is fetched from the service, and no
reference may point to another host (FastAPI's own pages load Swagger UI and ReDoc from a CDN).
"""

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from fastapi.openapi.docs import get_swagger_ui_html

from tests.app.conftest import ServeApp

# A page's reference to the API description inside Swagger UI's inline script: ``url: '/openapi.json'``.
INLINE_SPEC = re.compile(r"""\burl:\s*['"](?P<url>[^'"]+)['"]""")


class References(HTMLParser):
    """What a page makes the browser fetch: (what it is, URL) for every script, stylesheet, icon, image, spec."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []
        self._in_inline_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "script" and attributes.get("src"):
            self.found.append(("script", attributes["src"]))
        elif tag == "script":
            self._in_inline_script = True
        elif tag == "link" and attributes.get("href"):
            rel = attributes.get("rel", "").lower().split()
            self.found.append(
                ("stylesheet" if "stylesheet" in rel else "icon" if "icon" in rel else "link", attributes["href"])
            )
        elif tag == "img" and attributes.get("src"):
            self.found.append(("image", attributes["src"]))
        elif tag == "redoc" and attributes.get("spec-url"):
            self.found.append(("spec", attributes["spec-url"]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_inline_script = False

    def handle_data(self, data: str) -> None:
        if self._in_inline_script:
            self.found += [("spec", match["url"]) for match in INLINE_SPEC.finditer(data)]


EXPECTED_TYPES = {
    "script": ("text/javascript", "application/javascript"),
    "stylesheet": ("text/css",),
    "icon": ("image/",),
    "image": ("image/",),
    "spec": ("application/json",),
}


def references(page: str) -> list[tuple[str, str]]:
    parser = References()
    parser.feed(page)
    return parser.found


@pytest.mark.parametrize(
    ("path", "kinds"),
    [("/docs", {"script", "stylesheet", "icon", "spec"}), ("/redoc", {"script", "icon", "spec"})],
)
def test_the_page_and_every_asset_it_references_come_from_the_service(
    serve: ServeApp, path: str, kinds: set[str]
) -> None:
    client = serve(wait_ready=False)
    page = client.get(path)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    found = references(page.text)
    assert {kind for kind, _ in found} == kinds, found
    assert re.findall(r"\w+://\S+", page.text) == [], "the page names a URL of another host"
    service = urlsplit(str(client.base_url))
    for kind, reference in found:
        url = urlsplit(urljoin(f"{client.base_url}{path}", reference))
        assert (url.scheme, url.netloc) == (service.scheme, service.netloc), f"{kind} {reference} is elsewhere"
        answer = client.get(url.path)
        assert answer.status_code == 200, f"{kind} {reference}: {answer.status_code}"
        assert answer.content, f"{kind} {reference} is empty"
        content_type = answer.headers["content-type"]
        assert content_type.startswith(EXPECTED_TYPES[kind]), f"{kind} {reference} is {content_type}"


def test_the_parser_finds_a_cdn_reference() -> None:
    """FastAPI's own Swagger UI page, which loads its script and stylesheet from a CDN, fails the check above."""
    page = get_swagger_ui_html(openapi_url="/openapi.json", title="t").body.decode()
    elsewhere = {kind for kind, reference in references(page) if urlsplit(reference).netloc}
    assert {"script", "stylesheet"} <= elsewhere
