from taxi_assets.assets.trips import build_trip_assets
from taxi_assets.assets.zones import taxi_zone_lookup
from taxi_assets.taxi_types import TAXI_TYPES

trip_assets = [a for taxi in TAXI_TYPES.values() for a in build_trip_assets(taxi)]

__all__ = ["taxi_zone_lookup", "trip_assets"]
