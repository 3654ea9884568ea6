"""``metadata.managedFields`` read and written as k8s.io/apimachinery's managedfields does.

A manager is identified by :class:`ManagerId` (name, operation, subresource, and apiVersion for
``Update`` entries only: one ``Apply`` entry per name follows the applier across versions).
:func:`decode` turns managedFields entries into ``{ManagerId: Owned}``; :func:`encode` turns
them back, sorted as the server sorts them (operation, time in seconds, manager, apiVersion,
subresource), each entry's keys in the order the server writes them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from .fieldpath import FieldSet

__all__ = ["ManagerId", "Owned", "decode", "encode", "seconds"]

APPLY = "Apply"
UPDATE = "Update"


@dataclass(frozen=True)
class ManagerId:
    manager: str
    operation: str
    api_version: str = ""
    subresource: str = ""

    @staticmethod
    def of(manager: str, operation: str, api_version: str, subresource: str) -> ManagerId:
        return ManagerId(
            manager or "unknown",
            operation,
            "" if operation == APPLY else api_version,
            subresource,
        )

    def key(self) -> str:
        """The JSON identifier the server keys managers by (and sorts conflicts by)."""
        entry = {
            "manager": self.manager,
            "operation": self.operation,
            "apiVersion": self.api_version,
            "subresource": self.subresource,
        }
        return json.dumps({k: v for k, v in entry.items() if v}, separators=(",", ":"))

    def describe(self) -> str:
        """How conflict messages name the manager (``printManager``)."""
        text = json.dumps(self.manager)
        if self.subresource:
            text += f" with subresource {json.dumps(self.subresource)}"
        if self.operation == UPDATE:
            text += f" using {self.api_version}"
        return text


@dataclass(frozen=True)
class Owned:
    """The fields a manager owns, at which apiVersion, and when it last changed them."""

    fields: FieldSet
    api_version: str
    time: str | None = None

    def with_fields(self, fields: FieldSet) -> Owned:
        return replace(self, fields=fields)


Managers = dict[ManagerId, Owned]


def decode(entries: Any) -> Managers:
    """Managed fields from ``metadata.managedFields``; ``ValueError`` for an invalid entry."""
    managers: Managers = {}
    for index, entry in enumerate(entries or ()):
        if not isinstance(entry, dict):
            raise ValueError(f"managed fields entry {index} is not an object")
        operation = entry.get("operation")
        if operation not in (APPLY, UPDATE):
            raise ValueError("operation must be `Apply` or `Update`")
        api_version = entry.get("apiVersion") or ""
        if not api_version:
            raise ValueError("apiVersion must not be empty")
        fields_type = entry.get("fieldsType") or ""
        if fields_type != "FieldsV1":
            if not fields_type:
                raise ValueError(f"missing fieldsType in managed fields entry {index}")
            raise ValueError(f"invalid fieldsType {fields_type!r} in managed fields entry {index}")
        identity = ManagerId(
            entry.get("manager") or "",
            operation,
            "" if operation == APPLY else api_version,
            entry.get("subresource") or "",
        )
        fields = FieldSet.from_fields_v1(entry.get("fieldsV1") or {})
        managers[identity] = Owned(fields, api_version, entry.get("time"))
    return managers


def seconds(time: str | None) -> int:
    if not time:
        return 0
    try:
        return int(datetime.fromisoformat(time.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return 0


def encode(managers: Managers) -> list[dict[str, Any]]:
    """``metadata.managedFields`` for the given managers (``[]`` when there are none)."""
    entries = []
    for identity, owned in managers.items():
        entry: dict[str, Any] = {"manager": identity.manager, "operation": identity.operation}
        entry["apiVersion"] = owned.api_version
        if owned.time:
            entry["time"] = owned.time
        entry["fieldsType"] = "FieldsV1"
        entry["fieldsV1"] = owned.fields.to_fields_v1()
        if identity.subresource:
            entry["subresource"] = identity.subresource
        entries.append(entry)
    entries.sort(
        key=lambda e: (
            e["operation"],
            seconds(e.get("time")),
            e["manager"],
            e["apiVersion"],
            e.get("subresource", ""),
        )
    )
    return entries
