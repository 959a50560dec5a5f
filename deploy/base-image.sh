#!/usr/bin/env bash
# A local base image with Python 3.11 and no image registry: debootstrap a minimal Debian bookworm
# root file system (from the Debian package archive) and import it into podman.
#   bash deploy/base-image.sh [IMAGE]        (default localhost/taxi-assets-base:bookworm)
# Needs root, debootstrap and podman. Does nothing if the image exists already.
set -euo pipefail
IMAGE=${1:-localhost/taxi-assets-base:bookworm}
export CONTAINERS_CONF=${CONTAINERS_CONF:-$(cd "$(dirname "$0")" && pwd)/podman/containers.conf}
if podman image exists "$IMAGE"; then
  echo "base image $IMAGE exists"; exit 0
fi
MIRROR=${DEBIAN_MIRROR:-$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)}
[ -n "$MIRROR" ] || { echo "no Debian mirror in /etc/apt/sources.list.d/debian.sources: set DEBIAN_MIRROR" >&2; exit 1; }
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$root" "$MIRROR" >/dev/null
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/archives/*.deb
tar -C "$root" -c . | podman import --quiet --change 'CMD ["/bin/bash"]' - "$IMAGE" >/dev/null
echo "base image $IMAGE imported"
