"""A district's boundary lies within its city's and overlaps no other district of it (50 m of
tolerance for both); otherwise it is refused with the area at stake, and nothing is created."""

from __future__ import annotations

import pytest
from shapely.geometry import box, mapping

from geo.geometry import SQUARE_METERS_PER_MU, geodesic_area_m2
from tests.conftest import error_codes, graphql

CREATE = """mutation($input: CreateJurisdictionInput!) { createJurisdiction(input: $input) { code } }"""
METER = 1 / 111_000  # of latitude, near enough


def district(bounds: tuple[float, float, float, float]) -> dict:
    return {"input": {"code": "410103", "name": "三区", "level": "DISTRICT", "parentCode": "410100",
                      "procuratorateName": "三区人民检察院", "boundary": mapping(box(*bounds))}}


async def codes(client, world) -> set[str]:
    body = await graphql(client, "{ jurisdictions { code } }", token=world.tokens["admin"])
    return {row["code"] for row in body["data"]["jurisdictions"]}


async def test_a_district_overlapping_another_is_refused_with_the_overlap_area(client, world):
    # The city's free strip is 34.0–34.2°N; this reaches 0.01° into district 1 (34.2–35.0°N).
    body = await graphql(client, CREATE, district((113.1, 34.05, 113.2, 34.21)), world.tokens["admin"])
    assert error_codes(body) == ["VALIDATION"]
    extensions = body["errors"][0]["extensions"]
    expected = geodesic_area_m2(box(113.1, 34.2, 113.2, 34.21))
    assert extensions["field"] == "boundary" and extensions["overlappingJurisdictionCode"] == "410101"
    assert extensions["overlapAreaSquareMeters"] == pytest.approx(expected, rel=1e-6)
    assert extensions["overlapAreaMu"] == pytest.approx(expected / SQUARE_METERS_PER_MU, rel=1e-6)
    message = body["errors"][0]["message"]
    assert "一区" in message and f"{expected / SQUARE_METERS_PER_MU:.1f} 亩" in message and "m²" in message
    assert await codes(client, world) == {"410100", "410101", "410102"}


async def test_a_shared_border_drawn_a_few_metres_over_is_accepted(client, world):
    body = await graphql(client, CREATE, district((113.1, 34.05, 113.2, 34.2 + 20 * METER)), world.tokens["admin"])
    assert "errors" not in body, body


@pytest.mark.parametrize("metres_out, accepted", [(20, True), (200, False)])
async def test_a_district_must_lie_within_its_city(client, world, metres_out, accepted):
    # The city's southern edge is 34.0°N.
    body = await graphql(client, CREATE, district((113.1, 34.0 - metres_out * METER, 113.2, 34.1)),
                         world.tokens["admin"])
    if accepted:
        assert "errors" not in body, body
        return
    assert error_codes(body) == ["VALIDATION"]
    extensions = body["errors"][0]["extensions"]
    outside = geodesic_area_m2(box(113.1, 34.0 - metres_out * METER, 113.2, 34.0))
    assert extensions["field"] == "boundary"
    assert extensions["outsideAreaSquareMeters"] == pytest.approx(outside, rel=1e-3)
    assert extensions["outsideAreaMu"] == pytest.approx(outside / SQUARE_METERS_PER_MU, rel=1e-3)
    assert await codes(client, world) == {"410100", "410101", "410102"}


async def test_a_second_city_may_not_overlap_the_first(client, world):
    body = await graphql(client, CREATE, {"input": {
        "code": "410200", "name": "北市", "level": "CITY", "procuratorateName": "北市人民检察院",
        "boundary": mapping(box(113.9, 34.9, 114.5, 35.5))}}, world.tokens["admin"])
    assert error_codes(body) == ["VALIDATION"]
    assert body["errors"][0]["extensions"]["overlappingJurisdictionCode"] == "410100"


@pytest.mark.parametrize("user", ["prosecutor-city", "liaison-a", "assessor-1"])
async def test_only_administrators_draw_boundaries(client, world, user):
    body = await graphql(client, CREATE, district((113.1, 34.05, 113.2, 34.21)), world.tokens[user])
    assert error_codes(body) == ["FORBIDDEN"]  # before any check says what lies where
