"""Where geometry enters the platform: parse GeoJSON, check it, convert it to WGS84, measure it.

Input is refused with the reason rather than silently repaired: a self-intersecting mining polygon
is a mistake the liaison should see, not one the server should guess at."""

from __future__ import annotations

import enum
import json
import math
from typing import Any

import numpy as np
import shapely
from coordTransform import bd09_to_gcj02, gcj02_to_bd09, gcj02_to_wgs84, wgs84_to_gcj02
from pyproj import Geod
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from core.errors import InvalidGeometry

GEOMETRY_TYPES = frozenset(
    {"Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon"})
AREAL_TYPES = frozenset({"Polygon", "MultiPolygon"})
SQUARE_METERS_PER_MU = 10000 / 15
SQUARE_METERS_PER_HECTARE = 10000
_GEOD = Geod(ellps="WGS84")
# Enough to draw any real parcel; a cap keeps a single request from carrying megabytes of vertices.
MAX_VERTICES = 100_000


class CoordinateSystem(str, enum.Enum):
    WGS84 = "WGS84"
    CGCS2000 = "CGCS2000"  # equal to WGS84 at the precision of field surveys and phones
    GCJ02 = "GCJ02"  # the offset "Mars" coordinates of Chinese consumer map apps
    BD09 = "BD09"  # Baidu's further offset of GCJ-02


def parse_geometry(value: Any, crs: CoordinateSystem = CoordinateSystem.WGS84, *,
                   field: str = "geometry", allowed: frozenset[str] = GEOMETRY_TYPES) -> BaseGeometry:
    """A valid 2-D shapely geometry in WGS84 (EPSG:4326), or InvalidGeometry saying why not."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except RecursionError as error:
            raise InvalidGeometry("不是有效的 GeoJSON / not valid GeoJSON: nested too deeply",
                                  field=field) from error
        except ValueError as error:  # a JSONDecodeError, or an integer past Python's digit limit
            reason = error.msg if isinstance(error, json.JSONDecodeError) else "a number is too long"
            raise InvalidGeometry(f"不是有效的 GeoJSON / not valid GeoJSON: {reason}", field=field) from error
    if not isinstance(value, dict) or "type" not in value:
        raise InvalidGeometry("应为 GeoJSON 几何对象 / expected a GeoJSON geometry object", field=field)
    kind = value["type"]
    if not isinstance(kind, str) or kind not in allowed:
        raise InvalidGeometry(
            f"不支持的几何类型 {kind!r} / geometry type must be one of {', '.join(sorted(allowed))}",
            field=field)
    if "coordinates" not in value:
        raise InvalidGeometry("坐标结构错误 / malformed coordinates: 'coordinates' is missing", field=field)
    _check_structure(kind, value["coordinates"], field)
    try:
        geometry = shape(value)
    except (ValueError, TypeError, shapely.errors.GEOSException) as error:
        raise InvalidGeometry(f"坐标结构错误 / malformed coordinates: {error}", field=field) from error
    coordinates = shapely.get_coordinates(geometry)
    if len(coordinates) > MAX_VERTICES:
        raise InvalidGeometry(f"顶点过多 / more than {MAX_VERTICES} vertices", field=field)
    if not np.isfinite(coordinates).all():
        raise InvalidGeometry("坐标不是有限数值 / coordinates must be finite numbers", field=field)
    longitudes, latitudes = coordinates[:, 0], coordinates[:, 1]
    if (np.abs(longitudes) > 180).any() or (np.abs(latitudes) > 90).any():
        raise InvalidGeometry(
            "坐标超出范围（经度±180，纬度±90；顺序为[经度,纬度]）/ coordinates out of range: "
            "longitude within ±180 and latitude within ±90, in [longitude, latitude] order",
            field=field)
    geometry = shapely.force_2d(geometry)
    geometry = to_wgs84(geometry, crs)
    if not geometry.is_valid:
        raise InvalidGeometry(f"几何图形无效 / invalid geometry: {explain_validity(geometry)}", field=field)
    return geometry


def _check_structure(kind: str, coordinates: Any, field: str) -> None:
    """The nesting RFC 7946 prescribes for `kind`, checked before shapely sees it (shapely
    guesses at malformed input, and closes open rings on its own)."""

    def malformed(why: str) -> InvalidGeometry:
        return InvalidGeometry(f"坐标结构错误 / malformed coordinates: {why}", field=field)

    def position(value: Any) -> None:
        if (not isinstance(value, (list, tuple)) or len(value) not in (2, 3)
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)):
            raise malformed("a position is [longitude, latitude] (or with an altitude), as numbers")
        if not all(finite_number(v) for v in value):
            raise InvalidGeometry("坐标不是有限数值 / coordinates must be finite numbers", field=field)

    def positions(value: Any, minimum: int) -> None:
        if not isinstance(value, (list, tuple)) or len(value) < minimum:
            raise malformed(f"expected a list of at least {minimum} positions")
        for item in value:
            position(item)

    def polygon(value: Any) -> None:
        if not isinstance(value, (list, tuple)) or not value:
            raise malformed("a polygon is a list of linear rings")
        for ring in value:
            positions(ring, 1)
            if len(ring) < 4 or list(ring[0]) != list(ring[-1]):
                raise InvalidGeometry("多边形的环须闭合且至少4个点 / each polygon ring must be closed and have "
                                      "at least 4 positions", field=field)

    def many(value: Any, check) -> None:
        if not isinstance(value, (list, tuple)) or not value:
            raise malformed(f"a {kind} is a non-empty list of its parts")
        for item in value:
            check(item)

    checks = {
        "Point": position,
        "LineString": lambda value: positions(value, 2),
        "Polygon": polygon,
        "MultiPoint": lambda value: many(value, position),
        "MultiLineString": lambda value: many(value, lambda part: positions(part, 2)),
        "MultiPolygon": lambda value: many(value, polygon),
    }
    checks[kind](coordinates)


def finite_number(number: int | float) -> bool:
    """False for inf, nan, and integers too large for a float (math.isfinite and float() raise
    OverflowError for those, and so would shapely and the database driver)."""
    try:
        return math.isfinite(number)
    except OverflowError:
        return False


def _invert(forward, estimate, lon: float, lat: float) -> tuple[float, float]:
    """Invert an offset transform that has no closed-form inverse: start from the library's
    estimate (off by up to a metre) and correct it against the exact forward transform until it
    is off by less than a millimetre."""
    x, y = estimate(lon, lat)
    for _ in range(8):
        forward_x, forward_y = forward(x, y)
        d_x, d_y = forward_x - lon, forward_y - lat
        if abs(d_x) < 1e-9 and abs(d_y) < 1e-9:
            break
        x, y = x - d_x, y - d_y
    return x, y


def offset_point_to_wgs84(lon: float, lat: float, crs: CoordinateSystem) -> tuple[float, float]:
    if crs is CoordinateSystem.BD09:
        lon, lat = _invert(gcj02_to_bd09, bd09_to_gcj02, lon, lat)
    return _invert(wgs84_to_gcj02, gcj02_to_wgs84, lon, lat)


def to_wgs84(geometry: BaseGeometry, crs: CoordinateSystem) -> BaseGeometry:
    if crs in (CoordinateSystem.WGS84, CoordinateSystem.CGCS2000):
        return geometry

    def transform(points: np.ndarray) -> np.ndarray:
        return np.array([offset_point_to_wgs84(float(lon), float(lat), crs) for lon, lat in points],
                        dtype=float)

    return shapely.transform(geometry, transform)


def geodesic_area_m2(geometry: BaseGeometry) -> float:
    """Area on the WGS84 ellipsoid; zero for points and lines."""
    if geometry.geom_type not in AREAL_TYPES:
        return 0.0
    area, _perimeter = _GEOD.geometry_area_perimeter(geometry)
    return abs(area)


LINEAL_TYPES = frozenset({"LineString", "MultiLineString", "LinearRing"})


def dimension(geometry: BaseGeometry) -> int:
    """2 for polygons, 1 for lines, 0 for points: what "how much of it" is measured in."""
    return 2 if geometry.geom_type in AREAL_TYPES else 1 if geometry.geom_type in LINEAL_TYPES else 0


def extent(geometry: BaseGeometry, of_dimension: int) -> float:
    """How much of `geometry` there is in `of_dimension`: m² on the ellipsoid for 2, metres on it
    for 1, a count of points for 0. Only its parts of that dimension count, so the intersection of
    a polygon with another (which may carry stray edges and corners) measures as its surfaces."""
    total = 0.0
    for part in shapely.get_parts(geometry):
        if part.geom_type == "GeometryCollection" or part.geom_type.startswith("Multi"):
            total += extent(part, of_dimension)
        elif dimension(part) == of_dimension and not part.is_empty:
            if of_dimension == 2:
                total += geodesic_area_m2(part)
            elif of_dimension == 1:
                total += _GEOD.geometry_length(part)
            else:
                total += 1
    return total


def share_of(part: BaseGeometry, whole: BaseGeometry) -> float:
    """The fraction of `whole` that `part` (a piece of it) is, in `whole`'s own dimension."""
    of_dimension = dimension(whole)
    total = extent(whole, of_dimension)
    if total <= 0:
        return 0.0
    return min(extent(part, of_dimension) / total, 1.0)


def square_meters_to_mu(square_meters: float) -> float:
    return square_meters / SQUARE_METERS_PER_MU


def square_meters_to_hectares(square_meters: float) -> float:
    return square_meters / SQUARE_METERS_PER_HECTARE


def to_geojson(geometry: BaseGeometry) -> dict:
    return mapping(geometry)
