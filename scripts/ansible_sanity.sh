#!/usr/bin/env bash
# ansible-test sanity on the collection's plugins and metadata, as the collection is in this checkout
# (tracked and new files). ansible-test must run from ansible_collections/<namespace>/<name>: the
# files are copied to such a tree under a temporary directory first.
# Usage: scripts/ansible_sanity.sh [ansible-test sanity options]
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
BIN=$REPO/.venv/bin
PIP_VERSION=$("$BIN/python" -c 'from ansible_test._internal.python_requirements import get_venv_packages
from ansible_test._internal.host_configs import NativePythonConfig
print(get_venv_packages(NativePythonConfig(version="3.11"))["pip"])')
cache=$HOME/.ansible/test/cache/get_pip_${PIP_VERSION//./_}.py
mkdir -p "$(dirname "$cache")"
cmp -s "$REPO/scripts/get_pip_offline.py" "$cache" 2>/dev/null || cp "$REPO/scripts/get_pip_offline.py" "$cache"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dest=$work/ansible_collections/mlmon/monitoring
mkdir -p "$dest"
(cd "$REPO" && git ls-files -z --cached --others --exclude-standard | tar --null -T - --ignore-failed-read -cf - 2>/dev/null) \
  | tar -x -C "$dest"
# k8s_apply imports kubernetes.core's module_utils: the dependency sits beside the collection, as installed.
mkdir -p "$work/ansible_collections/kubernetes"
ln -s "$("$BIN/python" -c 'import ansible_collections.kubernetes.core as m; print(list(m.__path__)[0])')" \
  "$work/ansible_collections/kubernetes/core"
cd "$dest"
"$BIN/ansible-test" sanity --python 3.11 --local "$@" plugins/ meta/
