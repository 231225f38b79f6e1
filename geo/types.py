"""GraphQL face of geometry: the GeoJSON scalar and the coordinate-system enum."""

from __future__ import annotations

from typing import Any, NewType

import strawberry
from graphql import ValueNode, value_from_ast_untyped
from shapely.geometry.base import BaseGeometry

from geo.geometry import CoordinateSystem as CoordinateSystemEnum
from geo.geometry import geodesic_area_m2, square_meters_to_hectares, square_meters_to_mu, to_geojson

GeoJSON = NewType("GeoJSON", object)


def _serialize(value: Any) -> dict:
    if isinstance(value, BaseGeometry):
        return to_geojson(value)
    return value


def _parse_literal(node: ValueNode, variables: dict[str, Any] | None = None) -> Any:
    return value_from_ast_untyped(node, variables)


GEOJSON_SCALAR = strawberry.scalar(
    name="GeoJSON",
    description="A GeoJSON geometry object (RFC 7946): Point, LineString, Polygon or Multi*. "
    "Output is WGS84 (EPSG:4326); input coordinates are in the `crs` given beside it.",
    specified_by_url="https://www.rfc-editor.org/rfc/rfc7946",
    serialize=_serialize,
    # Checked by geo.geometry.parse_geometry in the service, which knows the coordinate system.
    parse_value=lambda value: value,
    parse_literal=_parse_literal,
)

CoordinateSystem = strawberry.enum(
    CoordinateSystemEnum,
    description="Coordinate system of an input geometry; the server stores WGS84.")

SCALARS = {GeoJSON: GEOJSON_SCALAR}


@strawberry.interface(description="Something with a place on the map and, for polygons, an area "
                                  "measured on the WGS84 ellipsoid (0 for points and lines).")
class Areal:
    def shape(self) -> BaseGeometry:
        """The object's geometry; each implementing type says where it keeps it."""
        raise TypeError(f"{type(self).__name__} must define shape()")

    def _area_m2(self) -> float:
        # Measured once per object, however many of the three units are asked for.
        if "_measured_area_m2" not in self.__dict__:
            self.__dict__["_measured_area_m2"] = geodesic_area_m2(self.shape())
        return self.__dict__["_measured_area_m2"]

    @strawberry.field
    def area_square_meters(self) -> float:
        return self._area_m2()

    @strawberry.field
    def area_hectares(self) -> float:
        return square_meters_to_hectares(self._area_m2())

    @strawberry.field(description="Area in mu (亩, 1 mu = 10000/15 m²).")
    def area_mu(self) -> float:
        return square_meters_to_mu(self._area_m2())
