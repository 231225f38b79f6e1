"""GraphQL face of geometry: the GeoJSON scalar and the coordinate-system enum."""

from __future__ import annotations

from typing import Any, NewType

import strawberry
from graphql import ValueNode, value_from_ast_untyped
from shapely.geometry.base import BaseGeometry

from geo.geometry import CoordinateSystem as CoordinateSystemEnum
from geo.geometry import to_geojson

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
