#!/usr/bin/env bash
# Assembles the kind node image IMAGE the way `kind build node-image` does (pkg/build/nodeimage of
# sigs.k8s.io/kind), which cannot run here because it pulls from registries:
#   1. the base: kind's node files on a Debian rootfs, with the Kubernetes binaries (node.Containerfile);
#   2. a container of it runs containerd, which imports every image kubeadm asks for
#      (`kubeadm config images list`) plus the sandbox image of containerd's configuration;
#   3. the container is committed with kind's entrypoint.
# CNI: kind's default, kindnetd, has no tagged Go module to build from, so the node carries a static
# ptp + host-local + portmap configuration from Debian's CNI plugins (the plugins kindnetd itself
# configures: every pod behind its own veth, routed through the node, so kube-proxy's rules see all
# Service traffic). One node is enough for mlmon; kind's disableDefaultCNI keeps kindnetd out.
# Called by images/build.sh with its environment (HERE, CACHE, versions).
set -euo pipefail
IMAGE=$1
NODE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
IMAGES=$(dirname "$NODE")
# shellcheck source=../versions.env
source "$IMAGES/versions.env"
CACHE=${MLMON_CACHE:-$HOME/.cache/mlmon}
GO_BIN=$CACHE/go-bin
KV=$KUBERNETES_VERSION

log() { printf '[node %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

preload=(
  "registry.k8s.io/kube-apiserver:$KV"
  "registry.k8s.io/kube-controller-manager:$KV"
  "registry.k8s.io/kube-scheduler:$KV"
  "registry.k8s.io/kube-proxy:$KV"
  "registry.k8s.io/etcd:$ETCD_IMAGE_TAG"
  "registry.k8s.io/coredns/coredns:$COREDNS_VERSION"
  "registry.k8s.io/pause:$PAUSE_VERSION"
)

ids=$(for i in "localhost/mlmon/rootfs-node:$DEBIAN_SUITE" "${preload[@]}"; do podman image inspect --format '{{.Id}}' "$i"; done)
k=$( { cat "$NODE"/node.Containerfile "$NODE"/cni.conflist "$NODE"/assemble.sh; echo "$ids $KIND_VERSION";
       sha256sum "$GO_BIN/kube" "$GO_BIN/crictl"; } | sha256sum | cut -c1-16)
if [ "$(podman image inspect --format '{{index .Labels "org.mlmon.inputs"}}' "$IMAGE" 2>/dev/null)" = "$k" ]; then
  log "$IMAGE: cached ($k)"
  exit 0
fi
start=$SECONDS

# kind's node files, from the sigs.k8s.io/kind module at the pinned version.
kind_dir=$(go mod download -json "sigs.k8s.io/kind@$KIND_VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"; podman rm -f mlmon-node-build >/dev/null 2>&1 || true' EXIT
cp -r "$kind_dir/images/base/files" "$ctx/kind-files"
chmod -R u+w "$ctx/kind-files"
# kind's containerd configuration, for containerd 1.6 from Debian: the sandbox image kubeadm v1.34 names;
# no fuse-overlayfs snapshotter (kind uses it only for rootless nodes; Debian does not package it); and
# restrict_oom_score_adj, as kind sets it for rootless nodes: without CAP_SYS_RESOURCE (measured here)
# runc cannot give the pause container its oom_score_adj of -998 and every sandbox fails with "can't get
# final child's PID from pipe: EOF".
sed -e "s|sandbox_image = \"registry.k8s.io/pause:[^\"]*\"|sandbox_image = \"registry.k8s.io/pause:$PAUSE_VERSION\"|" \
    -e 's|restrict_oom_score_adj = false|restrict_oom_score_adj = true|' \
    -e '/^\[proxy_plugins/,/^  address = /d' \
    "$ctx/kind-files/etc/containerd/config.toml" >"$ctx/containerd-config.toml"
grep -q "pause:$PAUSE_VERSION" "$ctx/containerd-config.toml"
grep -q "restrict_oom_score_adj = true" "$ctx/containerd-config.toml"
rm -f "$ctx/kind-files/etc/containerd/config.toml" "$ctx/kind-files/etc/systemd/system/containerd-fuse-overlayfs.service"
cp "$NODE/cni.conflist" "$ctx/"
cp "$GO_BIN/kube" "$GO_BIN/crictl" "$ctx/"
echo "$KV" >"$ctx/version"
log "building the base"
podman build --quiet --format docker --build-arg "DEBIAN_SUITE=$DEBIAN_SUITE" -f "$NODE/node.Containerfile" \
  -t localhost/mlmon/kind-node-base:build "$ctx" >/dev/null

# Preload: the images kubeadm will ask for must be exactly the ones built here.
want=$(podman run --rm --entrypoint /usr/bin/kubeadm localhost/mlmon/kind-node-base:build \
  config images list --kubernetes-version "$KV" | grep -v pause | sort)
have=$(printf '%s\n' "${preload[@]}" | grep -v pause | sort)
if [ "$want" != "$have" ]; then
  echo "kubeadm $KV asks for:"$'\n'"$want"$'\n'"but images/versions.env builds:"$'\n'"$have" >&2
  exit 1
fi

podman run -d --name mlmon-node-build --privileged --entrypoint sleep localhost/mlmon/kind-node-base:build infinity >/dev/null
podman exec -d mlmon-node-build sh -c 'containerd >/var/log/containerd-build.log 2>&1'
for _ in $(seq 1 60); do
  podman exec mlmon-node-build ctr info >/dev/null 2>&1 && break
  sleep 1
done
log "preloading ${#preload[@]} images"
podman save --format docker-archive -m "${preload[@]}" \
  | podman exec -i mlmon-node-build ctr --namespace=k8s.io images import --all-platforms --no-unpack -
podman exec mlmon-node-build ctr --namespace=k8s.io images list -q | sort
podman exec mlmon-node-build sh -c 'pkill containerd; while pgrep -x containerd >/dev/null; do sleep 0.2; done
  rm -rf /var/log/containerd-build.log /run/containerd'
podman stop -t 0 mlmon-node-build >/dev/null 2>&1
podman commit --quiet --format docker \
  --change 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' \
  --change 'ENV HTTP_PROXY="" HTTPS_PROXY="" NO_PROXY=""' \
  --change "LABEL org.mlmon.inputs=$k" \
  mlmon-node-build "$IMAGE" >/dev/null
podman rm -f mlmon-node-build >/dev/null
podman rmi localhost/mlmon/kind-node-base:build >/dev/null
log "$IMAGE: assembled in $((SECONDS - start)) s"
