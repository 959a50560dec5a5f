"""The core: table records, file formats, the transform, the source and the store clients.

Nothing here imports Dagster: the Dagster layer (`taxi_assets.defs`) wraps these pieces, and the
tools (`taxi_assets.localstack`, the benchmark, `taxi_assets.report`) call them directly.
"""
