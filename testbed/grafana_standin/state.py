"""The Grafana stand-in's in-memory database: one org, lost when the process ends.

Folders and dashboards share one id sequence, as they share the ``dashboard`` table in
Grafana's SQL store.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .datasources import DataSource


def now() -> datetime:
    """The current time at Grafana's storage precision (whole seconds, UTC)."""
    return datetime.now(UTC).replace(microsecond=0)


def go_time(moment: datetime) -> str:
    """A ``time.Time`` as Go's JSON encoder writes a UTC value."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Folder:
    id: int
    uid: str
    title: str
    description: str
    parent_uid: str
    version: int
    created: datetime
    updated: datetime
    created_by: str
    updated_by: str


@dataclass(frozen=True)
class DashboardVersion:
    id: int
    version: int
    created: datetime
    created_by: str
    message: str


@dataclass
class Dashboard:
    id: int
    uid: str
    title: str
    folder_uid: str
    spec: dict[str, object]
    version: int
    created: datetime
    updated: datetime
    created_by: str
    updated_by: str
    history: list[DashboardVersion] = field(default_factory=list)


@dataclass
class ServiceAccount:
    id: int
    uid: str
    name: str
    login: str
    role: str
    is_disabled: bool
    created: datetime


@dataclass(frozen=True)
class Token:
    id: int
    name: str
    service_account_id: int
    digest: str
    created: datetime


@dataclass
class State:
    """Everything the server remembers."""

    datasources: list[DataSource]
    folders: dict[str, Folder] = field(default_factory=dict)
    dashboards: dict[str, Dashboard] = field(default_factory=dict)
    service_accounts: dict[int, ServiceAccount] = field(default_factory=dict)
    tokens: dict[int, Token] = field(default_factory=dict)
    _object_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _version_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _user_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(2))
    _token_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def next_object_id(self) -> int:
        """Next id of the shared folder/dashboard sequence."""
        return next(self._object_ids)

    def next_version_id(self) -> int:
        return next(self._version_ids)

    def next_user_id(self) -> int:
        """Next user id; 1 is the admin user, service accounts are users too."""
        return next(self._user_ids)

    def next_token_id(self) -> int:
        return next(self._token_ids)
