#!/usr/bin/env bash
# Builds the image with no image registry: the local base image of deploy/base-image.sh and a
# wheel folder made here with the machine's own pip set-up (the image gets no pip or apt config).
#   bash deploy/build-image.sh [IMAGE]       (default localhost/taxi-assets:0.2.0)
# With Docker and a registry, the plain build is enough: docker build -f deploy/Dockerfile .
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGE=${1:-localhost/taxi-assets:0.2.0}
BASE=${TAXI_BASE_IMAGE:-localhost/taxi-assets-base:bookworm}
PY=${PYTHON:-python3}
export CONTAINERS_CONF=${CONTAINERS_CONF:-$PWD/deploy/podman/containers.conf}
bash deploy/base-image.sh "$BASE"
find deploy/wheels -mindepth 1 ! -name .gitkeep -delete
"$PY" -m pip wheel --quiet --wheel-dir deploy/wheels ".[deploy]"
podman build --quiet --format docker -f deploy/Dockerfile -t "$IMAGE" --build-arg BASE="$BASE" \
  --build-arg PIP_INSTALL="--no-index --find-links /wheels taxi_assets[deploy]" .
echo "built $IMAGE"
