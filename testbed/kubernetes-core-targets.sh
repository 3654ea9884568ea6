#!/usr/bin/env bash
# Run kubernetes.core's own integration targets k8s_delete and k8s_info against the project's kind
# cluster, by hand: the two targets the retired Kubernetes emulation failed (a DaemonSet; pods with an
# init container and their own command), now evidence that the cluster mlmon tests on is a real one.
#
# Usage: testbed/kubernetes-core-targets.sh KUBERNETES_CORE_CHECKOUT [TARGET...]
#   KUBERNETES_CORE_CHECKOUT  a git checkout of github.com/ansible-collections/kubernetes.core (not
#                             committed here); its tag $KUBERNETES_CORE_TAG (the installed collection's
#                             version) is used.
#   The cluster: `make deploy` (or `ansible-playbook site.yml --tags kind_cluster ...`) leaves kind's
#   "mlmon" with its kubeconfig in $KUBECONFIG (default ~/.kube/mlmon-kind.yaml).
#
# No registry is reachable here, so the images the targets name (nginx, alpine, openjdk:17,
# python:3.7-alpine, busybox, kuard) are one local image that sleeps, tagged under those names and
# loaded into the node, and the three targets' pulls of `latest` or `Always` are changed to
# IfNotPresent in the copy. k8s_info's discovery tasks apply KubeVirt's manifests from github.com,
# which this machine cannot reach: they are left out of the copy's task list. Nothing else in the
# targets is changed; their own assertions decide. Each target's full log is kept in $LOG_DIR.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")
CHECKOUT=${1:?usage: $0 KUBERNETES_CORE_CHECKOUT [TARGET...]}
shift
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(k8s_delete k8s_info)
BIN=$REPO/.venv/bin
KUBERNETES_CORE_TAG=${KUBERNETES_CORE_TAG:-$("$BIN/python" -c '
import json, pathlib, ansible_collections.kubernetes.core as c
print(json.loads((pathlib.Path(c.__path__[0]) / "MANIFEST.json").read_text())["collection_info"]["version"])')}
export KUBECONFIG=${KUBECONFIG:-$HOME/.kube/mlmon-kind.yaml}
CLUSTER=${CLUSTER:-mlmon}
ENGINE=${ENGINE:-podman}
if [ "$ENGINE" = podman ]; then
  export CONTAINERS_CONF=$REPO/roles/kind_cluster/files/containers.conf KIND_EXPERIMENTAL_PROVIDER=podman
fi

LOG_DIR=${LOG_DIR:-$REPO/build/kubernetes-core-targets}
mkdir -p "$LOG_DIR"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git -C "$CHECKOUT" archive "$KUBERNETES_CORE_TAG" tests/integration/targets | tar -x -C "$work"
targets=$work/tests/integration/targets
echo "kubernetes.core $KUBERNETES_CORE_TAG targets ${TARGETS[*]} on kind cluster $CLUSTER ($KUBECONFIG)"

# One image for every name the targets use.
image=localhost/mlmon/k8s-target-sleeper:1
printf 'FROM localhost/mlmon/python:3.11-bookworm\nCMD ["sleep", "infinity"]\n' \
  | "$ENGINE" build --quiet -t "$image" -f - "$work" >/dev/null
names=(docker.io/library/nginx:latest docker.io/library/alpine:latest docker.io/library/openjdk:17
  docker.io/library/python:3.7-alpine docker.io/library/busybox:latest gcr.io/kuar-demo/kuard-amd64:1)
for name in "${names[@]}"; do "$ENGINE" tag "$image" "$name"; done
"$ENGINE" save --format docker-archive -o "$work/images.tar" "${names[@]}"
"$BIN/kind" load image-archive "$work/images.tar" --name "$CLUSTER"

# KubeVirt from github.com: out of reach here.
sed -i '/^    - discovery$/d' "$targets/k8s_info/tasks/main.yml"
grep -q discovery "$targets/k8s_info/tasks/main.yml" && { echo "could not leave out k8s_info's discovery tasks" >&2; exit 2; }

# The pulls that would go to a registry: IfNotPresent instead.
sed -i 's/imagePullPolicy: Always/imagePullPolicy: IfNotPresent/' "$targets/k8s_delete/defaults/main.yml"
sed -i 's/^\(        image: \(nginx\|alpine\)\)$/\1\n        imagePullPolicy: IfNotPresent/' \
  "$targets/k8s_delete/files/deployments.yaml"

# As ansible-test sets it up: the cluster's kubeconfig as the default ~/.kube/config (k8s_info's
# api-server-caching tasks remove and restore it), in a home of its own.
export HOME=$work/home
mkdir -p "$HOME/.kube"
cp "$KUBECONFIG" "$HOME/.kube/config"
unset KUBECONFIG

status=0
for target in "${TARGETS[@]}"; do
  # The targets call the modules by short name, as ansible-test runs them inside the collection.
  sed -i 's/^- connection: local$/- connection: local\n  collections: [kubernetes.core]/' "$targets/$target/playbook.yaml"
  start=$SECONDS
  if (cd "$targets/$target" && PATH=$BIN:$PATH ANSIBLE_ROLES_PATH=.. ANSIBLE_CALLBACKS_ENABLED=profile_tasks \
      "$BIN/ansible-playbook" -i localhost, -e "ansible_python_interpreter=$BIN/python" playbook.yaml) >"$LOG_DIR/$target.log" 2>&1; then
    result=passed
  else
    result=FAILED
    status=1
  fi
  echo "$target: $result in $((SECONDS - start)) s; $(grep -E '^localhost ' "$LOG_DIR/$target.log" | tr -s ' ')"
  [ "$result" = passed ] || echo "see $LOG_DIR/$target.log"
done
exit $status
