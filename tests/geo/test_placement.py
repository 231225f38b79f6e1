"""Where a referral lies decides where it goes: the district holding most of it receives it; outside
the agency's jurisdiction only when declared cross-boundary; a city-level agency anywhere in its city."""

from __future__ import annotations

import pytest
from shapely.geometry import box, mapping

from tests.conftest import LOGIN, PASSWORD, error_codes, graphql, graphql_upload, uscc
from tests.geo.test_tiles import PNG, point

SUBMIT = """mutation($input: SubmitReferralInput!) { submitReferral(input: $input) {
  id crossBoundary jurisdiction { code } spansJurisdictions { code } } }"""
READ = """query($id: ID!) { referral(id: $id) { id crossBoundary jurisdiction { code } spansJurisdictions { code }
  evidence { filename } } }"""
COUNT = "{ referrals { totalCount } }"
IN_DISTRICT_2 = point(113.7, 34.5)


def referral_input(geometry: dict, **extra) -> dict:
    return {"domain": "ECOLOGY_RESOURCES", "title": "非法采砂", "facts": "事实", "geometry": geometry, **extra}


async def submit(client, world, user: str, geometry: dict, **extra) -> dict:
    return await graphql(client, SUBMIT, {"input": referral_input(geometry, **extra)}, world.tokens[user])


async def total(client, world) -> int:
    return (await graphql(client, COUNT, token=world.tokens["admin"]))["data"]["referrals"]["totalCount"]


async def test_a_place_in_another_district_is_refused_naming_that_district(client, world):
    body = await submit(client, world, "liaison-a", IN_DISTRICT_2)
    assert error_codes(body) == ["VALIDATION"]
    error = body["errors"][0]
    assert error["extensions"]["field"] == "geometry" and error["extensions"]["jurisdictionCode"] == "410102"
    assert "二区" in error["message"] and "410102" in error["message"] and "crossBoundary" in error["message"]
    assert await total(client, world) == 0


@pytest.mark.parametrize("cross_boundary", [False, True])
async def test_a_place_on_no_districts_map_is_refused_even_cross_boundary(client, world, cross_boundary):
    # Another province: nobody on the platform could receive it.
    body = await submit(client, world, "liaison-a", point(120.15, 30.28), crossBoundary=cross_boundary)
    assert error_codes(body) == ["VALIDATION"] and body["errors"][0]["extensions"]["field"] == "geometry"
    assert "no jurisdiction" in body["errors"][0]["message"]
    assert await total(client, world) == 0


async def test_a_declared_cross_boundary_referral_goes_to_the_district_it_lies_in(client, world):
    body = await submit(client, world, "liaison-a", IN_DISTRICT_2, crossBoundary=True)
    referral = body["data"]["submitReferral"]
    assert referral["crossBoundary"] is True and referral["jurisdiction"] == {"code": "410102"}
    assert referral["spansJurisdictions"] == []
    seen = {user: error_codes(await graphql(client, READ, {"id": referral["id"]}, world.tokens[user]))
            for user in ("liaison-a", "prosecutor-2", "prosecutor-city", "admin", "prosecutor-1", "assessor-1",
                         "liaison-b", "liaison-c")}
    assert seen == {"liaison-a": [], "prosecutor-2": [], "prosecutor-city": [], "admin": [],
                    "prosecutor-1": ["NOT_FOUND"], "assessor-1": ["NOT_FOUND"], "liaison-b": ["NOT_FOUND"],
                    "liaison-c": ["NOT_FOUND"]}


async def test_a_declaration_inside_its_own_district_changes_nothing(client, world):
    referral = (await submit(client, world, "liaison-a", point(113.2, 34.5), crossBoundary=True))["data"]
    assert referral["submitReferral"]["crossBoundary"] is False
    assert referral["submitReferral"]["jurisdiction"] == {"code": "410101"}


# Three fifths in district 1 (113.0–113.5°E), two in district 2.
ACROSS = mapping(box(113.47, 34.5, 113.52, 34.51))


async def test_a_referral_spanning_districts_goes_to_the_one_holding_most_of_it(client, world):
    referral = (await submit(client, world, "liaison-a", ACROSS))["data"]["submitReferral"]
    assert referral["jurisdiction"] == {"code": "410101"} and referral["crossBoundary"] is False
    assert referral["spansJurisdictions"] == [{"code": "410101"}, {"code": "410102"}]
    # For the agency of district 2 the same place lies mostly outside its district.
    refused = await submit(client, world, "liaison-c", ACROSS)
    assert error_codes(refused) == ["VALIDATION"] and refused["errors"][0]["extensions"]["jurisdictionCode"] == "410101"


async def test_a_line_is_placed_by_its_length(client, world):
    line = {"type": "LineString", "coordinates": [[113.45, 34.5], [113.52, 34.5]]}  # 5/7 in district 1
    referral = (await submit(client, world, "liaison-c", line, crossBoundary=True))["data"]["submitReferral"]
    assert referral["jurisdiction"] == {"code": "410101"} and referral["crossBoundary"] is True
    assert referral["spansJurisdictions"] == [{"code": "410101"}, {"code": "410102"}]


@pytest.fixture
async def city_liaison(client, world) -> str:
    """A liaison of a city-level agency (410100)."""
    admin = world.tokens["admin"]
    agency = await graphql(client, """mutation($input: CreateAgencyInput!) { createAgency(input: $input) { id } }""",
                           {"input": {"name": "市自然资源局", "kind": "NATURAL_RESOURCES", "uscc": uscc("410100", 7),
                                      "jurisdictionCode": "410100"}}, admin)
    await graphql(client, """mutation($input: CreateUserInput!) { createUser(input: $input) { id } }""",
                  {"input": {"username": "liaison-city", "displayName": "市局联络员", "password": PASSWORD,
                             "role": "AGENCY_LIAISON", "agencyId": agency["data"]["createAgency"]["id"]}}, admin)
    return (await graphql(client, LOGIN, {"username": "liaison-city", "password": PASSWORD}))["data"]["login"]["token"]


async def test_a_city_level_agency_refers_anywhere_in_its_city(client, world, city_liaison):
    for where, code in ((point(113.2, 34.5), "410101"), (IN_DISTRICT_2, "410102"),
                        (point(113.2, 34.1), "410100")):  # the city's strip in no district
        body = await graphql(client, SUBMIT, {"input": referral_input(where)}, city_liaison)
        referral = body["data"]["submitReferral"]
        assert referral["jurisdiction"] == {"code": code} and referral["crossBoundary"] is False
    outside = await graphql(client, SUBMIT, {"input": referral_input(point(120.15, 30.28))}, city_liaison)
    assert error_codes(outside) == ["VALIDATION"]


RETURN = 'mutation($id: ID!) { returnReferral(id: $id, reason: "位置有误") { version } }'
RESUBMIT = """mutation($id: ID!, $version: Int!, $input: ResubmitReferralInput!) {
  resubmitReferral(id: $id, version: $version, input: $input) { id crossBoundary jurisdiction { code } } }"""


async def test_a_resubmitted_place_is_placed_again_and_the_evidence_follows(client, world):
    variables = {"input": referral_input(point(113.2, 34.5)), "evidence": [{"file": None}]}
    response = await graphql_upload(client, """mutation($input: SubmitReferralInput!, $evidence: [EvidenceInput!]) {
        submitReferral(input: $input, evidence: $evidence) { id } }""", variables,
                                    {"variables.evidence.0.file": ("site.png", PNG, "image/png")},
                                    world.tokens["liaison-a"])
    referral_id = response.json()["data"]["submitReferral"]["id"]
    version = (await graphql(client, RETURN, {"id": referral_id}, world.tokens["prosecutor-1"])
               )["data"]["returnReferral"]["version"]
    moved = {"id": referral_id, "version": version, "input": {"geometry": IN_DISTRICT_2}}
    refused = await graphql(client, RESUBMIT, moved, world.tokens["liaison-a"])
    assert error_codes(refused) == ["VALIDATION"] and refused["errors"][0]["extensions"]["field"] == "geometry"
    assert (await graphql(client, READ, {"id": referral_id}, world.tokens["prosecutor-1"])
            )["data"]["referral"]["jurisdiction"] == {"code": "410101"}  # unchanged
    moved["input"]["crossBoundary"] = True
    body = await graphql(client, RESUBMIT, moved, world.tokens["liaison-a"])
    assert body["data"]["resubmitReferral"]["jurisdiction"] == {"code": "410102"}
    assert body["data"]["resubmitReferral"]["crossBoundary"] is True
    now = await graphql(client, READ, {"id": referral_id}, world.tokens["prosecutor-2"])
    assert now["data"]["referral"]["evidence"] == [{"filename": "site.png"}]
    assert error_codes(await graphql(client, READ, {"id": referral_id}, world.tokens["prosecutor-1"])) == ["NOT_FOUND"]
    evidence = await client.get(f"/evidence/{await evidence_id(client, world, referral_id)}/content",
                                headers={"Authorization": f"Bearer {world.tokens['prosecutor-1']}"})
    assert evidence.status_code == 404


async def evidence_id(client, world, referral_id: str) -> str:
    body = await graphql(client, "query($id: ID!) { referral(id: $id) { evidence { id } } }", {"id": referral_id},
                         world.tokens["liaison-a"])
    return body["data"]["referral"]["evidence"][0]["id"]


async def test_an_edit_that_keeps_the_place_keeps_the_declaration(client, world):
    referral_id = (await submit(client, world, "liaison-a", IN_DISTRICT_2, crossBoundary=True)
                   )["data"]["submitReferral"]["id"]
    version = (await graphql(client, RETURN, {"id": referral_id}, world.tokens["prosecutor-2"])
               )["data"]["returnReferral"]["version"]
    body = await graphql(client, RESUBMIT, {"id": referral_id, "version": version,
                                            "input": {"geometry": point(113.71, 34.5)}}, world.tokens["liaison-a"])
    assert body["data"]["resubmitReferral"] == {"id": referral_id, "crossBoundary": True,
                                                "jurisdiction": {"code": "410102"}}
