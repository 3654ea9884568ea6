"""Every variable a role defines in defaults/ or vars/ is read somewhere in that role.

Column: real (reads the role files). A variable set and never read misleads whoever sets it: the
README's table offers it, and nothing happens.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.playbook_runner import REPO

ROLES = sorted(path for path in (REPO / "roles").iterdir() if (path / "tasks").is_dir())
SOURCES = (".yml", ".yaml", ".j2", ".py", ".json")


def definitions(role: Path) -> list[str]:
    names = []
    for kind in ("defaults", "vars"):
        path = role / kind / "main.yml"
        if path.exists():
            names += list(yaml.safe_load(path.read_text()) or {})
    return names


def role_text(role: Path) -> str:
    """The role's files where a variable can be read: everything but meta/ (the argument specs name them all)."""
    files = [f for f in role.rglob("*") if f.is_file() and f.suffix in SOURCES]
    return "\n".join(f.read_text() for f in files if "meta" not in f.relative_to(role).parts)


def unread(role: Path) -> list[str]:
    """Variables defined once and never named again (a read is a Jinja expression, a when:, a loop:)."""
    text = role_text(role)
    return [name for name in definitions(role) if len(re.findall(rf"(?<![\w.]){re.escape(name)}(?!\w)", text)) < 2]


@pytest.mark.parametrize("role", ROLES, ids=lambda role: role.name)
def test_every_defined_variable_is_read(role: Path) -> None:
    assert unread(role) == [], f"{role.name} defines and never reads: {unread(role)}"


def test_the_check_finds_an_unread_variable(tmp_path: Path) -> None:
    """The same check on a role with one unread default names it (the test can fail)."""
    role = tmp_path / "probe"
    (role / "defaults").mkdir(parents=True)
    (role / "tasks").mkdir()
    (role / "defaults" / "main.yml").write_text("probe_read: 1\nprobe_unread: 2\n")
    (role / "tasks" / "main.yml").write_text("- ansible.builtin.debug:\n    msg: \"{{ probe_read }}\"\n")
    assert unread(role) == ["probe_unread"]
