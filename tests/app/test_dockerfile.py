"""app/Dockerfile, checked statically (no Docker engine on these machines)."""

import json
import re

import pytest

from tests.app.appserver import APP_DIR, SERVER_OPTIONS

DOCKERFILE = APP_DIR / "Dockerfile"
PINNED_BASE = re.compile(r"^python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?$")


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            pairs.append((keyword.upper(), rest.strip()))
    return pairs


def stages() -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for keyword, rest in instructions():
        if keyword == "FROM":
            result.append([])
        if result:
            result[-1].append((keyword, rest))
    return result


def base_images() -> list[str]:
    arguments = dict(rest.split("=", 1) for keyword, rest in instructions() if keyword == "ARG" and "=" in rest)
    images = []
    for keyword, rest in instructions():
        if keyword == "FROM":
            image = rest.split()[0]
            images.append(re.sub(r"\$\{(\w+)\}", lambda m: arguments[m.group(1)], image))
    return images


def test_every_stage_uses_a_pinned_slim_python_311() -> None:
    images = base_images()
    assert len(images) >= 2, "multi-stage build expected"
    for image in images:
        assert PINNED_BASE.match(image), image
    assert "latest" not in DOCKERFILE.read_text()


def test_final_stage_runs_as_uid_10001_without_build_tools() -> None:
    final = stages()[-1]
    users = [rest for keyword, rest in final if keyword == "USER"]
    assert users and users[-1].split(":")[0] == "10001"
    final_text = " ".join(rest for _, rest in final)
    for tool in ("build-essential", "gcc", "apt-get install", "pip install"):
        assert tool not in final_text


def test_model_is_trained_at_build_time_and_copied_in() -> None:
    builder_text = " ".join(rest for stage in stages()[:-1] for _, rest in stage)
    assert "python -m house_price.train --out" in builder_text
    copies = [rest for keyword, rest in stages()[-1] if keyword == "COPY"]
    assert any("--from=builder" in c and "model.joblib" in c for c in copies)


def test_serves_on_8000_with_a_python_healthcheck() -> None:
    final = dict(stages()[-1])
    assert final["EXPOSE"] == "8000"
    assert "python" in final["HEALTHCHECK"] and "house_price.healthcheck" in final["HEALTHCHECK"]
    assert "curl" not in final["HEALTHCHECK"]
    # The tests and the benchmark serve with the same uvicorn options (tests/app/appserver.py).
    served = ["uvicorn", "house_price.api:app", "--host", "0.0.0.0", "--port", "8000"]
    assert json.loads(final["CMD"]) == [*served, *SERVER_OPTIONS]


def test_image_writes_nothing_outside_tmp() -> None:
    env = " ".join(rest for keyword, rest in stages()[-1] if keyword == "ENV")
    assert "PYTHONDONTWRITEBYTECODE=1" in env
    assert "HOME=/tmp" in env


@pytest.mark.parametrize("excluded", ["house_price/artifacts/", "**/__pycache__"])
def test_build_context_leaves_out_local_artefacts(excluded: str) -> None:
    assert excluded in (APP_DIR / ".dockerignore").read_text().splitlines()
