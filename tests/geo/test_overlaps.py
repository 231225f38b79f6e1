"""Every referral lists the reference features it lies on (area on the ellipsoid, share of the
referral), computed on submission and resubmission and again when a layer is (re)imported;
lists filter by "overlaps layer X"; all of it within the caller's scope, one statement per batch."""

from __future__ import annotations

import pytest
from shapely.geometry import LineString, box, mapping

from geo.geometry import SQUARE_METERS_PER_MU, geodesic_area_m2
from tests.conftest import count_statements, error_codes, graphql
from tests.geo.test_layer_import import geojson, import_file
from tests.geo.test_tiles import point

SUBMIT = """mutation($input: SubmitReferralInput!) { submitReferral(input: $input) { id } }"""
OVERLAPS = """query($id: ID!) { referral(id: $id) {
  overlaps { layer { code name kind } featureName areaMu areaSquareMeters shareOfReferral } } }"""
LIST = """query($filter: ReferralFilter) { referrals(filter: $filter, first: 50) { totalCount edges { node {
  title overlaps { layer { code } featureName shareOfReferral } } } } }"""
FARM = box(113.30, 34.50, 113.32, 34.52)
RESERVE = box(113.31, 34.50, 113.33, 34.52)
PIT = box(113.31, 34.505, 113.33, 34.515)  # half on the farmland, all of it in the reserve


async def submit(client, world, user: str, title: str, geometry) -> str:
    body = await graphql(client, SUBMIT, {"input": {"domain": "ECOLOGY_RESOURCES", "title": title, "facts": "事实",
                                                    "geometry": geometry}}, world.tokens[user])
    assert "errors" not in body, body
    return body["data"]["submitReferral"]["id"]


async def import_layers(client, world) -> None:
    admin = world.tokens["admin"]
    for code, name, kind, agency_kind, parcels in (
            ("farmland", "永久基本农田", "PERMANENT_FARMLAND", "AGRICULTURE_RURAL", [("一号地块", FARM)]),
            ("reserve", "自然保护区", "NATURE_RESERVE", None, [("保护区核心区", RESERVE)])):
        body = await import_file(client, admin, f"{code}.geojson", geojson(*parcels), code=code, name=name, kind=kind,
                                 agency_kind=agency_kind)
        assert "errors" not in body, body


async def overlaps_of(client, world, referral_id: str, user: str = "admin") -> list[dict]:
    body = await graphql(client, OVERLAPS, {"id": referral_id}, world.tokens[user])
    return body["data"]["referral"]["overlaps"]


async def test_a_submitted_referral_lists_its_overlaps_measured_on_the_ellipsoid(client, world):
    await import_layers(client, world)
    referral_id = await submit(client, world, "liaison-a", "pit", mapping(PIT))
    found = await overlaps_of(client, world, referral_id)
    assert [(o["layer"]["code"], o["featureName"]) for o in found] == [("reserve", "保护区核心区"),
                                                                        ("farmland", "一号地块")]
    reserve, farm = found
    assert reserve["layer"] == {"code": "reserve", "name": "自然保护区", "kind": "NATURE_RESERVE"}
    whole = geodesic_area_m2(PIT)
    on_farm = geodesic_area_m2(PIT.intersection(FARM))
    assert reserve["shareOfReferral"] == pytest.approx(1.0)
    assert reserve["areaSquareMeters"] == pytest.approx(whole, rel=1e-6)
    assert farm["areaMu"] == pytest.approx(on_farm / SQUARE_METERS_PER_MU, rel=1e-6)
    assert farm["shareOfReferral"] == pytest.approx(on_farm / whole, rel=1e-6)


async def test_points_and_lines_overlap_by_share_with_no_area(client, world):
    await import_layers(client, world)
    well = await submit(client, world, "liaison-a", "well", point(113.305, 34.51))
    assert [(o["featureName"], o["areaMu"], o["shareOfReferral"]) for o in await overlaps_of(client, world, well)] \
        == [("一号地块", 0, 1)]
    ditch = await submit(client, world, "liaison-a", "ditch", mapping(LineString([(113.29, 34.51), (113.31, 34.51)])))
    [overlap] = await overlaps_of(client, world, ditch)
    assert overlap["areaMu"] == 0 and overlap["shareOfReferral"] == pytest.approx(0.5, rel=1e-3)


async def test_a_layer_imported_later_or_again_recomputes_the_overlaps(client, world):
    referral_id = await submit(client, world, "liaison-a", "pit", mapping(PIT))
    assert await overlaps_of(client, world, referral_id) == []
    await import_layers(client, world)
    assert {o["layer"]["code"] for o in await overlaps_of(client, world, referral_id)} == {"farmland", "reserve"}
    # A new edition of the farmland map no longer holds the parcel under the pit.
    body = await import_file(client, world.tokens["admin"], "farmland.geojson",
                             geojson(("二号地块", box(113.40, 34.50, 113.42, 34.52))))
    assert body["data"]["importReferenceLayer"]["overlappingReferralCount"] == 0
    assert {o["layer"]["code"] for o in await overlaps_of(client, world, referral_id)} == {"reserve"}
    body = await import_file(client, world.tokens["admin"], "farmland.geojson", geojson(("一号地块", FARM)))
    assert body["data"]["importReferenceLayer"]["overlappingReferralCount"] == 1
    assert {o["layer"]["code"] for o in await overlaps_of(client, world, referral_id)} == {"farmland", "reserve"}


async def test_a_resubmitted_place_has_its_overlaps_recomputed(client, world):
    await import_layers(client, world)
    referral_id = await submit(client, world, "liaison-a", "pit", mapping(PIT))
    version = (await graphql(client, 'mutation($id: ID!) { returnReferral(id: $id, reason: "位置") { version } }',
                             {"id": referral_id}, world.tokens["prosecutor-1"]))["data"]["returnReferral"]["version"]
    body = await graphql(client, """mutation($id: ID!, $version: Int!, $input: ResubmitReferralInput!) {
        resubmitReferral(id: $id, version: $version, input: $input) { id } }""",
                         {"id": referral_id, "version": version, "input": {"geometry": point(113.2, 34.5)}},
                         world.tokens["liaison-a"])
    assert "errors" not in body, body
    assert await overlaps_of(client, world, referral_id) == []


# c-reserve, from agency C of district 2, lies in district 1 (declared cross-boundary): district 1
# receives it, and agency C still sees its own referral.
IN_RESERVE = {
    "admin": {"a-pit", "c-reserve"},
    "prosecutor-city": {"a-pit", "c-reserve"},
    "prosecutor-1": {"a-pit", "c-reserve"},
    "assessor-1": {"a-pit", "c-reserve"},
    "prosecutor-2": set(),
    "liaison-a": {"a-pit"},
    "liaison-b": set(),
    "liaison-c": {"c-reserve"},
}
FILTERED = {
    "admin": {"a-pit", "b-farm"},
    "prosecutor-city": {"a-pit", "b-farm"},
    "prosecutor-1": {"a-pit", "b-farm"},
    "assessor-1": {"a-pit", "b-farm"},
    "prosecutor-2": set(),
    "liaison-a": {"a-pit"},
    "liaison-b": {"b-farm"},
    "liaison-c": set(),
}


@pytest.fixture
async def placed_across(client, world) -> None:
    await import_layers(client, world)
    await submit(client, world, "liaison-a", "a-pit", mapping(PIT))
    await submit(client, world, "liaison-a", "a-away", point(113.2, 34.5))
    await submit(client, world, "liaison-b", "b-farm", point(113.301, 34.501))
    body = await graphql(client, SUBMIT, {"input": {"domain": "ECOLOGY_RESOURCES", "title": "c-reserve", "facts": "事实",
                                                    "geometry": point(113.325, 34.51), "crossBoundary": True}},
                         world.tokens["liaison-c"])
    assert "errors" not in body, body


@pytest.mark.parametrize("user", sorted(FILTERED))
async def test_the_overlaps_filter_stays_within_each_scope(client, world, placed_across, user):
    body = await graphql(client, LIST, {"filter": {"overlapsLayer": "farmland"}}, world.tokens[user])
    connection = body["data"]["referrals"]
    assert {edge["node"]["title"] for edge in connection["edges"]} == FILTERED[user]
    assert connection["totalCount"] == len(FILTERED[user])
    reserve = await graphql(client, LIST, {"filter": {"overlapsLayer": "reserve"}}, world.tokens[user])
    assert {edge["node"]["title"] for edge in reserve["data"]["referrals"]["edges"]} == IN_RESERVE[user]
    unknown = await graphql(client, LIST, {"filter": {"overlapsLayer": "no-such-layer"}}, world.tokens[user])
    assert unknown["data"]["referrals"]["totalCount"] == 0


async def test_another_agencys_overlaps_are_not_found(client, world):
    await import_layers(client, world)
    referral_id = await submit(client, world, "liaison-a", "pit", mapping(PIT))
    for user in ("liaison-b", "liaison-c", "prosecutor-2"):
        body = await graphql(client, OVERLAPS, {"id": referral_id}, world.tokens[user])
        assert error_codes(body) == ["NOT_FOUND"] and body["data"]["referral"] is None
    assert len(await overlaps_of(client, world, referral_id, "liaison-a")) == 2


PAGE = """{ referrals(first: 50) { edges { node { id overlaps { layer { code } featureName areaMu }
  spansJurisdictions { code } crossBoundary proposedResponsibleAgency { agency { name } shareOfReferral }
  responsibleAgency { agency { name } } } } } }"""


async def test_a_page_loads_its_geography_in_a_fixed_number_of_statements(client, world, resources):
    await import_layers(client, world)

    async def statements() -> int:
        with count_statements(resources.engine) as recorded:
            body = await graphql(client, PAGE, token=world.tokens["prosecutor-city"])
        assert "errors" not in body, body
        return len(recorded)

    for index in range(2):
        await submit(client, world, "liaison-a", f"pit-{index}", mapping(box(113.31 + index * 0.001, 34.505,
                                                                            113.33, 34.515)))
    few = await statements()
    for index in range(2, 8):
        await submit(client, world, "liaison-a", f"pit-{index}", mapping(box(113.31 + index * 0.001, 34.505,
                                                                            113.33, 34.515)))
    assert await statements() == few
