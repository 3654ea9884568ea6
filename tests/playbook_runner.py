"""Run the real ansible-playbook the way a user does and read its PLAY RECAP."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
RECAP = re.compile(
    r"^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
    r"\s+failed=(?P<failed>\d+)\s+skipped=(?P<skipped>\d+)\s+rescued=(?P<rescued>\d+)\s+ignored=(?P<ignored>\d+)",
    re.MULTILINE,
)


@dataclass
class PlaybookRun:
    """The outcome of one ansible-playbook run."""

    returncode: int
    output: str
    recap: dict[str, dict[str, int]]

    @property
    def changed(self) -> int:
        return sum(host["changed"] for host in self.recap.values())

    @property
    def failed(self) -> int:
        return sum(host["failed"] + host["unreachable"] for host in self.recap.values())

    def tail(self, lines: int = 80) -> str:
        return "\n".join(self.output.splitlines()[-lines:])


def playbook_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a user's shell after `make setup`: the venv first on PATH, the repo's ansible.cfg."""
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["ANSIBLE_CONFIG"] = str(REPO / "ansible.cfg")
    env["ANSIBLE_NOCOLOR"] = "1"
    env["ANSIBLE_FORCE_COLOR"] = "0"
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def run_playbook(
    playbook: str | Path,
    *args: str,
    inventory: str | Path | None = None,
    extra_vars: dict | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 900,
) -> PlaybookRun:
    """Run ansible-playbook from the repository root and return its output and recap."""
    cmd = [str(BIN / "ansible-playbook"), str(playbook)]
    if inventory is not None:
        cmd += ["-i", str(inventory)]
    if extra_vars:
        cmd += ["-e", json.dumps(extra_vars)]
    cmd += list(args)
    proc = subprocess.run(
        cmd, cwd=REPO, env=playbook_env(env), capture_output=True, text=True, timeout=timeout, check=False
    )
    output = proc.stdout + proc.stderr
    recap = {m["host"]: {k: int(v) for k, v in m.groupdict().items() if k != "host"} for m in RECAP.finditer(output)}
    return PlaybookRun(proc.returncode, output, recap)


def run_playbook_json(playbook: str | Path, variables_file: Path, variables: dict, *args: str) -> tuple[int, dict, str]:
    """ansible-playbook with ``variables`` in ``variables_file`` (`-e @file`) and the JSON callback.

    Returns the exit code, the callback's report and stderr.
    """
    variables_file.write_text(json.dumps(variables))
    proc = subprocess.run(
        [str(BIN / "ansible-playbook"), str(playbook), "-e", f"@{variables_file}", *args],
        cwd=REPO,
        env=playbook_env({"ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json"}),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.stdout, proc.stderr
    return proc.returncode, json.loads(proc.stdout), proc.stderr
