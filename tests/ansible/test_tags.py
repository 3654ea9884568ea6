"""The README's tag table lists every tag the roles have, and nothing else.

Column: real (reads README.md and each role's tasks/main.yml). That each listed tag works alone on a
converged cluster is tested on kind (tests/e2e/test_site.py::test_every_tag_of_the_readme_works_alone).
"""

from __future__ import annotations

import re

import yaml

from tests.playbook_runner import REPO

TABLE_ROW = re.compile(r"^\| `(?P<role>\w+)` \| (?P<tags>(?:`\w+`(?:, )?)+) \|", re.MULTILINE)
REMOVAL = re.compile(r"_(remove|delete)$")


def readme_tags() -> dict[str, list[str]]:
    """role -> tags, from the README's "Roles, tags, reruns" table."""
    section = (REPO / "README.md").read_text().split("## Roles, tags, reruns", 1)[1].split("\n## ", 1)[0]
    return {m["role"]: re.findall(r"`(\w+)`", m["tags"]) for m in TABLE_ROW.finditer(section)}


def role_tags(role: str) -> set[str]:
    """Every tag on the imports of the role's tasks/main.yml, but its removal (playbooks/teardown.yml's)."""

    def tags(tasks: list[dict]) -> set[str]:
        found = set()
        for task in tasks:
            found |= set(task.get("tags", [])) | tags(task.get("block", []))
        return found

    tasks = yaml.safe_load((REPO / "roles" / role / "tasks" / "main.yml").read_text())
    return {tag for tag in tags(tasks) if not REMOVAL.search(tag)}


def test_the_table_names_every_role_and_each_role_first_by_its_own_tag() -> None:
    table = readme_tags()
    roles = sorted(path.name for path in (REPO / "roles").iterdir() if (path / "tasks" / "main.yml").exists())
    assert sorted(table) == roles
    assert all(tags[0] == role for role, tags in table.items())


def test_the_table_lists_exactly_the_tags_of_each_role() -> None:
    for role, tags in readme_tags().items():
        assert set(tags) == role_tags(role), role
