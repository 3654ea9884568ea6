"""A small client for Grafana's HTTP API, shared by the mlmon.monitoring Grafana modules.

It sends JSON, reads JSON, authenticates with basic auth or a service account token on every
request (Grafana sends no ``WWW-Authenticate`` challenge, so credentials must go first), and turns
every failure into a :class:`GrafanaAPIError` that carries the HTTP status, Grafana's own
``message`` and ``status`` word, and a sentence saying what the status means for the caller.
"""

from __future__ import annotations

import base64
import json
from http.client import HTTPException
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import quote

from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.urls import open_url, url_argument_spec

NO_ANSWER = -1
USER_AGENT = "mlmon.monitoring-grafana"


# Options of url_argument_spec() that do not apply to Grafana's API: nothing is cached (force), the
# credentials always go with the first request (force_basic_auth), Grafana authenticates by password or
# token (use_gssapi), and the modules name themselves to Grafana (http_agent, USER_AGENT).
_NOT_FOR_GRAFANA = ("force", "force_basic_auth", "use_gssapi", "http_agent")


def grafana_argument_spec() -> dict[str, dict[str, Any]]:
    """The connection options every Grafana module takes: Ansible's own URL options, plus a token."""
    spec = {name: dict(option) for name, option in url_argument_spec().items() if name not in _NOT_FOR_GRAFANA}
    spec["url"]["required"] = True
    spec["url_username"]["default"] = "admin"
    spec.update(
        {
            "token": {"type": "str", "no_log": True},
            "ca_path": {"type": "path"},
            "timeout": {"type": "int", "default": 30},
        }
    )
    return spec


GRAFANA_MUTUALLY_EXCLUSIVE = [("url_password", "token")]
GRAFANA_REQUIRED_ONE_OF = [("url_password", "token")]


def path_segment(value: str) -> str:
    """``value`` quoted for use as one segment of an API path."""
    return quote(value, safe="")


class GrafanaAPIError(Exception):
    """A request Grafana did not answer with success (``status`` is -1 without an answer)."""

    def __init__(self, method: str, url: str, status: int, body: object, reason: str, hint: str = "") -> None:
        self.method = method
        self.url = url
        self.status = status
        fields = body if isinstance(body, dict) else {}
        self.message = to_text(fields.get("message") or reason).strip()
        self.status_word = to_text(fields.get("status") or "")
        self.hint = hint
        super().__init__(method, url, status)

    def __str__(self) -> str:
        """One sentence for the user: the request, Grafana's answer and, if known, what to do."""
        if self.status == NO_ANSWER:
            text = f"{self.method} {self.url} got no answer from Grafana: {self.message}"
        else:
            word = f" ({self.status_word})" if self.status_word else ""
            text = f"{self.method} {self.url}: Grafana answered {self.status}{word}: {self.message}"
        return f"{text}. {self.hint}" if self.hint else text


def failure(error: GrafanaAPIError) -> dict[str, Any]:
    """The ``fail_json`` arguments for ``error``: the message and Grafana's answer, as fields."""
    return {
        "msg": str(error),
        "http_status": error.status,
        "grafana_message": error.message,
        "grafana_status": error.status_word,
    }


class GrafanaClient:
    """Talks JSON to one Grafana, authenticated as one user or service account."""

    def __init__(
        self,
        url: str,
        *,
        username: str = "admin",
        password: str | None = None,
        token: str | None = None,
        validate_certs: bool = True,
        ca_path: str | None = None,
        client_cert: str | None = None,
        client_key: str | None = None,
        use_proxy: bool = True,
        timeout: int = 30,
    ) -> None:
        self.base_url = url.rstrip("/")
        self.validate_certs = validate_certs
        self.tls = {"ca_path": ca_path, "client_cert": client_cert, "client_key": client_key}
        self.use_proxy = use_proxy
        self.timeout = timeout
        if token:
            self._authorization = f"Bearer {token}"
            self._who = "the service account token"
        else:
            pair = f"{username}:{password or ''}".encode()
            self._authorization = "Basic " + base64.b64encode(pair).decode("ascii")
            self._who = f"user {username!r}"
        self._uses_token = bool(token)

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> GrafanaClient:
        """A client from module parameters built with :func:`grafana_argument_spec`."""
        return cls(
            params["url"],
            username=params["url_username"],
            password=params["url_password"],
            token=params["token"],
            validate_certs=params["validate_certs"],
            ca_path=params["ca_path"],
            client_cert=params["client_cert"],
            client_key=params["client_key"],
            use_proxy=params["use_proxy"],
            timeout=params["timeout"],
        )

    def absolute(self, path: str) -> str:
        """``path`` (as Grafana returns it, e.g. ``/d/uid/slug``) under the base URL."""
        return self.base_url + path

    def get(self, path: str) -> Any:
        return self.request("GET", path)

    def find(self, path: str) -> Any | None:
        """``GET path``, or ``None`` when Grafana answers 404."""
        try:
            return self.get(path)
        except GrafanaAPIError as error:
            if error.status == 404:
                return None
            raise

    def post(self, path: str, body: object) -> Any:
        return self.request("POST", path, body)

    def put(self, path: str, body: object) -> Any:
        return self.request("PUT", path, body)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path)

    def request(self, method: str, path: str, body: object = None) -> Any:
        """Send one request; return the decoded JSON answer or raise :class:`GrafanaAPIError`."""
        url = self.base_url + path
        headers = {"Accept": "application/json", "Authorization": self._authorization}
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        try:
            response = open_url(
                url,
                data=data,
                headers=headers,
                method=method,
                validate_certs=self.validate_certs,
                use_proxy=self.use_proxy,
                timeout=self.timeout,
                **self.tls,
                http_agent=USER_AGENT,
                use_netrc=False,
                follow_redirects="none",
            )
            raw = response.read()
        except HTTPError as error:
            answer = _error_body(error.read() if error.fp is not None else b"")
            raise GrafanaAPIError(
                method, url, error.code, answer, to_text(error.reason), self._explain(error.code)
            ) from error
        except (URLError, HTTPException, OSError) as error:
            reason = getattr(error, "reason", error)
            raise GrafanaAPIError(
                method,
                url,
                NO_ANSWER,
                None,
                to_text(reason),
                f"Check the url ({self.base_url}) and that Grafana is running",
            ) from error
        if not raw.strip():
            return None
        try:
            return json.loads(raw)
        except ValueError as error:
            raise GrafanaAPIError(
                method,
                url,
                response.status,
                None,
                "the answer is not JSON",
                f"Is {self.base_url} the address of Grafana itself?",
            ) from error

    def _explain(self, status: int) -> str:
        if 300 <= status < 400:
            return (
                f"Grafana redirected the request: check the url ({self.base_url}), its "
                "scheme and any sub path Grafana is served under"
            )
        if status == 401:
            if self._uses_token:
                return "Grafana refused the service account token: it is wrong, expired or revoked"
            return (
                f"Grafana refused {self._who}: the user or the password is wrong (after 5 "
                "failed logins within 5 minutes Grafana refuses the right password too)"
            )
        if status == 403:
            return (
                f"Grafana knows {self._who} but denies it this action: it needs the Editor "
                "or Admin role (a Viewer token can only read)"
            )
        return ""


def _error_body(raw: bytes) -> object:
    """An error answer: Grafana's JSON object, else its text (cut short), else ``None``."""
    text = to_text(raw, errors="surrogate_or_replace").strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return {"message": text[:300]}
