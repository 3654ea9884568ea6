#!/usr/bin/env bash
# Builds every binary and container image a kind cluster needs on a machine without a registry, from
# upstream Go modules at the exact versions of images/versions.env and from Debian packages:
#
#   go       Kubernetes (one multi-call binary), etcd, CoreDNS, crictl, kind, prometheus-operator and
#            its config reloader, Prometheus, Alertmanager, kube-state-metrics, node_exporter
#   pause    the pause program, compiled from the C source in the k8s.io/kubernetes module
#   rootfs   Debian rootfs trees (debootstrap): the kind node, a minimal base, a Python base
#   kube_images   the Kubernetes images kubeadm runs, under their upstream names
#   node          the kind node image, assembled the way `kind build node-image` does it
#   own_images    the project's own: a Python base and the Grafana stand-in (localhost/mlmon/...)
#   stack_images  the Prometheus stack's images, under the names and tags the chart uses
#   chart         the stand-in chart with prometheus-operator's real CRDs, in $MLMON_CACHE/charts
#
# Usage: images/build.sh [step...] (default: all of them, in that order). Outputs are cached outside
# the checkout in $MLMON_CACHE (default ~/.cache/mlmon) and in podman's image store, each keyed by a
# hash of its inputs, so a second run builds nothing. Needs root, go, podman, runc, debootstrap, gcc.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$HERE")
# shellcheck source=versions.env
source "$HERE/versions.env"
CACHE=${MLMON_CACHE:-$HOME/.cache/mlmon}
export CONTAINERS_CONF=${CONTAINERS_CONF:-$REPO/roles/kind_cluster/files/containers.conf}
export GOFLAGS=-mod=mod CGO_ENABLED=0
NODE_IMAGE=localhost/mlmon/kind-node:$KUBERNETES_VERSION
GO_BIN=$CACHE/go-bin

log() { printf '[images %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

# key FILE_OR_STRING...: a short hash of the named files' contents (not their paths: a clone elsewhere
# shares the cache) and of the other words.
key() {
  local arg
  for arg in "$@"; do
    if [ -f "$arg" ]; then sha256sum <"$arg"; else printf '%s\n' "$arg"; fi
  done | sha256sum | cut -c1-16
}

# done_or_run NAME KEY COMMAND...: runs COMMAND unless NAME was built with KEY before.
stamp_dir=$CACHE/stamps
done_or_run() {
  local name=$1 k=$2
  shift 2
  if [ -e "$stamp_dir/$name.$k" ]; then
    log "$name: cached ($k)"
    return 0
  fi
  local start=$SECONDS
  log "$name: building ($k)"
  "$@"
  mkdir -p "$stamp_dir"
  rm -f "$stamp_dir/$name".*
  touch "$stamp_dir/$name.$k"
  log "$name: built in $((SECONDS - start)) s"
}

# image_current NAME KEY: the image exists and was built from inputs with KEY.
image_current() {
  [ "$(podman image inspect --format '{{index .Labels "org.mlmon.inputs"}}' "$1" 2>/dev/null)" = "$2" ]
}

# ---------------------------------------------------------------------------------------------- go
go_version=$(go env GOVERSION)

build_kube() {
  local v=$KUBERNETES_VERSION minor ld="-s -w" p
  minor=${v#v1.}
  minor=${minor%%.*}
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $p.gitVersion=$v -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  done
  mkdir -p "$GO_BIN"
  (cd "$HERE/kubernetes" && go build -trimpath -tags selinux,notest -ldflags "$ld" -o "$GO_BIN/kube" .)
}

build_etcd() {
  local ld="-s -w"
  (cd "$HERE/etcd" \
    && go build -trimpath -ldflags "$ld" -o "$GO_BIN/etcd" go.etcd.io/etcd/server/v3 \
    && go build -trimpath -ldflags "$ld" -o "$GO_BIN/etcdctl" go.etcd.io/etcd/etcdctl/v3)
}

# go_install MODULE@VERSION [ldflags]: a module whose go.mod has no replace lines installs as it is.
go_install() {
  GOBIN=$GO_BIN go install -trimpath -ldflags "-s -w ${2:-}" "$1"
}

# The version variables of github.com/prometheus/common/version, as the projects' Makefiles set them.
prom_ldflags() {
  local p=github.com/prometheus/common/version
  echo "-X $p.Version=${1#v} -X $p.Branch=HEAD -X $p.BuildUser=mlmon -X $p.Revision=$1"
}

build_operator() {
  (cd "$HERE/prometheus-operator" \
    && go build -trimpath -ldflags "-s -w $(prom_ldflags "$PROMETHEUS_OPERATOR_VERSION")" -o "$GO_BIN/operator" \
      github.com/prometheus-operator/prometheus-operator/cmd/operator \
    && go build -trimpath -ldflags "-s -w $(prom_ldflags "$PROMETHEUS_OPERATOR_VERSION")" \
      -o "$GO_BIN/prometheus-config-reloader" \
      github.com/prometheus-operator/prometheus-operator/cmd/prometheus-config-reloader)
}

# Kubernetes service discovery only (Prometheus's own remove_all_sd/enable_kubernetes_sd build tags):
# the operator generates nothing else, and the cloud SDKs would double the compile time. The web UI's
# compiled assets are not in the Go module (builtinassets), so the UI pages are absent; the API is whole.
build_prometheus() {
  (cd "$HERE/prometheus" \
    && go build -trimpath -tags netgo,remove_all_sd,enable_kubernetes_sd \
      -ldflags "-s -w $(prom_ldflags "$PROMETHEUS_VERSION")" -o "$GO_BIN/prometheus" \
      github.com/prometheus/prometheus/cmd/prometheus \
    && go build -trimpath -tags netgo -ldflags "-s -w $(prom_ldflags "$PROMETHEUS_VERSION")" \
      -o "$GO_BIN/promtool" github.com/prometheus/prometheus/cmd/promtool)
}

step_go() {
  done_or_run kube "$(key "$go_version" "$KUBERNETES_VERSION" "$HERE/kubernetes/go.mod" "$HERE/kubernetes/main.go")" build_kube
  done_or_run etcd "$(key "$go_version" "$HERE/etcd/go.mod")" build_etcd
  done_or_run coredns "$(key "$go_version" "coredns@$COREDNS_VERSION")" go_install "github.com/coredns/coredns@$COREDNS_VERSION" \
    "-X github.com/coredns/coredns/coremain.GitCommit=$COREDNS_VERSION"
  done_or_run crictl "$(key "$go_version" "crictl@$CRICTL_VERSION")" go_install "sigs.k8s.io/cri-tools/cmd/crictl@$CRICTL_VERSION" \
    "-X sigs.k8s.io/cri-tools/pkg/version.Version=$CRICTL_VERSION"
  done_or_run kind "$(key "$go_version" "kind@$KIND_VERSION")" go_install "sigs.k8s.io/kind@$KIND_VERSION"
  done_or_run prometheus-operator "$(key "$go_version" "$HERE/prometheus-operator/go.mod")" build_operator
  done_or_run prometheus "$(key "$go_version" "$HERE/prometheus/go.mod")" build_prometheus
  done_or_run alertmanager "$(key "$go_version" "alertmanager@$ALERTMANAGER_VERSION")" go_install \
    "github.com/prometheus/alertmanager/cmd/alertmanager@$ALERTMANAGER_VERSION" "$(prom_ldflags "$ALERTMANAGER_VERSION")"
  done_or_run kube-state-metrics "$(key "$go_version" "kube-state-metrics@$KUBE_STATE_METRICS_VERSION")" go_install \
    "k8s.io/kube-state-metrics/v2@$KUBE_STATE_METRICS_VERSION" \
    "-X github.com/prometheus/common/version.Version=$KUBE_STATE_METRICS_VERSION"
  done_or_run node_exporter "$(key "$go_version" "node_exporter@$NODE_EXPORTER_VERSION")" go_install \
    "github.com/prometheus/node_exporter@$NODE_EXPORTER_VERSION" "$(prom_ldflags "$NODE_EXPORTER_VERSION")"
}

# ------------------------------------------------------------------------------------------- pause
# The pause program is C in the k8s.io/kubernetes module (build/pause/linux/pause.c); compiled static
# with Debian's gcc, as upstream's build/pause/Makefile does.
build_pause() {
  local src
  src=$(go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
  mkdir -p "$GO_BIN"
  gcc -Os -Wall -Werror -static -DVERSION="v$PAUSE_VERSION-mlmon" -o "$GO_BIN/pause" "$src/build/pause/linux/pause.c"
  strip "$GO_BIN/pause"
}

step_pause() {
  done_or_run pause "$(key "$KUBERNETES_VERSION" "$PAUSE_VERSION" "$(gcc -dumpfullversion)")" build_pause
}

# ------------------------------------------------------------------------------------------ rootfs
# rootfs NAME PACKAGES: a Debian tree from debootstrap, imported as localhost/mlmon/rootfs-NAME.
NODE_PACKAGES=systemd,systemd-sysv,dbus,containerd,runc,containernetworking-plugins,iptables,nftables,iproute2,ethtool,util-linux,mount,kmod,conntrack,socat,ca-certificates,procps,libseccomp2,pigz,fuse-overlayfs,e2fsprogs,jq
MINBASE_PACKAGES=ca-certificates,iptables,nftables,conntrack,ipset,kmod
PYTHON_PACKAGES=ca-certificates,python3,python3-venv,python3-pip

rootfs() {
  local name=$1 packages=$2 image=localhost/mlmon/rootfs-$1:$DEBIAN_SUITE k tree
  k=$(key "$DEBIAN_SUITE" "$DEBIAN_MIRROR" "$packages" rootfs-v1)
  if image_current "$image" "$k"; then
    log "rootfs $name: cached ($k)"
    return 0
  fi
  local start=$SECONDS
  log "rootfs $name: debootstrap $DEBIAN_SUITE ($k)"
  tree=$CACHE/rootfs/$name
  rm -rf "$tree"
  mkdir -p "$tree"
  debootstrap --variant=minbase --include="$packages" "$DEBIAN_SUITE" "$tree" "$DEBIAN_MIRROR" >"$CACHE/rootfs/$name.log" 2>&1 \
    || { tail -20 "$CACHE/rootfs/$name.log" >&2; return 1; }
  rm -rf "$tree"/var/cache/apt/archives/*.deb "$tree"/var/lib/apt/lists/*
  tar -C "$tree" -c . | podman import --change "LABEL org.mlmon.inputs=$k" - "$image" >/dev/null
  rm -rf "$tree"
  log "rootfs $name: built in $((SECONDS - start)) s"
}

step_rootfs() {
  mkdir -p "$CACHE/rootfs"
  rootfs node "$NODE_PACKAGES"
  rootfs minbase "$MINBASE_PACKAGES"
  rootfs python "$PYTHON_PACKAGES"
}

# ------------------------------------------------------------------------------------------ images
# image NAME CONTEXT_FILES...: podman build of images/containerfiles/<file> with the binaries staged
# in a temporary context; the label records the inputs so an unchanged image is not rebuilt.
build_image() {
  local image=$1 containerfile=$2 k=$3
  shift 3
  if image_current "$image" "$k"; then
    log "image $image: cached ($k)"
    return 0
  fi
  local ctx start=$SECONDS
  ctx=$(mktemp -d)
  [ $# -eq 0 ] || cp -a "$@" "$ctx/"
  # FILE_CAPS="file=caps": file capabilities a non-root binary needs (COPY keeps the xattr).
  if [ -n "${FILE_CAPS:-}" ]; then setcap "${FILE_CAPS#*=}" "$ctx/${FILE_CAPS%%=*}"; fi
  podman build --quiet --format docker --label "org.mlmon.inputs=$k" --build-arg "DEBIAN_SUITE=$DEBIAN_SUITE" \
    -f "$HERE/containerfiles/$containerfile" -t "$image" "$ctx" >/dev/null
  rm -rf "$ctx"
  log "image $image: built in $((SECONDS - start)) s"
}

# bin_key CONTAINERFILE STAMP...: an image's key, from its Containerfile and its binaries' stamps.
bin_key() { key "$HERE/containerfiles/$1" "${@:2}"; }

step_kube_images() {
  local b=$GO_BIN kv=$KUBERNETES_VERSION c
  # The Kubernetes components share one base layer with the multi-call binary; each image adds a link.
  build_image localhost/mlmon/kube-base:$kv kube-base.Containerfile "$(bin_key kube-base.Containerfile "$(ls "$stamp_dir"/kube.*)")" "$b/kube"
  for c in kube-apiserver kube-controller-manager kube-scheduler kube-proxy; do
    podman build --quiet --format docker --build-arg "COMPONENT=$c" --build-arg "KUBE_BASE=localhost/mlmon/kube-base:$kv" \
      -f "$HERE/containerfiles/kube-component.Containerfile" -t "registry.k8s.io/$c:$kv" "$HERE/containerfiles" >/dev/null
  done
  build_image "registry.k8s.io/etcd:$ETCD_IMAGE_TAG" etcd.Containerfile "$(bin_key etcd.Containerfile "$(ls "$stamp_dir"/etcd.*)")" "$b/etcd" "$b/etcdctl"
  # CoreDNS runs as non-root and binds port 53: upstream's Dockerfile gives it cap_net_bind_service.
  FILE_CAPS=coredns=cap_net_bind_service=+ep build_image "registry.k8s.io/coredns/coredns:$COREDNS_VERSION" coredns.Containerfile \
    "$(bin_key coredns.Containerfile "$(ls "$stamp_dir"/coredns.*)" caps-v1)" "$b/coredns"
  build_image "registry.k8s.io/pause:$PAUSE_VERSION" pause.Containerfile "$(bin_key pause.Containerfile "$(ls "$stamp_dir"/pause.*)")" "$b/pause"
}

step_stack_images() {
  local b=$GO_BIN
  build_image "quay.io/prometheus-operator/prometheus-operator:$PROMETHEUS_OPERATOR_VERSION" operator.Containerfile \
    "$(bin_key operator.Containerfile "$(ls "$stamp_dir"/prometheus-operator.*)")" "$b/operator"
  build_image "quay.io/prometheus-operator/prometheus-config-reloader:$PROMETHEUS_OPERATOR_VERSION" config-reloader.Containerfile \
    "$(bin_key config-reloader.Containerfile "$(ls "$stamp_dir"/prometheus-operator.*)")" "$b/prometheus-config-reloader"
  build_image "quay.io/prometheus/prometheus:$PROMETHEUS_VERSION-distroless" prometheus.Containerfile \
    "$(bin_key prometheus.Containerfile "$(ls "$stamp_dir"/prometheus.*)")" "$b/prometheus" "$b/promtool"
  build_image "quay.io/prometheus/alertmanager:$ALERTMANAGER_VERSION" alertmanager.Containerfile \
    "$(bin_key alertmanager.Containerfile "$(ls "$stamp_dir"/alertmanager.*)")" "$b/alertmanager"
  build_image "registry.k8s.io/kube-state-metrics/kube-state-metrics:$KUBE_STATE_METRICS_VERSION" kube-state-metrics.Containerfile \
    "$(bin_key kube-state-metrics.Containerfile "$(ls "$stamp_dir"/kube-state-metrics.*)")" "$b/kube-state-metrics"
  build_image "quay.io/prometheus/node-exporter:$NODE_EXPORTER_VERSION-distroless" node-exporter.Containerfile \
    "$(bin_key node-exporter.Containerfile "$(ls "$stamp_dir"/node_exporter.*)")" "$b/node_exporter"
}

step_own_images() {
  # The project's own: a Python base for app/Dockerfile and the Grafana HTTP API stand-in.
  build_image localhost/mlmon/python:3.11-$DEBIAN_SUITE python.Containerfile "$(key "$HERE/containerfiles/python.Containerfile" \
    "$(podman image inspect --format '{{.Id}}' "localhost/mlmon/rootfs-python:$DEBIAN_SUITE")")"
  grafana_standin
}

# The Grafana stand-in's dependencies at the versions constraints.txt pins; pip reaches PyPI through
# the host's CA bundle (the proxy's certificate chain is only in it).
GRAFANA_STANDIN_IMAGE=localhost/mlmon/grafana-standin:$GRAFANA_STANDIN_TAG
grafana_standin() {
  local src=$REPO/testbed/grafana_standin k ctx start=$SECONDS
  k=$(key "$HERE/containerfiles/grafana-standin.Containerfile" "$REPO/constraints.txt" \
    "$(podman image inspect --format '{{.Id}}' "localhost/mlmon/python:3.11-$DEBIAN_SUITE")" \
    "$(cd "$src" && cat ./*.py | sha256sum)")
  if image_current "$GRAFANA_STANDIN_IMAGE" "$k"; then
    log "image $GRAFANA_STANDIN_IMAGE: cached ($k)"
    return 0
  fi
  ctx=$(mktemp -d)
  mkdir "$ctx/grafana_standin"
  cp "$src"/*.py "$ctx/grafana_standin/"
  grep -iE '^(aiohttp|aiohappyeyeballs|aiosignal|attrs|frozenlist|idna|multidict|propcache|PyYAML|typing_extensions|yarl)==' \
    "$REPO/constraints.txt" >"$ctx/requirements.txt"
  podman build --quiet --format docker --label "org.mlmon.inputs=$k" --build-arg "DEBIAN_SUITE=$DEBIAN_SUITE" \
    --volume /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro \
    --env PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    -f "$HERE/containerfiles/grafana-standin.Containerfile" -t "$GRAFANA_STANDIN_IMAGE" "$ctx" >/dev/null
  rm -rf "$ctx"
  log "image $GRAFANA_STANDIN_IMAGE: built in $((SECONDS - start)) s"
}

# ------------------------------------------------------------------------------------------- chart
# The stand-in kube-prometheus-stack chart (testbed/charts) with the real monitoring.coreos.com CRDs of
# prometheus-operator at PROMETHEUS_OPERATOR_VERSION (example/prometheus-operator-crd of its module), as
# the real chart ships them: the real operator watches all ten and waits for every one.
CHART_DIR=$CACHE/charts/kube-prometheus-stack
step_chart() {
  local op
  op=$(go mod download -json "github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
  rm -rf "$CHART_DIR"
  mkdir -p "$(dirname "$CHART_DIR")"
  cp -r "$REPO/testbed/charts/kube-prometheus-stack" "$CHART_DIR"
  chmod -R u+w "$CHART_DIR"
  mkdir -p "$CHART_DIR/charts/crds/crds"
  cp "$op"/example/prometheus-operator-crd/*.yaml "$CHART_DIR/charts/crds/crds/"
  chmod -R u+w "$CHART_DIR"
  log "chart: $CHART_DIR with $(ls "$CHART_DIR/charts/crds/crds" | wc -l) CRDs of prometheus-operator $PROMETHEUS_OPERATOR_VERSION"
}

# -------------------------------------------------------------------------------------------- node
step_node() {
  bash "$HERE/node/assemble.sh" "$NODE_IMAGE"
}

main() {
  local steps=("$@")
  [ ${#steps[@]} -gt 0 ] || steps=(go pause rootfs kube_images node own_images stack_images chart)
  local s start=$SECONDS
  for s in "${steps[@]}"; do
    "step_$s"
  done
  log "done in $((SECONDS - start)) s"
}

main "$@"
