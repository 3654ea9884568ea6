"""Every role's meta/argument_specs.yml mirrors its defaults/main.yml key for key (STYLE.md rule 3).

Column: real (reads the role files ansible-playbook validates against; no cluster involved).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

SHARED_SECRET = re.compile(r"\{\{ mlmon_\w+_(?:password|token) \| default\(''\) \}\}")
ROLES = sorted(p for p in (Path(__file__).resolve().parents[2] / "roles").iterdir() if p.is_dir())


def _load(path: Path) -> dict:
    return yaml.safe_load(path.read_text()) or {}


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_argument_specs_mirror_defaults(role: Path) -> None:
    """The spec and the defaults name the same variables with the same default values."""
    defaults = _load(role / "defaults" / "main.yml")
    options = _load(role / "meta" / "argument_specs.yml")["argument_specs"]["main"]["options"]
    assert sorted(defaults) == sorted(options), f"{role.name}: defaults and argument_specs differ"
    for name, spec in options.items():
        assert spec.get("default") == defaults[name], f"{role.name}: default of {name} differs from defaults/main.yml"


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_every_option_is_typed_documented_and_prefixed(role: Path) -> None:
    """Each public variable carries the role's prefix, a type and a description."""
    options = _load(role / "meta" / "argument_specs.yml")["argument_specs"]["main"]["options"]
    for name, spec in options.items():
        assert name.startswith(f"{role.name}_"), f"{name} lacks the prefix {role.name}_"
        assert spec.get("type"), f"{role.name}: {name} has no type"
        assert spec.get("description"), f"{role.name}: {name} has no description"


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_secrets_are_not_logged_and_not_defaulted(role: Path) -> None:
    """Passwords and tokens are no_log in the spec and have no usable default.

    The only default allowed is the shared secret setting of the same kind, itself without a value in git.
    """
    options = _load(role / "meta" / "argument_specs.yml")["argument_specs"]["main"]["options"]
    for name, spec in options.items():
        if name.endswith(("_password", "_token")):
            assert spec.get("no_log") is True, f"{name} must be no_log"
            shared = SHARED_SECRET.fullmatch(spec.get("default") or "")
            assert spec.get("default") in ("", None) or shared, f"{name} must not ship a default"
