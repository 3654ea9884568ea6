#!/usr/bin/env bash
# Install the Debian packages the tests and the kind path need, when they are missing. Uses sudo when
# not root.
#   (always)  prometheus: the server and promtool (Debian 2.42), for the observability tests
#   --bench   wrk, for `make bench`
#   --kind    podman, runc, netavark, aardvark-dns, iptables (kind's podman provider), debootstrap and
#             gcc, setcap (images/build.sh)
# Usage: scripts/system_packages.sh [--bench] [--kind]
set -euo pipefail

missing=()
need() { command -v "$1" >/dev/null 2>&1 || missing+=("$2"); }
need prometheus prometheus
need promtool prometheus
for arg in "$@"; do
  case "$arg" in
    --bench) need wrk wrk ;;
    --kind)
      need podman podman
      need runc runc
      [ -x /usr/lib/podman/netavark ] || missing+=(netavark)
      [ -x /usr/lib/podman/aardvark-dns ] || missing+=(aardvark-dns)
      need iptables iptables
      need debootstrap debootstrap
      need gcc gcc
      need setcap libcap2-bin
      need make make
      ;;
    *) echo "unknown option $arg (use --bench, --kind)" >&2; exit 2 ;;
  esac
done
[ "${#missing[@]}" -eq 0 ] && exit 0
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)

if ! command -v apt-get >/dev/null 2>&1; then
  echo "missing ${missing[*]}: install the package(s) with your system's package manager (they are Debian's)." >&2
  exit 2
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "installing Debian packages: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
