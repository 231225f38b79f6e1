"""Geometry parsing, coordinate systems and ellipsoidal areas (no services needed)."""

from __future__ import annotations

import json

import pytest
from coordTransform import wgs84_to_bd09, wgs84_to_gcj02
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from core.errors import InvalidGeometry
from geo.geometry import (
    GEOMETRY_TYPES,
    MAX_VERTICES,
    CoordinateSystem,
    geodesic_area_m2,
    parse_geometry,
    square_meters_to_hectares,
    square_meters_to_mu,
)


def test_mu_and_hectares():
    assert square_meters_to_mu(10000 / 15) == pytest.approx(1)
    assert square_meters_to_hectares(10000) == 1
    # The Weidong case: 1,578 mu is about 1.05 km².
    assert square_meters_to_mu(1_052_000) == pytest.approx(1578, rel=1e-3)


def test_area_is_computed_on_the_ellipsoid_not_in_degrees():
    at_equator = geodesic_area_m2(box(0, 0, 0.01, 0.01))
    at_34n = geodesic_area_m2(box(113, 34, 113.01, 34.01))
    assert at_equator == pytest.approx(1_230_000, rel=0.01)
    assert at_34n / at_equator == pytest.approx(0.829, rel=0.01)  # cos(34°), as it should shrink
    assert geodesic_area_m2(parse_geometry({"type": "Point", "coordinates": [113, 34]})) == 0


@pytest.mark.parametrize("crs, forward", [(CoordinateSystem.GCJ02, wgs84_to_gcj02),
                                          (CoordinateSystem.BD09, wgs84_to_bd09)])
def test_chinese_map_coordinates_come_back_to_wgs84(crs, forward):
    truth = (113.3833, 33.7400)
    shifted = forward(*truth)
    point = parse_geometry({"type": "Point", "coordinates": list(shifted)}, crs)
    assert (point.x, point.y) == pytest.approx(truth, abs=1e-7)  # about a centimetre


def test_cgcs2000_is_taken_as_wgs84():
    point = parse_geometry({"type": "Point", "coordinates": [113.3833, 33.74]}, CoordinateSystem.CGCS2000)
    assert (point.x, point.y) == (113.3833, 33.74)


def test_outside_china_the_offset_systems_do_not_shift():
    point = parse_geometry({"type": "Point", "coordinates": [2.35, 48.85]}, CoordinateSystem.GCJ02)
    assert (point.x, point.y) == (2.35, 48.85)


def test_z_values_are_dropped_and_multi_types_accepted():
    point = parse_geometry({"type": "Point", "coordinates": [113.3, 33.7, 120.5]})
    assert not point.has_z
    multi = parse_geometry({"type": "MultiPolygon", "coordinates": [
        [[[113.0, 33.0], [113.1, 33.0], [113.1, 33.1], [113.0, 33.0]]],
        [[[113.2, 33.0], [113.3, 33.0], [113.3, 33.1], [113.2, 33.0]]]]})
    assert multi.geom_type == "MultiPolygon"


@pytest.mark.parametrize("value, reason", [
    ({"type": "Polygon", "coordinates": [[[113.0, 33.0], [113.1, 33.0], [113.1, 33.1], [113.2, 33.2]]]}, "closed"),
    ({"type": "LineString", "coordinates": [[113.0, 33.0]]}, "malformed"),
    ({"type": "Point", "coordinates": [float("nan"), 33.0]}, "finite"),
    ({"type": "GeometryCollection", "geometries": []}, "must be one of"),
    ({"type": "Polygon", "coordinates": []}, "malformed"),
    ({"type": "MultiPoint", "coordinates": []}, "malformed"),
    ({"type": "Point", "coordinates": [True, 33.0]}, "malformed"),
    ({"type": "Polygon", "coordinates": [[1, 2, 3, 4]]}, "malformed"),
    ([113.0, 33.0], "expected a GeoJSON geometry"),
    ({"type": ["Point"], "coordinates": [113.0, 33.0]}, "must be one of"),
    ({"type": {"a": 1}, "coordinates": [113.0, 33.0]}, "must be one of"),
    ({"type": "Point", "coordinates": [10 ** 400, 33.0]}, "finite"),
    ({"type": "Point", "coordinates": [float("inf"), 33.0]}, "finite"),
    ("[" * 5000 + "]" * 5000, "nested too deeply"),
    ('{"type": "Point", "coordinates": [' + "9" * 5000 + ", 33.0]}", "too long"),
    ('{"type": "Point", "coordinates": [1e400, 33.0]}', "finite"),
])
def test_bad_input_is_refused_with_a_reason(value, reason):
    with pytest.raises(InvalidGeometry) as refused:
        parse_geometry(value)
    assert reason in refused.value.message


def test_vertex_cap():
    ring = [[113 + i * 1e-6, 33.0] for i in range(MAX_VERTICES)] + [[113.5, 33.5], [113.0, 33.0]]
    with pytest.raises(InvalidGeometry, match="vertices"):
        parse_geometry({"type": "LineString", "coordinates": ring})


hostile_numbers = (st.integers(min_value=2 ** 1024, max_value=10 ** 400) | st.sampled_from(
    [float("inf"), float("-inf"), float("nan"), -(10 ** 400)]))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | hostile_numbers
    | st.text(st.characters(codec=None, categories=None), max_size=10),
    lambda children: st.lists(children, max_size=6) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=40)
coordinates = st.recursive(st.floats() | st.integers() | hostile_numbers | st.text(max_size=3) | st.none(),
                           lambda children: st.lists(children, max_size=6), max_leaves=60)
geometry_like = st.builds(lambda kind, coords: {"type": kind, "coordinates": coords},
                          st.sampled_from(sorted(GEOMETRY_TYPES) + ["Feature", "Circle", ""]) | json_values,
                          coordinates)
# The same shapes as a JSON string, as a client may send them; huge integers stay under the digit
# limit here (json.dumps cannot write past it), the raw-digit cases are in the table above.
geometry_strings = st.one_of(json_values, geometry_like).map(json.dumps)


@given(st.one_of(json_values, geometry_like, geometry_strings))
@settings(max_examples=600, deadline=None)
def test_any_input_is_either_a_valid_geometry_or_an_invalid_geometry_error(value):
    try:
        geometry = parse_geometry(value)
    except InvalidGeometry:
        return
    assert geometry.is_valid and not geometry.is_empty
