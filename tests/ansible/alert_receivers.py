"""Receivers for Alertmanager's notifications, run by the tests on loopback (test equipment).

``HttpInbox`` takes the POSTs of Alertmanager's webhook and Slack notifiers (Slack's incoming webhook is a JSON
POST too); ``SmtpInbox`` speaks enough SMTP for Alertmanager's e-mail notifier (EHLO, AUTH PLAIN, MAIL, RCPT,
DATA) and keeps each message with the credentials it was sent with. Both record what arrives and let a test wait
for a message that matches.
"""

from __future__ import annotations

import base64
import email
import email.policy
import json
import socketserver
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Generic, TypeVar

HOST = "127.0.0.1"
T = TypeVar("T")


class _Recorder(Generic[T]):
    """What arrived, in order, with a wait for the first item that matches."""

    def __init__(self) -> None:
        self.items: list[T] = []
        self._changed = threading.Condition()

    def add(self, item: T) -> None:
        with self._changed:
            self.items.append(item)
            self._changed.notify_all()

    def wait_for(self, match: Callable[[T], bool], timeout: float, what: str) -> T:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = next((item for item in self.items if match(item)), None)
                if found is not None:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"gave up after {timeout:.0f}s waiting for {what}; got {self.items!r}")
                self._changed.wait(left)


@dataclass(frozen=True)
class HttpPost:
    """One POST: its path with the query string, and its JSON body."""

    path: str
    body: dict[str, Any]


class HttpInbox(_Recorder[HttpPost]):
    """An HTTP server on loopback that answers every POST with 200 and records it."""

    def __init__(self, server: ThreadingHTTPServer, advertised: str = HOST) -> None:
        super().__init__()
        self.url = f"http://{advertised}:{server.server_address[1]}"


@contextmanager
def http_inbox(bind: str = HOST, advertised: str = HOST) -> Iterator[HttpInbox]:
    """The inbox listening on ``bind``; its URL names ``advertised`` (the address its senders reach it at)."""
    inbox: HttpInbox

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            inbox.add(HttpPost(self.path, json.loads(body)))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer((bind, 0), Handler)
    inbox = HttpInbox(server, advertised)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield inbox
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Mail:
    """One message as the server took it: the AUTH PLAIN credentials, the envelope and the parsed message."""

    login: tuple[str, str] | None = None
    sender: str = ""
    recipients: list[str] = field(default_factory=list)
    message: EmailMessage | None = None

    def text(self) -> str:
        """Every text part of the message, decoded."""
        assert self.message is not None
        return "\n".join(part.get_content() for part in self.message.walk() if part.get_content_maintype() == "text")


class SmtpInbox(_Recorder[Mail]):
    def __init__(self, port: int) -> None:
        super().__init__()
        self.port = port


class _SmtpSession(socketserver.StreamRequestHandler):
    server: _SmtpServer

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        mail = Mail()
        self.reply("220 localhost ESMTP mlmon test inbox")
        while line := self.rfile.readline():
            command = line.decode().rstrip("\r\n")
            verb, _, argument = command.partition(" ")
            verb = verb.upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250-localhost")
                self.reply("250 AUTH PLAIN")
            elif verb == "AUTH":
                mechanism, _, initial = argument.partition(" ")
                _identity, user, password = base64.b64decode(initial).decode().split("\0")
                assert mechanism.upper() == "PLAIN"
                mail.login = (user, password)
                self.reply("235 2.7.0 Authentication successful")
            elif verb == "MAIL":
                mail.sender = argument.partition(":")[2].strip("<> ")
                self.reply("250 OK")
            elif verb == "RCPT":
                mail.recipients.append(argument.partition(":")[2].strip("<> "))
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                data = b"".join(iter(self.rfile.readline, b".\r\n"))
                mail.message = email.message_from_bytes(data, policy=email.policy.default)  # type: ignore[assignment]
                self.server.inbox.add(mail)
                mail = Mail(login=mail.login)
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("250 OK")


class _SmtpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    inbox: SmtpInbox


@contextmanager
def smtp_inbox() -> Iterator[SmtpInbox]:
    server = _SmtpServer((HOST, 0), _SmtpSession)
    server.inbox = SmtpInbox(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.inbox
    finally:
        server.shutdown()
        server.server_close()
