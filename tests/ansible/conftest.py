"""Fixtures of the Ansible tests: Grafana behind TLS that asks for a client certificate.

Column: real (an https server of the standard library in front of the Grafana stand-in's process).
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
import trustme

from tests.testbed.fixtures import GrafanaStandin


@contextmanager
def tls_front(upstream: str, ca: trustme.CA) -> Iterator[str]:
    """An https server that asks every client for a certificate signed by ``ca``, forwarding to ``upstream``.

    It stands for what a user may put in front of Grafana (or Grafana's own ``protocol = https`` with
    ``client_auth``); the stand-in itself speaks plain http.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca.configure_trust(context)
    context.verify_mode = ssl.CERT_REQUIRED

    class Forward(BaseHTTPRequestHandler):
        def forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            passed = ("authorization", "content-type", "accept")
            headers = {k: v for k, v in self.headers.items() if k.lower() in passed}
            answer = httpx.request(
                self.command, upstream + self.path, headers=headers, content=self.rfile.read(length), timeout=10
            )
            self.send_response(answer.status_code)
            self.send_header("Content-Type", answer.headers.get("Content-Type", "application/json"))
            self.send_header("Content-Length", str(len(answer.content)))
            self.end_headers()
            self.wfile.write(answer.content)

        do_GET = do_POST = do_PUT = do_DELETE = forward

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Forward)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.handle_error = lambda *_args: None  # type: ignore[method-assign]  # refused handshakes are expected
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def tls(grafana_standin: GrafanaStandin, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The stand-in behind tls_front, with a CA file and a client certificate and key of that CA."""
    ca = trustme.CA()
    client = ca.issue_cert("mlmon-client@example.com")
    files = {"ca": tmp_path / "ca.pem", "cert": tmp_path / "client.pem", "key": tmp_path / "client-key.pem"}
    ca.cert_pem.write_to_path(str(files["ca"]))
    client.cert_chain_pems[0].write_to_path(str(files["cert"]))
    client.private_key_pem.write_to_path(str(files["key"]))
    with tls_front(grafana_standin.url, ca) as url:
        yield {"url": url, **{name: str(path) for name, path in files.items()}}
