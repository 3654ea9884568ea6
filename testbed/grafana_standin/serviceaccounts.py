"""Service accounts and their tokens (``/api/serviceaccounts``).

A service account is a user with login ``sa-1-<slug of its name>`` and an org role
(``Viewer`` when none is given). Names are unique (``400 service account already exists``),
token names are unique per org (``400``), and a token's secret is shown only in the
answer that created it: only its SHA-256 digest is kept.
"""

from __future__ import annotations

import hashlib

from .auth import new_token_secret, token_digest
from .errors import GrafanaError, public
from .identity import Role
from .naming import new_uid, slugify
from .state import ServiceAccount, State, Token, now


def not_found() -> GrafanaError:
    return public(404, "serviceaccounts.ErrNotFound", "service account not found")


def create(state: State, name: str, role: str | None) -> ServiceAccount:
    chosen = Role.VIEWER.value if role is None else role
    if chosen not in {member.value for member in Role}:
        raise public(400, "serviceaccounts.ErrInvalidRoleSpecified", "invalid role specified")
    login = f"sa-1-{slugify(name)}"
    if any(a.name == name or a.login == login for a in state.service_accounts.values()):
        raise public(400, "serviceaccounts.ErrAlreadyExists", "service account already exists")
    account = ServiceAccount(id=state.next_user_id(), uid=new_uid(), name=name, login=login,
                             role=chosen, is_disabled=False, created=now())
    state.service_accounts[account.id] = account
    return account


def get(state: State, account_id: int) -> ServiceAccount:
    account = state.service_accounts.get(account_id)
    if account is None:
        raise not_found()
    return account


def add_token(state: State, account_id: int, name: str) -> tuple[Token, str]:
    """Create a token; returns it with the secret, which is never available again."""
    get(state, account_id)
    if any(token.name == name for token in state.tokens.values()):
        raise public(400, "serviceaccounts.ErrTokenAlreadyExists",
                     "service account token with given name already exists in the "
                     "organization")
    secret = new_token_secret()
    token = Token(id=state.next_token_id(), name=name, service_account_id=account_id,
                  digest=token_digest(secret), created=now())
    state.tokens[token.id] = token
    return token, secret


def token_count(state: State, account_id: int) -> int:
    return sum(1 for token in state.tokens.values() if token.service_account_id == account_id)


def dto(state: State, account: ServiceAccount) -> dict[str, object]:
    """``serviceaccounts.ServiceAccountDTO``."""
    avatar = hashlib.md5(account.login.encode(), usedforsecurity=False).hexdigest()
    return {
        "id": account.id,
        "uid": account.uid,
        "name": account.name,
        "login": account.login,
        "orgId": 1,
        "isDisabled": account.is_disabled,
        "role": account.role,
        "tokens": token_count(state, account.id),
        "avatarUrl": f"/avatar/{avatar}",
    }


def search(state: State, query: str, per_page: int, page: int) -> dict[str, object]:
    """``SearchOrgServiceAccountsResult``: name or login containing ``query``."""
    matches = sorted((a for a in state.service_accounts.values()
                      if query.lower() in a.name.lower() or query.lower() in a.login.lower()),
                     key=lambda a: a.name.lower())
    start = per_page * (page - 1)
    return {
        "totalCount": len(matches),
        "serviceAccounts": [dto(state, a) for a in matches[start:start + per_page]],
        "page": page,
        "perPage": per_page,
    }
