"""Administrators build the map of jurisdictions, agencies and accounts; nobody else can."""

from __future__ import annotations

import pytest

from tests.conftest import LOGIN, error_codes, graphql, uscc

CREATE_JURISDICTION = """mutation($input: CreateJurisdictionInput!) { createJurisdiction(input: $input) {
  id code level parent { code } procuratorate { id name } areaSquareMeters areaHectares areaMu } }"""
CREATE_USER = """mutation($input: CreateUserInput!) { createUser(input: $input) {
  id username role isActive agency { name } procuratorate { name } jurisdiction { code } } }"""
CREATE_AGENCY = """mutation($input: CreateAgencyInput!) { createAgency(input: $input) { id name } }"""
# In the world city's southern strip, which no district holds yet.
SQUARE = {"type": "Polygon", "coordinates": [[[113.6, 34.05], [113.7, 34.05], [113.7, 34.15], [113.6, 34.15],
                                               [113.6, 34.05]]]}


def district(**overrides) -> dict:
    value = {"code": "410103", "name": "三区", "level": "DISTRICT", "boundary": SQUARE, "parentCode": "410100",
             "procuratorateName": "三区人民检察院"}
    value.update(overrides)
    return value


async def test_new_district_with_its_procuratorate_prosecutor_and_agency(client, world):
    admin = world.tokens["admin"]
    body = await graphql(client, CREATE_JURISDICTION, {"input": district()}, admin)
    created = body["data"]["createJurisdiction"]
    assert created["parent"] == {"code": "410100"} and created["procuratorate"]["name"] == "三区人民检察院"
    assert 100e6 < created["areaSquareMeters"] < 110e6  # 0.1° × 0.1° at 34.1°N
    assert created["areaHectares"] == pytest.approx(created["areaSquareMeters"] / 10000)
    assert created["areaMu"] == pytest.approx(created["areaSquareMeters"] * 15 / 10000)

    agency = await graphql(client, CREATE_AGENCY, {"input": {"name": "三区水利局", "kind": "WATER_RESOURCES",
                                                             "uscc": uscc("410103", 9), "jurisdictionCode": "410103"}},
                           admin)
    prosecutor = await graphql(client, CREATE_USER, {"input": {
        "username": "prosecutor-3", "displayName": "三区检察官", "password": "long-enough-pw",
        "role": "PROSECUTOR", "procuratorateId": created["procuratorate"]["id"]}}, admin)
    assert prosecutor["data"]["createUser"]["procuratorate"] == {"name": "三区人民检察院"}
    login = await graphql(client, LOGIN, {"username": "prosecutor-3", "password": "long-enough-pw"})
    token = login["data"]["login"]["token"]
    seen = await graphql(client, "{ agencies { name } }", token=token)
    assert seen["data"]["agencies"] == [{"name": "三区水利局"}]
    # The city-level prosecutor sees the new district at once.
    city = await graphql(client, "{ agencies(jurisdictionCode: \"410103\") { name } }",
                         token=world.tokens["prosecutor-city"])
    assert city["data"]["agencies"] == [{"name": "三区水利局"}]
    assert agency["data"]["createAgency"]["name"] == "三区水利局"


@pytest.mark.parametrize("overrides, code, field", [
    ({"code": "41010"}, "VALIDATION", "code"),
    ({"code": "420103"}, "VALIDATION", "code"),  # not under 410100
    ({"code": "411103"}, "VALIDATION", "code"),  # city 4111's, not 4101's
    ({"code": "410100"}, "VALIDATION", "code"),  # the parent itself
    ({"code": "410101"}, "CONFLICT", None),
    ({"parentCode": "999999"}, "NOT_FOUND", "parentCode"),
    ({"boundary": {"type": "Point", "coordinates": [113.6, 34.6]}}, "INVALID_GEOMETRY", "boundary"),
    ({"name": " "}, "VALIDATION", "name"),
])
async def test_bad_jurisdictions_are_refused(client, world, overrides, code, field):
    body = await graphql(client, CREATE_JURISDICTION, {"input": district(**overrides)}, world.tokens["admin"])
    assert error_codes(body) == [code]
    assert body["errors"][0]["extensions"].get("field") == field
    listed = await graphql(client, "{ jurisdictions { code } }", token=world.tokens["admin"])
    assert len(listed["data"]["jurisdictions"]) == 3  # nothing half-made was left behind


@pytest.mark.parametrize("user", ["prosecutor-city", "assessor-1", "liaison-a"])
async def test_only_admins_manage_the_map_and_accounts(client, world, user):
    token = world.tokens[user]
    assert error_codes(await graphql(client, CREATE_JURISDICTION, {"input": district()}, token)) == ["FORBIDDEN"]
    assert error_codes(await graphql(client, CREATE_USER, {"input": {
        "username": "sneaky", "displayName": "x", "password": "long-enough-pw", "role": "ADMIN"}}, token)) == \
        ["FORBIDDEN"]
    assert error_codes(await graphql(client, "{ users { username } }", token=token)) == ["FORBIDDEN"]


@pytest.mark.parametrize("input, field", [
    ({"role": "AGENCY_LIAISON"}, "agencyId"),
    ({"role": "PROSECUTOR"}, "procuratorateId"),
    ({"role": "ASSESSOR"}, "jurisdictionCode"),
    ({"role": "AGENCY_LIAISON", "agencyId": "not-an-id"}, "agencyId"),
    ({"role": "ADMIN", "password": "short"}, "password"),
    ({"role": "ADMIN", "username": "Bad Name!"}, "username"),
])
async def test_accounts_need_their_binding_and_sane_credentials(client, world, input, field):
    value = {"username": "new-user", "displayName": "新用户", "password": "long-enough-pw", **input}
    body = await graphql(client, CREATE_USER, {"input": value}, world.tokens["admin"])
    assert error_codes(body) == ["VALIDATION"] and body["errors"][0]["extensions"]["field"] == field


async def test_usernames_are_unique_and_accounts_listed(client, world):
    value = {"username": "liaison-a", "displayName": "重名", "password": "long-enough-pw", "role": "ADMIN"}
    assert error_codes(await graphql(client, CREATE_USER, {"input": value}, world.tokens["admin"])) == ["CONFLICT"]
    listed = await graphql(client, "query($a: ID) { users(role: AGENCY_LIAISON, agencyId: $a) { username } }",
                           {"a": world.ids["agency:A"]}, world.tokens["admin"])
    assert listed["data"]["users"] == [{"username": "liaison-a"}]
