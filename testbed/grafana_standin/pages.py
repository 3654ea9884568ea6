"""Pages for a browser at ``/`` and ``/d/<uid>[/<slug>]``: what this server is, its dashboards, their panels.

Grafana answers these paths with its web app, which draws the panels. The stand-in serves only the HTTP API mlmon
calls and draws nothing, so a browser gets a small HTML page that says so, lists the dashboards (``/``) or one
dashboard's rows and panels (``/d/<uid>``), and names the picture of each dashboard that mlmon's verify role draws
from the same queries: ``build/verify/<uid>.png`` in the mlmon checkout on the machine that runs ansible-playbook,
a file this server (a pod in the cluster) cannot reach, so the page names it rather than links it.

The pages need a signed-in user, as Grafana's do. Grafana sends a browser without a session to its login form,
which the stand-in does not have: it answers 401 with a ``WWW-Authenticate: Basic`` challenge, so the browser asks
for Grafana's admin user and password (a token works too). An unknown uid is a 404 page.
"""

from __future__ import annotations

from collections.abc import Iterator
from html import escape

from aiohttp import web

from . import dashboards, search
from .context import CONFIG, signed_in, state
from .errors import GrafanaError
from .identity import Identity
from .routes_dashboards import SEARCH_MAX_LIMIT

routes = web.RouteTableDef()

PICTURE_DIR = "build/verify"
PICTURE_COMMAND = "ansible-playbook site.yml --tags verify_picture"
STYLE = (
    "body{font-family:sans-serif;max-width:56rem;margin:2rem auto;padding:0 1rem;line-height:1.45}"
    ".note{background:#fff8e1;border-left:4px solid #f5a623;padding:.5rem 1rem}"
    "code{background:#f4f5f5;padding:0 .2rem}"
)


def _page(request: web.Request, title: str, body: str, status: int = 200,
          headers: dict[str, str] | None = None) -> web.Response:
    version = escape(request.app[CONFIG].version)
    html = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{escape(title)} - mlmon Grafana stand-in</title>
<style>{STYLE}</style>
</head>
<body>
<p class="note">This is <strong>mlmon's Grafana stand-in</strong>, not Grafana: test equipment that serves the part
of Grafana {version}'s HTTP API mlmon uses (<code>/api/...</code>), on machines where Grafana cannot be built.
It stores dashboards but <strong>does not draw panels</strong>.</p>
<h1>{escape(title)}</h1>
{body}
</body>
</html>
"""
    return web.Response(status=status, text=html, content_type="text/html", charset="utf-8",
                        headers={"Cache-Control": "no-store", **(headers or {})})


def _picture(uid: str) -> str:
    return f"<code>{PICTURE_DIR}/{escape(uid)}.png</code>"


PICTURE_NOTE = (
    "<p>mlmon's <code>verify</code> role draws each dashboard, one plot per panel from the Prometheus queries "
    f"Grafana would run, into <code>{PICTURE_DIR}/&lt;uid&gt;.png</code> in the mlmon checkout on the machine that "
    "runs ansible-playbook. This server cannot reach that file: open it there, or draw it again with "
    f"<code>{PICTURE_COMMAND}</code>.</p>"
)


def _signed_in_or_page(request: web.Request, title: str) -> Identity | web.Response:
    """The caller with ``dashboards:read``, or the page to answer instead (401 challenge, 403)."""
    try:
        identity = signed_in(request)
    except GrafanaError as error:
        body = (f"<p>Sign in as Grafana's admin user (for mlmon: user <code>admin</code> and the password of "
                f"<code>MLMON_GRAFANA_ADMIN_PASSWORD</code>) or send a service account token.</p>"
                f"<p>The server said: {escape(str(error.body.get('message', '')))}</p>")
        return _page(request, "Sign in", body, 401,
                     {"WWW-Authenticate": 'Basic realm="mlmon Grafana stand-in", charset="UTF-8"'})
    if not identity.can("dashboards:read"):
        return _page(request, title, f"<p>{escape(identity.login)} may not read dashboards.</p>", 403)
    return identity


@routes.get("/")
async def home(request: web.Request) -> web.Response:
    """The dashboards the caller may read, each linked to its page."""
    identity = _signed_in_or_page(request, "Dashboards")
    if isinstance(identity, web.Response):
        return identity
    wanted = search.SearchQuery(query="", kind=search.DASHBOARD_TYPE, folder_uids=(), dashboard_uids=(),
                                tags=(), limit=SEARCH_MAX_LIMIT, page=1)
    hits = search.run(state(request), wanted, identity)
    if hits:
        items = "".join(
            f'<li><a href="{escape(str(hit["url"]))}">{escape(str(hit["title"]))}</a>'
            f'{" in folder " + escape(str(hit["folderTitle"])) if hit.get("folderTitle") else ""}'
            f" (uid <code>{escape(str(hit['uid']))}</code>), picture {_picture(str(hit['uid']))}</li>\n"
            for hit in hits
        )
        listing = f"<ul>\n{items}</ul>"
    else:
        listing = ("<p>No dashboards yet. mlmon's <code>grafana_dashboards</code> role loads them: "
                   "<code>ansible-playbook site.yml --tags grafana_dashboards</code>.</p>")
    return _page(request, "Dashboards", listing + PICTURE_NOTE)


@routes.get("/d/{uid}")
@routes.get("/d/{uid}/{slug}")
async def dashboard_page(request: web.Request) -> web.Response:
    """One dashboard: its folder and version, its rows and panels in order, and where its picture is."""
    identity = _signed_in_or_page(request, "Dashboard")
    if isinstance(identity, web.Response):
        return identity
    uid = request.match_info["uid"]
    dashboard = state(request).dashboards.get(uid)
    if dashboard is None:
        body = (f"<p>No dashboard has the uid <code>{escape(uid)}</code>. "
                '<a href="/">The dashboards this server holds</a>.</p>')
        return _page(request, "Dashboard not found", body, 404)
    folder = state(request).folders.get(dashboard.folder_uid)
    where = f"folder {escape(folder.title)}" if folder else "no folder"
    sections = "".join(
        (f"<h2>{escape(row)}</h2>\n" if row else "")
        + "<ul>\n" + "".join(f"<li>{escape(title)} <small>({escape(kind)})</small></li>\n" for title, kind in panels)
        + "</ul>\n"
        for row, panels in _sections(dashboard.spec)
    )
    body = (f"<p>uid <code>{escape(uid)}</code>, version {dashboard.version}, in {where} "
            f'(<a href="{escape(dashboards.url(dashboard))}">this page</a>, '
            f'<a href="/api/dashboards/uid/{escape(uid)}">its JSON</a>, <a href="/">all dashboards</a>).</p>\n'
            f"<p>Its picture: {_picture(uid)}.</p>\n"
            f"{sections or '<p>It has no panels.</p>'}{PICTURE_NOTE}")
    return _page(request, dashboard.title, body)


def _sections(spec: dict[str, object]) -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """(row title, [(panel title, panel type)]) in dashboard order; panels before the first row have no row."""
    row, panels = "", []
    for panel in _panels(spec.get("panels")):
        if panel.get("type") == "row":
            if panels or row:
                yield row, panels
            row, panels = str(panel.get("title", "")), []
        else:
            panels.append((str(panel.get("title", "")), str(panel.get("type", "panel"))))
    if panels or row:
        yield row, panels


def _panels(items: object) -> Iterator[dict[str, object]]:
    """Every panel, a collapsed row's own panels right after it."""
    for panel in items if isinstance(items, list) else []:
        if isinstance(panel, dict):
            yield panel
            yield from _panels(panel.get("panels"))
