"""Spatial predicates for list filters, built once for every geometry column that needs them.

All of them start from the `&&` bounding-box operator or ST_DWithin, so the GiST index is used."""

from __future__ import annotations

import math
from dataclasses import dataclass

from geoalchemy2 import Geography
from geoalchemy2.shape import from_shape
from sqlalchemy import ColumnElement, and_, case, cast, func, literal, select

from core.errors import ValidationFailed
from geo.geometry import CoordinateSystem, finite_number, parse_geometry

MAX_NEAR_METERS = 50_000


@dataclass(frozen=True)
class Near:
    point: object
    meters: float


@dataclass(frozen=True)
class SpatialFilter:
    intersects: object | None = None
    within: object | None = None
    bbox: list[float] | None = None
    near: Near | None = None
    crs: CoordinateSystem = CoordinateSystem.WGS84


def spatial_conditions(column, spatial: SpatialFilter) -> list[ColumnElement[bool]]:
    conditions = []
    if spatial.intersects is not None:
        shape = from_shape(parse_geometry(spatial.intersects, spatial.crs, field="intersects"), srid=4326)
        conditions.append(func.ST_Intersects(column, shape))
    if spatial.within is not None:
        shape = from_shape(parse_geometry(spatial.within, spatial.crs, field="within"), srid=4326)
        conditions.append(func.ST_Within(column, shape))
    if spatial.bbox is not None:
        envelope = func.ST_MakeEnvelope(*_check_bbox(spatial.bbox), 4326)
        conditions.append(column.op("&&")(envelope))
        conditions.append(func.ST_Intersects(column, envelope))
    if spatial.near is not None:
        conditions.append(within_meters(column, spatial.near, spatial.crs))
    return conditions


def _checked_near(near: Near, crs: CoordinateSystem, field: str):
    if not (isinstance(near.meters, (int, float)) and 0 < near.meters <= MAX_NEAR_METERS):
        raise ValidationFailed(f"距离应在 0 到 {MAX_NEAR_METERS} 米之间 / meters must be greater than 0 and "
                               f"at most {MAX_NEAR_METERS}", field="meters")
    return parse_geometry(near.point, crs, field=field)


def within_meters(column, near: Near, crs: CoordinateSystem = CoordinateSystem.WGS84, *,
                  field: str = "near.point") -> ColumnElement[bool]:
    """Exactly ST_DWithin on the ellipsoid, behind a box in degrees around `near.point` that
    holds everything within reach: a geography cast alone cannot use the geometry's GiST index,
    so without the box every row's distance would be computed."""
    shape = _checked_near(near, crs, field)
    point = from_shape(shape, srid=4326)
    reach = func.ST_Expand(point, *degrees_within(shape.bounds, near.meters))
    return and_(column.op("&&")(reach),
                func.ST_DWithin(cast(column, Geography), cast(point, Geography), near.meters))


def nearest_within(column, near: Near, crs: CoordinateSystem = CoordinateSystem.WGS84, *,
                   among: ColumnElement[bool], count: int, field: str = "near.point") -> list[ColumnElement[bool]]:
    """The conditions of `within_meters` for a search that keeps only the `count` rows (of those
    meeting `among`) nearest to `near.point`: the same rows come out, with far fewer distances
    computed where rows are dense.

    The GiST index's nearest-neighbour order (`<->`, in degrees) finds `count` rows close by
    first; the farthest of them on the ellipsoid is a distance within which `count` rows surely
    lie, so the `count` nearest lie within it too. The exact test then runs within that radius
    (never more than `near.meters`) and a box in degrees shrunk to it."""
    shape = _checked_near(near, crs, field)
    point = from_shape(shape, srid=4326)
    longitude, latitude = degrees_within(shape.bounds, near.meters)
    geography = cast(point, Geography)
    # Not correlated with the enclosing query's table: it reads the table on its own.
    candidates = (select(func.ST_Distance(cast(column, Geography), geography).label("meters"))
                  .where(among, column.op("&&")(func.ST_Expand(point, longitude, latitude)))
                  .order_by(column.op("<->")(point)).limit(count).correlate(None).subquery("candidates"))
    # A centimetre to spare: ST_DWithin and ST_Distance need not round the farthest one alike.
    farthest = func.max(candidates.c.meters) + 0.01
    radius = select(case((func.count() < count, literal(float(near.meters))),
                         else_=func.least(float(near.meters), farthest))).scalar_subquery()
    if longitude >= 360:  # a box around whole parallels (pole, antimeridian) does not shrink with the radius
        box = func.ST_Expand(point, longitude, latitude)
    else:
        # degrees_within grows at least linearly with the distance: scaled down, the box still
        # holds everything within the smaller radius.
        box = func.ST_Expand(point, radius * (longitude / near.meters), radius * (latitude / near.meters))
    return [column.op("&&")(box), func.ST_DWithin(cast(column, Geography), geography, radius)]


def distance_meters(column, geometry: object, crs: CoordinateSystem = CoordinateSystem.WGS84):
    shape = from_shape(parse_geometry(geometry, crs, field="geometry"), srid=4326)
    return func.ST_Distance(cast(column, Geography), cast(shape, Geography))


# The shortest degrees on the WGS84 ellipsoid: a degree of latitude (at the equator) and a degree
# of longitude at the equator, which shrinks with cos(latitude) and never faster.
METERS_PER_DEGREE_LATITUDE_MIN = 110_574
METERS_PER_DEGREE_LONGITUDE_AT_EQUATOR = 111_319
# Above this latitude a small distance spans too many degrees of longitude: take them all.
POLAR_LATITUDE = 89.0
SAFETY = 1.05


def degrees_within(bounds: tuple[float, float, float, float], meters: float) -> tuple[float, float]:
    """(longitude, latitude) degrees to widen the box `bounds` by so that it contains every point
    within `meters` of it on the ellipsoid, with room to spare. Longitude uses the latitude
    farthest from the equator the circle can reach, where its degrees are shortest; near a pole
    or across the antimeridian the box spans every longitude."""
    min_lon, min_lat, max_lon, max_lat = bounds
    latitude = meters / METERS_PER_DEGREE_LATITUDE_MIN * SAFETY
    farthest = max(abs(min_lat), abs(max_lat)) + latitude
    if farthest >= POLAR_LATITUDE:
        return 360.0, latitude
    longitude = meters / (METERS_PER_DEGREE_LONGITUDE_AT_EQUATOR * math.cos(math.radians(farthest))) * SAFETY
    if min_lon - longitude < -180 or max_lon + longitude > 180:
        return 360.0, latitude  # the circle wraps past ±180, which a box in degrees cannot follow
    return longitude, latitude


def _check_bbox(bbox: list[float]) -> list[float]:
    if len(bbox) != 4 or not all(isinstance(v, (int, float)) and finite_number(v) for v in bbox):
        raise ValidationFailed("bbox 应为 [最小经度, 最小纬度, 最大经度, 最大纬度] / bbox is "
                               "[minLon, minLat, maxLon, maxLat]", field="bbox")
    min_lon, min_lat, max_lon, max_lat = bbox
    if not (-180 <= min_lon < max_lon <= 180 and -90 <= min_lat < max_lat <= 90):
        raise ValidationFailed("bbox 范围无效 / bbox corners are out of range or out of order", field="bbox")
    return bbox
