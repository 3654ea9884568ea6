"""The rehearsal kubelet's configuration: which images it can "pull" and how it runs them.

YAML (see tests/rehearsal/kubelet.yml)::

    images:                       # ordered; the first entry whose pattern matches wins
      - image: mlmon/house-price:1.0.0     # exact reference, or a glob (fnmatch) such as app:*
        command: ["{python}", "-m", "uvicorn", "house_price.api:app",
                  "--host", "{pod_ip}", "--port", "{port:http}"]
        cwd: "{repo}/app"                  # optional, default {repo}
        env: {MLMON_MODEL_PATH: "{repo}/app/house_price/artifacts/model.joblib"}  # image ENV
    crashLoopBackOff: {initialSeconds: 10, maxSeconds: 300}   # optional, kubelet defaults
    imagePullBackOff: {initialSeconds: 10, maxSeconds: 300}
    syncFrequencySeconds: 10      # retry period after a container config error
    shutdownGracePeriodSeconds: 5 # SIGTERM → SIGKILL when the cluster stops
    logDir: /some/dir             # optional; pod logs go to a temporary directory otherwise

Placeholders, in ``command``, ``cwd`` and ``env`` values: ``{python}`` (this interpreter),
``{repo}`` (the repository root), ``{pod_ip}``, ``{port:<name or number>}`` (the container port
of that name; a number stands for itself), ``{api_url}`` and ``{api_token}`` (how the process reaches
the cluster's API server: a real pod gets the same from its service account's in-cluster config,
which a local process cannot mount) and, as a whole argument only, ``{args}`` (the container's
``args`` after ``$(VAR)`` expansion). An image reference is compared in the form the
pod spec wrote it and in its normalised form (``docker.io/library/<name>:latest``).
"""

from __future__ import annotations

import fnmatch
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[4]
DEFAULT_CONFIG = REPO / "tests" / "rehearsal" / "kubelet.yml"
PLACEHOLDER = re.compile(r"\{(python|repo|pod_ip|api_url|api_token|port:[^{}]+)\}")


class KubeletConfigError(ValueError):
    """The kubelet configuration file is malformed."""


@dataclass(frozen=True)
class BackoffPolicy:
    initial: float = 10.0
    maximum: float = 300.0


@dataclass(frozen=True)
class ImageRule:
    image: str
    command: tuple[str, ...]
    cwd: str = "{repo}"
    env: tuple[tuple[str, str], ...] = ()

    def matches(self, reference: str) -> bool:
        candidates = {reference, normalize_image(reference)}
        pattern_forms = {self.image, normalize_image(self.image)}
        return any(fnmatch.fnmatchcase(c, p) for c in candidates for p in pattern_forms)


@dataclass(frozen=True)
class KubeletConfig:
    images: tuple[ImageRule, ...] = ()
    crash_backoff: BackoffPolicy = field(default_factory=BackoffPolicy)
    pull_backoff: BackoffPolicy = field(default_factory=BackoffPolicy)
    sync_frequency: float = 10.0
    shutdown_grace: float = 5.0
    log_dir: Path | None = None

    def rule_for(self, image: str) -> ImageRule | None:
        return next((rule for rule in self.images if rule.matches(image)), None)


@dataclass(frozen=True)
class Launch:
    """What the kubelet runs for one container."""

    argv: list[str]
    cwd: str
    env: dict[str, str]


def normalize_image(reference: str) -> str:
    """docker's reference normalisation: default registry, ``library/`` and ``:latest``."""
    name, digest = ([*reference.split("@", 1), ""])[:2]
    first = name.split("/", 1)[0]
    if "/" not in name or not ("." in first or ":" in first or first == "localhost"):
        name = f"docker.io/{name}"
    if name.startswith("docker.io/") and name.count("/") == 1:
        name = name.replace("docker.io/", "docker.io/library/", 1)
    if not digest and ":" not in name.rsplit("/", 1)[-1]:
        name += ":latest"
    return f"{name}@{digest}" if digest else name


def load(path: Path | None) -> KubeletConfig:
    source = path or DEFAULT_CONFIG
    try:
        data = yaml.safe_load(source.read_text()) or {}
    except (OSError, yaml.YAMLError) as err:
        raise KubeletConfigError(f"{source}: {err}") from err
    if not isinstance(data, dict):
        raise KubeletConfigError(f"{source}: expected a mapping at the top level")
    return KubeletConfig(
        images=tuple(_rule(source, i, entry) for i, entry in enumerate(data.get("images") or [])),
        crash_backoff=_backoff(data.get("crashLoopBackOff")),
        pull_backoff=_backoff(data.get("imagePullBackOff")),
        sync_frequency=float(data.get("syncFrequencySeconds", 10)),
        shutdown_grace=float(data.get("shutdownGracePeriodSeconds", 5)),
        log_dir=Path(data["logDir"]) if data.get("logDir") else None,
    )


def _rule(source: Path, index: int, entry: Any) -> ImageRule:
    where = f"{source}: images[{index}]"
    if not isinstance(entry, dict) or not isinstance(entry.get("image"), str):
        raise KubeletConfigError(f"{where}: needs an 'image' string")
    command = entry.get("command")
    if not isinstance(command, list) or not command or not all(isinstance(a, str) for a in command):
        raise KubeletConfigError(f"{where}: 'command' must be a non-empty list of strings")
    env = entry.get("env") or {}
    if not isinstance(env, dict):
        raise KubeletConfigError(f"{where}: 'env' must be a mapping")
    return ImageRule(
        image=entry["image"],
        command=tuple(command),
        cwd=str(entry.get("cwd") or "{repo}"),
        env=tuple((str(k), str(v)) for k, v in env.items()),
    )


def _backoff(data: Any) -> BackoffPolicy:
    if not data:
        return BackoffPolicy()
    return BackoffPolicy(float(data.get("initialSeconds", 10)), float(data.get("maxSeconds", 300)))


def render(
    rule: ImageRule, container: dict[str, Any], pod_ip: str, args: list[str], api: tuple[str, str] = ("", "")
) -> Launch:
    """The argv, working directory and image environment of ``container`` under ``rule``.
    Raises KeyError naming a ``{port:...}`` the container does not declare."""
    declared = container.get("ports") or []
    ports = {p["name"]: p["containerPort"] for p in declared if p.get("name")}

    def fill(text: str) -> str:
        def one(match: re.Match[str]) -> str:
            token = match.group(1)
            if token == "python":
                return sys.executable
            if token == "repo":
                return str(REPO)
            if token == "pod_ip":
                return pod_ip
            if token == "api_url":
                return api[0]
            if token == "api_token":
                return api[1]
            wanted = token.split(":", 1)[1]
            if wanted.isdigit():
                return wanted
            if wanted not in ports:
                raise KeyError(f'container "{container["name"]}" has no port named "{wanted}"')
            return str(ports[wanted])

        return PLACEHOLDER.sub(one, text)

    argv: list[str] = []
    for part in rule.command:
        if part == "{args}":
            argv.extend(args)
        else:
            argv.append(fill(part))
    return Launch(argv=argv, cwd=fill(rule.cwd), env={k: fill(v) for k, v in rule.env})
