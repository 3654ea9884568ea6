"""Prometheus versions: parsing, comparing, and asking the installed binary for its own."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass

PROMETHEUS = "/usr/bin/prometheus"
_VERSION = re.compile(r"v?(\d+)\.(\d+)\.(\d+)")


@dataclass(frozen=True, order=True)
class Version:
    major: int
    minor: int
    patch: int

    @classmethod
    def parse(cls, text: str) -> Version:
        match = _VERSION.search(text)
        if match is None:
            raise ValueError(f"no version in {text!r}")
        return cls(*(int(part) for part in match.groups()))

    def at_least(self, text: str) -> bool:
        return self >= Version.parse(text)

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


def binary_version(binary: str = PROMETHEUS) -> Version:
    """The version ``prometheus --version`` reports (Debian's 2.42.0 here)."""
    done = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30,
                          check=True)
    return Version.parse(done.stdout + done.stderr)
