"""The Dagster layer: thin definitions over the core (`taxi_assets.core`).

`taxi.build_taxi_defs(taxi)` is one taxi type's whole `dg.Definitions`; `shared.shared_defs()`
holds what every type uses. Nothing in the core imports this package.
"""
