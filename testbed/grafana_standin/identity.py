"""Who is calling, and what Grafana's basic roles let them do.

The permission names are Grafana's RBAC actions; the grants follow the fixed basic
roles (``basic:viewer``, ``basic:editor``, ``basic:admin``) of a default org, where
Viewers read dashboards, folders and datasources, Editors also write dashboards and
folders, and only Admins manage service accounts.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from .errors import access_denied


class Role(enum.StrEnum):
    """An org role, spelled as Grafana's API spells it."""

    NONE = "None"
    VIEWER = "Viewer"
    EDITOR = "Editor"
    ADMIN = "Admin"


_VIEWER = frozenset({
    "dashboards:read", "folders:read", "datasources:read",
})
_EDITOR = _VIEWER | {
    "dashboards:create", "dashboards:write", "dashboards:delete",
    "folders:create", "folders:write", "folders:delete",
}
_ADMIN = _EDITOR | {
    "serviceaccounts:read", "serviceaccounts:create", "serviceaccounts:write",
    "serviceaccounts:delete",
}
GRANTS: dict[Role, frozenset[str]] = {
    Role.NONE: frozenset(),
    Role.VIEWER: _VIEWER,
    Role.EDITOR: frozenset(_EDITOR),
    Role.ADMIN: frozenset(_ADMIN),
}


@dataclass(frozen=True)
class Identity:
    """A signed-in caller: the admin user or a service account."""

    user_id: int
    login: str
    name: str
    role: Role
    is_service_account: bool

    @property
    def display(self) -> str:
        """The name Grafana shows in ``createdBy``/``updatedBy``."""
        return self.name if self.is_service_account else self.login

    def can(self, action: str) -> bool:
        return action in GRANTS[self.role]


def require(identity: Identity, *actions: str, any_of: bool = False) -> None:
    """Raise the 403 Grafana's RBAC middleware answers when ``actions`` are not granted."""
    granted = [identity.can(action) for action in actions]
    if any(granted) if any_of else all(granted):
        return
    needed = ", ".join(actions)
    raise access_denied(f"any of {needed}" if any_of and len(actions) > 1 else needed)
