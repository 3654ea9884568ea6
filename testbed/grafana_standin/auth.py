"""Authentication of an API request, as Grafana's ``authn`` clients do it.

* ``Authorization: Bearer <token>`` (or Basic with login ``api_key`` and the token as
  password) is a service-account token ``glsa_...``; an unknown or malformed token is a
  401 ``api-key.invalid``.
* ``Authorization: Basic`` (scheme in any case, as Go's ``Request.BasicAuth`` reads it) is
  the admin user (login from ``GF_SECURITY_ADMIN_USER``); a wrong login or password is a
  401 ``password-auth.failed``. After 5 failed attempts for one login within 5 minutes
  every attempt fails, the right password too (brute-force protection, on by default).
* No credentials, or a Basic header that does not decode: anonymous access is off, so
  routes that need a user answer ``401 {"message": "Unauthorized"}``.

Grafana sends no ``WWW-Authenticate`` challenge: clients must send credentials first
(for ``ansible.builtin.uri`` that means ``force_basic_auth: true``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import string
import time
import zlib
from collections import defaultdict, deque
from dataclasses import dataclass, field

from .errors import GrafanaError, errutil
from .identity import Identity, Role
from .state import State

ADMIN_USER_ID = 1
MAX_FAILED_LOGINS = 5
FAILED_LOGIN_WINDOW_SECONDS = 300.0
TOKEN_PREFIX = "glsa"
BEARER_PREFIX = "Bearer "
BASIC_PREFIX = "basic "
API_KEY_LOGIN = "api_key"

_SECRET_ALPHABET = string.ascii_letters + string.digits


@dataclass(frozen=True)
class AdminCredentials:
    login: str
    password: str


def _basic_credentials(header: str) -> tuple[str, str] | None:
    """Login and password as Go's ``Request.BasicAuth`` parses them, or ``None``."""
    if len(header) < len(BASIC_PREFIX) or header[:len(BASIC_PREFIX)].lower() != BASIC_PREFIX:
        return None
    try:
        decoded = base64.b64decode(header[len(BASIC_PREFIX):], validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    login, colon, password = decoded.partition(":")
    return (login, password) if colon else None


def _password_failed() -> GrafanaError:
    return errutil(401, "password-auth.failed", "Invalid username or password")


def _invalid_key() -> GrafanaError:
    return errutil(401, "api-key.invalid", "Invalid API key")


@dataclass
class LoginGuard:
    """Grafana's per-login brute-force protection."""

    _failures: defaultdict[str, deque[float]] = field(
        default_factory=lambda: defaultdict(deque))

    def blocked(self, login: str) -> bool:
        return len(self._recent(login)) >= MAX_FAILED_LOGINS

    def record_failure(self, login: str) -> None:
        self._recent(login).append(time.monotonic())

    def _recent(self, login: str) -> deque[float]:
        attempts = self._failures[login]
        while attempts and time.monotonic() - attempts[0] > FAILED_LOGIN_WINDOW_SECONDS:
            attempts.popleft()
        return attempts


def new_token_secret() -> str:
    """A service-account token: ``glsa_<32 letters/digits>_<crc32 hex>``."""
    secret = "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(32))
    return f"{TOKEN_PREFIX}_{secret}_{_checksum(secret)}"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _checksum(secret: str) -> str:
    return f"{zlib.crc32(f'{TOKEN_PREFIX}_{secret}'.encode()):08x}"


@dataclass
class Authenticator:
    """Turns an ``Authorization`` header into an :class:`Identity` (or Grafana's error)."""

    admin: AdminCredentials
    state: State
    guard: LoginGuard = field(default_factory=LoginGuard)

    def authenticate(self, header: str | None) -> Identity | None:
        """The caller, ``None`` without credentials; raises for bad credentials."""
        if not header:
            return None
        if header.startswith(BEARER_PREFIX):
            return self._bearer(header.removeprefix(BEARER_PREFIX))
        credentials = _basic_credentials(header)
        if credentials is None:
            return None
        login, password = credentials
        if login == API_KEY_LOGIN:
            return self._bearer(password)
        return self._basic(login, password)

    def _basic(self, login: str, password: str) -> Identity:
        if self.guard.blocked(login) or not password:
            raise _password_failed()
        if login != self.admin.login or not hmac.compare_digest(
                password.encode(), self.admin.password.encode()):
            self.guard.record_failure(login)
            raise _password_failed()
        return Identity(user_id=ADMIN_USER_ID, login=login, name=login, role=Role.ADMIN,
                        is_service_account=False)

    def _bearer(self, token: str) -> Identity:
        parts = token.split("_")
        if len(parts) != 3 or parts[0] != TOKEN_PREFIX or _checksum(parts[1]) != parts[2]:
            raise _invalid_key()
        digest = token_digest(token)
        stored = next((t for t in self.state.tokens.values()
                       if hmac.compare_digest(t.digest, digest)), None)
        account = None if stored is None else self.state.service_accounts.get(
            stored.service_account_id)
        if account is None or account.is_disabled:
            raise _invalid_key()
        return Identity(user_id=account.id, login=account.login, name=account.name,
                        role=Role(account.role), is_service_account=True)
