"""The README's role variable tables are generated from the argument specs and stay in step with them.

Column: real (reads the files users read; no cluster involved).
"""

from __future__ import annotations

import subprocess
import sys

from tests.playbook_runner import REPO


def test_readme_role_variables_match_argument_specs() -> None:
    proc = subprocess.run(
        [sys.executable, "scripts/role_docs.py", "--check"], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr


def test_readme_quick_start_names_the_two_commands() -> None:
    text = (REPO / "README.md").read_text()
    for command in ("make deploy", "make test"):
        assert command in text
