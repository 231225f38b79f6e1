"""Spatial filters on referrals, and possible duplicates near a place; both stay scoped."""

from __future__ import annotations

import pytest
from pyproj import Geod
from sqlalchemy import text

from tests.conftest import error_codes, graphql

SUBMIT = "mutation($input: SubmitReferralInput!) { submitReferral(input: $input) { id } }"
LIST = "query($filter: ReferralFilter) { referrals(filter: $filter) { totalCount edges { node { title } } } }"
NEAR = """query($g: GeoJSON!, $m: Float!) { referralsNear(geometry: $g, meters: $m) {
  distanceMeters referral { title } } }"""


def point(lon: float, lat: float) -> dict:
    return {"type": "Point", "coordinates": [lon, lat]}


@pytest.fixture
async def places(client, world):
    """Agency A: a pit polygon, a point 300 m east of the pit, a river line far north.
    Agency B: a point right beside A's pit."""
    pit = {"type": "Polygon", "coordinates": [[[113.20, 34.50], [113.21, 34.50], [113.21, 34.51],
                                                [113.20, 34.51], [113.20, 34.50]]]}
    river = {"type": "LineString", "coordinates": [[113.1, 34.9], [113.3, 34.95]]}
    for title, geometry, user in (("pit", pit, "liaison-a"), ("east", point(113.2133, 34.505), "liaison-a"),
                                  ("river", river, "liaison-a"), ("b-pit", point(113.205, 34.505), "liaison-b")):
        body = await graphql(client, SUBMIT, {"input": {"domain": "ECOLOGY_RESOURCES", "title": title,
                                                        "facts": "事实", "geometry": geometry}},
                             world.tokens[user])
        assert "errors" not in body, body


async def titles(client, token, filter) -> set[str]:
    body = await graphql(client, LIST, {"filter": filter}, token)
    assert "errors" not in body, body
    return {edge["node"]["title"] for edge in body["data"]["referrals"]["edges"]}


async def test_bbox_intersects_within(client, world, places):
    token = world.tokens["prosecutor-1"]
    assert await titles(client, token, {"bbox": [113.19, 34.49, 113.212, 34.52]}) == {"pit", "b-pit"}
    area = {"type": "Polygon", "coordinates": [[[113.0, 34.8], [113.5, 34.8], [113.5, 35.0], [113.0, 35.0],
                                                 [113.0, 34.8]]]}
    assert await titles(client, token, {"intersects": area}) == {"river"}
    assert await titles(client, token, {"within": area}) == {"river"}
    small = {"type": "Polygon", "coordinates": [[[113.0, 34.9], [113.2, 34.9], [113.2, 35.0], [113.0, 35.0],
                                                  [113.0, 34.9]]]}
    assert await titles(client, token, {"intersects": small}) == {"river"}
    assert await titles(client, token, {"within": small}) == set()  # the river runs on beyond it


async def test_near_uses_metres_on_the_ellipsoid(client, world, places):
    token = world.tokens["prosecutor-1"]
    # "east" is about 300 m from the pit's east edge and 1.2 km from the pit's west edge.
    assert await titles(client, token, {"near": {"point": point(113.21, 34.505), "meters": 400}}) == \
        {"pit", "east"}
    assert await titles(client, token, {"near": {"point": point(113.21, 34.505), "meters": 10}}) == {"pit"}


async def test_spatial_filters_stay_inside_the_scope(client, world, places):
    assert await titles(client, world.tokens["liaison-b"], {"bbox": [113.0, 34.0, 114.0, 35.0]}) == {"b-pit"}
    assert await titles(client, world.tokens["prosecutor-2"], {"bbox": [113.0, 34.0, 114.0, 35.0]}) == set()


async def test_possible_duplicates_nearest_first(client, world, places):
    body = await graphql(client, NEAR, {"g": point(113.206, 34.505), "m": 1000}, world.tokens["prosecutor-1"])
    rows = body["data"]["referralsNear"]
    assert [row["referral"]["title"] for row in rows] == ["pit", "b-pit", "east"]
    assert rows[0]["distanceMeters"] == 0  # inside the pit
    assert 80 < rows[1]["distanceMeters"] < 100
    # A liaison is told only about its own agency's referrals.
    body = await graphql(client, NEAR, {"g": point(113.206, 34.505), "m": 1000}, world.tokens["liaison-b"])
    assert [row["referral"]["title"] for row in body["data"]["referralsNear"]] == ["b-pit"]


@pytest.mark.parametrize("filter, field", [
    ({"bbox": [113.2, 34.5, 113.1, 34.6]}, "bbox"),
    ({"bbox": [1, 2, 3]}, "bbox"),
    ({"near": {"point": point(113.2, 34.5), "meters": -5}}, "meters"),
    ({"near": {"point": point(113.2, 34.5), "meters": 1e9}}, "meters"),
])
async def test_bad_spatial_filters_say_which_field(client, world, filter, field):
    body = await graphql(client, LIST, {"filter": filter}, world.tokens["admin"])
    assert error_codes(body) == ["VALIDATION"] and body["errors"][0]["extensions"]["field"] == field


async def test_invalid_filter_geometry(client, world):
    bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    body = await graphql(client, LIST, {"filter": {"intersects": bowtie}}, world.tokens["admin"])
    assert error_codes(body) == ["INVALID_GEOMETRY"] and body["errors"][0]["extensions"]["field"] == "intersects"


FAR_PLACES = {
    # Mohe, the far north of China: a degree of longitude is 67 km there, not 111.
    "mohe-east": ((122.3, 53.3), 90, 45_000),
    "mohe-northeast": ((122.3, 53.3), 45, 45_000),
    # Over the pole: every longitude is within a few kilometres.
    "pole": ((0.0, 89.95), 0, 11_000),
    # Across the antimeridian, where longitudes jump from 180 to -180.
    "antimeridian": ((179.995, 60.0), 90, 2_000),
}


@pytest.mark.parametrize("place", sorted(FAR_PLACES))
async def test_near_finds_what_is_in_reach_far_from_the_equator(client, world, resources, place):
    """The index prefilter (a box in degrees) must hold everything within the distance, where
    degrees of longitude are short or wrap; the exact distance still decides."""
    (lon, lat), azimuth, meters = FAR_PLACES[place]
    target_lon, target_lat, _ = Geod(ellps="WGS84").fwd(lon, lat, azimuth, meters)
    body = await graphql(client, SUBMIT, {"input": {"domain": "ECOLOGY_RESOURCES", "title": place, "facts": "事实",
                                                    "geometry": point(113.2, 34.5)}},
                         world.tokens["liaison-a"])
    assert "errors" not in body, body
    # No district of the platform lies there, so the referral is moved there behind the API's back.
    async with resources.session_factory() as session:
        await session.execute(text("UPDATE referral SET geometry = ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)"),
                              {"lon": target_lon, "lat": target_lat})
        await session.commit()
    token = world.tokens["admin"]
    for reach, expected in ((meters * 1.01, {place}), (meters * 0.99, set())):
        assert await titles(client, token, {"near": {"point": point(lon, lat), "meters": reach}}) == expected
        body = await graphql(client, NEAR, {"g": point(lon, lat), "m": reach}, token)
        assert {row["referral"]["title"] for row in body["data"]["referralsNear"]} == expected


NEAR_IDS = """query($g: GeoJSON!, $m: Float!) { referralsNear(geometry: $g, meters: $m) {
  distanceMeters referral { id } } }"""
# The plain definition of a search by distance: every row in reach and scope, nearest first.
NEAREST_BY_DEFINITION = text("""
    SELECT id::text FROM referral
    WHERE (CAST(:agency AS uuid) IS NULL OR agency_id = CAST(:agency AS uuid))
      AND ST_DWithin(geometry::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography, :meters)
    ORDER BY ST_Distance(geometry::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography), id
    LIMIT 50""")


async def test_near_in_a_crowd_gives_the_nearest_by_definition(client, world, resources):
    """More referrals in reach than a search returns, far enough north that the index's order (in
    degrees) is not the order on the ellipsoid, and another agency's referrals closest of all: the
    nearest-neighbour shortcut must give exactly the rows and order of the plain definition."""
    import random

    rng = random.Random(5)
    geod = Geod(ellps="WGS84")
    centre = (113.2, 34.5)
    for user, title in (("liaison-a", "a"), ("liaison-b", "b")):
        body = await graphql(client, SUBMIT, {"input": {"domain": "ECOLOGY_RESOURCES", "title": title, "facts": "事实",
                                                        "geometry": point(*centre)}}, world.tokens[user])
        assert "errors" not in body, body
    # 300 of A's up to 3 km away (east–west spreads them over more degrees than north–south),
    # 80 of B's within 400 m, a few at exactly the same place, copied behind the API's back.
    places = [("a", *geod.fwd(*centre, rng.uniform(0, 360), rng.uniform(5, 3000))[:2]) for _ in range(300)]
    places += [("b", *geod.fwd(*centre, rng.uniform(0, 360), rng.uniform(1, 400))[:2]) for _ in range(80)]
    places += [("a", *geod.fwd(*centre, 45, 700)[:2])] * 5
    async with resources.session_factory() as session:
        for title, lon, lat in places:
            await session.execute(text(
                "INSERT INTO referral (id, agency_id, jurisdiction_id, domain_code, title, facts, geometry, status, "
                "submitted_at, submission_fingerprint, harms_state_interests, harms_public_interest, urgent, version) "
                "SELECT gen_random_uuid(), agency_id, jurisdiction_id, domain_code, title, facts, "
                "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), status, submitted_at, submission_fingerprint, "
                "harms_state_interests, harms_public_interest, urgent, version FROM referral "
                "WHERE title = :title AND idempotency_key IS NULL LIMIT 1"), {"lon": lon, "lat": lat, "title": title})
        await session.commit()
    for user, agency in (("liaison-a", world.ids["agency:A"]), ("admin", None)):
        for meters in (200.0, 1500.0, 5000.0):
            body = await graphql(client, NEAR_IDS, {"g": point(*centre), "m": meters}, world.tokens[user])
            assert "errors" not in body, body
            found = [row["referral"]["id"] for row in body["data"]["referralsNear"]]
            async with resources.session_factory() as session:
                expected = list(await session.scalars(NEAREST_BY_DEFINITION, {
                    "agency": agency, "lon": centre[0], "lat": centre[1], "meters": meters}))
            assert found == expected, (user, meters)
            # A crowd (more in reach than a page) but for A's own within the smallest distance.
            assert (len(found) == 50) == (user == "admin" or meters > 1000), (user, meters, len(found))
