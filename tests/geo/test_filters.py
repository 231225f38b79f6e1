"""Numeric checks of the spatial filters, for callers that do not go through GraphQL's Float
coercion (which already refuses what is not a finite float)."""

from __future__ import annotations

import pytest
from sqlalchemy import column

from core.errors import ValidationFailed
from geo.filters import Near, SpatialFilter, spatial_conditions, within_meters

POINT = {"type": "Point", "coordinates": [113.2, 34.5]}


@pytest.mark.parametrize("bbox", [
    [113, 34, 10 ** 400, 35],
    [113, 34, float("inf"), 35],
    [float("nan"), 34, 114, 35],
    [113, 34, 114],
    [113, 34, True, 35],
])
def test_a_bbox_of_numbers_beyond_float_is_a_validation_error(bbox):
    with pytest.raises(ValidationFailed) as refused:
        spatial_conditions(column("geometry"), SpatialFilter(bbox=bbox))
    assert refused.value.field == "bbox"


@pytest.mark.parametrize("meters", [10 ** 400, float("inf"), float("nan"), -1, 0])
def test_a_distance_beyond_float_is_a_validation_error(meters):
    with pytest.raises(ValidationFailed) as refused:
        within_meters(column("geometry"), Near(point=POINT, meters=meters))
    assert refused.value.field == "meters"
