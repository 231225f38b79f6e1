"""A case from the procuratorate's own clue (no referral, no referring agency), and the parties a
case carries either way."""

from __future__ import annotations

import json

import pytest
from coordTransform import wgs84_to_gcj02

from core import clock
from tests.cases.helpers import ACTORS
from tests.conftest import error_codes, graphql
from tests.referral.test_parties import ENTERPRISE, PERSON
from tests.referral.test_return_and_decline import POINT, REGISTER

OPEN = """mutation($input: OpenCaseInput!) { openCase(input: $input) {
  id number kind status title facts address harms referralId agency { name } jurisdiction { code }
  domain { code } geometry areaMu parties { kind name role idNumber uscc } history { action toStatus actorName } } }"""
CASE = """query($id: ID!) { case(id: $id) { number title parties { name idNumber uscc } } }"""
CASES = "query { cases { totalCount edges { node { id } } } }"
MASKED = PERSON[:4] + "*" * 10 + PERSON[-4:]
POLYGON = {"type": "Polygon", "coordinates": [[[113.20, 34.50], [113.21, 34.50], [113.21, 34.51], [113.20, 34.51],
                                              [113.20, 34.50]]]}
CLUE = {"kind": "ADMINISTRATIVE", "title": "耕地被违法占用未恢复", "domain": "ECOLOGY_RESOURCES",
        "facts": "数据比对发现：占用耕地处罚后无复垦记录。", "address": "某乡某村", "geometry": POLYGON,
        "crs": "WGS84", "harms": ["STATE_INTERESTS", "PUBLIC_INTEREST"],
        "parties": [{"kind": "ENTERPRISE", "name": "某建材有限公司", "uscc": ENTERPRISE, "role": "违法行为人"},
                    {"kind": "PERSON", "name": "某甲", "idNumber": PERSON.lower(), "role": "法定代表人"}]}


def case_number(code: str, serial: int) -> str:
    return f"{code}公益立〔{clock.today().year}〕{serial}号"


@pytest.mark.parametrize("user, code, jurisdiction", [("prosecutor-1", "一检", "410101"),
                                                      ("prosecutor-city", "测试检", "410100")])
async def test_a_prosecutor_opens_a_case_from_the_procuratorates_own_clue(client, world, user, code, jurisdiction):
    body = await graphql(client, OPEN, {"input": CLUE}, world.tokens[user])
    case = body["data"]["openCase"]
    assert case | {"id": None, "areaMu": None, "geometry": None, "parties": None} == {
        "id": None, "number": case_number(code, 1), "kind": "ADMINISTRATIVE", "status": "FILED",
        "title": CLUE["title"], "facts": CLUE["facts"], "address": "某乡某村",
        "harms": ["STATE_INTERESTS", "PUBLIC_INTEREST"], "referralId": None, "agency": None,
        "jurisdiction": {"code": jurisdiction}, "domain": {"code": "ECOLOGY_RESOURCES"}, "areaMu": None,
        "geometry": None, "parties": None,
        "history": [{"action": "file", "toStatus": "FILED", "actorName": user}]}
    assert case["geometry"] == POLYGON and 1500 < case["areaMu"] < 1800
    # The number in full for the procuratorate that opened it (the lower-case x normalised).
    assert case["parties"] == [
        {"kind": "ENTERPRISE", "name": "某建材有限公司", "role": "违法行为人", "idNumber": None, "uscc": ENTERPRISE},
        {"kind": "PERSON", "name": "某甲", "role": "法定代表人", "idNumber": PERSON, "uscc": None}]


async def test_no_agency_sees_an_own_clue_case_and_other_roles_see_numbers_masked(client, world):
    case_id = (await graphql(client, OPEN, {"input": CLUE}, world.tokens["prosecutor-1"]))["data"]["openCase"]["id"]
    for user in ("liaison-a", "liaison-b", "liaison-c", "prosecutor-2"):
        assert error_codes(await graphql(client, CASE, {"id": case_id}, world.tokens[user])) == ["NOT_FOUND"], user
        assert (await graphql(client, CASES, {}, world.tokens[user]))["data"]["cases"]["totalCount"] == 0
    for user in ("prosecutor-city", "assessor-1", "admin"):
        body = await graphql(client, CASE, {"id": case_id}, world.tokens[user])
        assert [party["idNumber"] for party in body["data"]["case"]["parties"]] == [None, MASKED], user
        assert PERSON not in json.dumps(body)


@pytest.mark.parametrize("user", ["liaison-a", "assessor-1", "admin"])
async def test_no_one_else_opens_a_case(client, world, user):
    body = await graphql(client, OPEN, {"input": CLUE}, world.tokens[user])
    assert error_codes(body) == ["FORBIDDEN"]
    assert (await graphql(client, CASES, {}, world.tokens["admin"]))["data"]["cases"]["totalCount"] == 0


@pytest.mark.parametrize("fields, code, field", [
    ({"domain": "NO_SUCH_DOMAIN"}, "VALIDATION", "domain"),
    ({"harms": []}, "VALIDATION", "harms"),
    ({"title": " "}, "VALIDATION", "title"),
    ({"facts": ""}, "VALIDATION", "facts"),
    ({"geometry": {"type": "Point", "coordinates": [200, 34]}}, "INVALID_GEOMETRY", "geometry"),
    ({"parties": [{"kind": "PERSON", "name": "某乙", "idNumber": PERSON[:-1] + "0"}]}, "VALIDATION",
     "parties.0.idNumber"),
    ({"parties": [{"kind": "ENTERPRISE", "name": "某公司", "uscc": ENTERPRISE[:-1] + "0"}]}, "VALIDATION",
     "parties.0.uscc"),
])
async def test_an_own_clue_is_checked_as_a_referral_is(client, world, fields, code, field):
    body = await graphql(client, OPEN, {"input": {**CLUE, **fields}}, world.tokens["prosecutor-1"])
    assert error_codes(body) == [code], body
    assert body["errors"][0]["extensions"]["field"] == field
    assert PERSON[:-1] not in json.dumps(body)  # an identity number is never repeated in an error
    assert (await graphql(client, CASES, {}, world.tokens["admin"]))["data"]["cases"]["totalCount"] == 0


async def test_geometry_in_gcj02_is_stored_in_wgs84(client, world):
    point = {"type": "Point", "coordinates": [113.2, 34.5]}
    body = await graphql(client, OPEN, {"input": {**CLUE, "geometry": point, "crs": "GCJ02"}},
                         world.tokens["prosecutor-1"])
    lon, lat = body["data"]["openCase"]["geometry"]["coordinates"]
    # Stored where GCJ-02 would show it at the point sent.
    assert wgs84_to_gcj02(lon, lat) == pytest.approx([113.2, 34.5], abs=1e-6)
    assert abs(lon - 113.2) > 0.003  # GCJ-02 is offset by some hundred metres here


async def test_a_filed_case_keeps_what_its_referral_said(client, world):
    submit = """mutation($input: SubmitReferralInput!) { submitReferral(input: $input) { id } }"""
    referral = await graphql(client, submit, {"input": {
        "domain": "STATE_PROPERTY", "title": "国有资产低价处置", "facts": "事实", "geometry": POINT,
        "address": "某路1号", "harms": ["STATE_INTERESTS"],
        "parties": [{"kind": "PERSON", "name": "某甲", "idNumber": PERSON}]}}, world.tokens["liaison-a"])
    referral_id = referral["data"]["submitReferral"]["id"]
    assert "errors" not in await graphql(client, REGISTER, {"id": referral_id}, world.tokens["prosecutor-1"])
    body = await graphql(client, """mutation($id: ID!) { fileCase(referralId: $id, input: {kind: ADMINISTRATIVE}) {
      id title facts address harms geometry domain { code } agency { name } parties { name idNumber } } }""",
                         {"id": referral_id}, world.tokens["prosecutor-1"])
    case = body["data"]["fileCase"]
    assert case | {"id": None} == {
        "id": None, "title": "国有资产低价处置", "facts": "事实", "address": "某路1号", "harms": ["STATE_INTERESTS"],
        "geometry": POINT, "domain": {"code": "STATE_PROPERTY"}, "agency": {"name": "机关A"},
        "parties": [{"name": "某甲", "idNumber": PERSON}]}
    seen = await graphql(client, CASE, {"id": case["id"]}, world.tokens["liaison-a"])
    assert seen["data"]["case"]["parties"] == [{"name": "某甲", "idNumber": MASKED, "uscc": None}]


@pytest.mark.parametrize("user", ACTORS)
async def test_own_clue_numbers_follow_the_procuratorates_count(client, world, user):
    first = (await graphql(client, OPEN, {"input": CLUE}, world.tokens[user]))["data"]["openCase"]["number"]
    second = (await graphql(client, OPEN, {"input": CLUE}, world.tokens[user]))["data"]["openCase"]["number"]
    code = "一检" if user == "prosecutor-1" else "测试检"
    assert [first, second] == [case_number(code, 1), case_number(code, 2)]
