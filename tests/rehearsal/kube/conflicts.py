"""Apply conflicts, reported as kube-apiserver reports them (409 with ``FieldManagerConflict`` causes).

``Clash`` is raised inside the field manager with the conflicting fields per manager;
``conflict_error(found)`` turns them into the :class:`ApplyConflict` the server answers:
``Apply failed with 1 conflict: conflict with "hpa" using apps/v1: .spec.replicas``, or for
several, ``Apply failed with 2 conflicts: conflicts with "ci":\\n- .spec.replicas\\n- ...``,
managers in the order of their identifiers, paths in field-set order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import ApiError, Cause
from .fieldpath import FieldSet, Path, path_string
from .managed import ManagerId

__all__ = ["ApplyConflict", "Clash", "Conflict", "conflict_error"]


@dataclass(frozen=True)
class Conflict:
    """A field another manager owns that the apply would change."""

    manager: str
    path: str
    operation: str
    api_version: str
    subresource: str

    @staticmethod
    def of(identity: ManagerId, path: Path) -> Conflict:
        return Conflict(
            identity.manager, path_string(path), identity.operation, identity.api_version,
            identity.subresource,
        )


@dataclass
class ApplyConflict(ApiError):
    """409 Conflict: the apply changes fields other managers own."""

    conflicts: list[Conflict] = field(default_factory=list)


class Clash(Exception):
    """Conflicts found by one apply attempt, per manager (``merge.Conflicts``)."""

    def __init__(self, found: dict[ManagerId, FieldSet]) -> None:
        super().__init__(found)
        self.found = found


def conflict_error(found: dict[ManagerId, FieldSet]) -> ApplyConflict:
    managers = sorted(found, key=ManagerId.key)
    pairs = [(identity, path) for identity in managers for path in found[identity].paths()]
    causes = [
        Cause("FieldManagerConflict", f"conflict with {identity.describe()}", path_string(path))
        for identity, path in pairs
    ]
    if len(pairs) == 1:
        identity, path = pairs[0]
        message = (
            f"Apply failed with 1 conflict: conflict with {identity.describe()}: "
            f"{path_string(path)}"
        )
    else:
        lines = []
        for identity in managers:
            lines.append(f"conflicts with {identity.describe()}:")
            lines.extend(f"- {path_string(p)}" for p in found[identity].paths())
        message = f"Apply failed with {len(pairs)} conflicts: " + "\n".join(lines)
    return ApplyConflict(
        409,
        "Conflict",
        message,
        {"causes": [c.as_dict() for c in causes]},
        conflicts=[Conflict.of(identity, path) for identity, path in pairs],
    )
