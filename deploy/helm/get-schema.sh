#!/usr/bin/env bash
# Puts the Dagster chart's values.schema.json (chart version 1.13.27, the pinned Dagster version)
# beside values.yaml, for taxi_assets_tests/test_deploy_files.py; needs helm and internet.
set -euo pipefail
cd "$(dirname "$0")"
VERSION=${1:-1.13.27}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
helm repo add dagster https://dagster-io.github.io/helm >/dev/null 2>&1 || true
helm pull dagster/dagster --version "$VERSION" --untar --untardir "$tmp"
cp "$tmp/dagster/values.schema.json" values.schema.json
echo "values.schema.json of dagster/dagster $VERSION"
