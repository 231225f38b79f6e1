"""What a screened enforcement case leads to, linked to it: a referral by the agency that holds the
record, or a case a prosecutor opens from the procuratorate's own clue; each naming the record's
parties unless told otherwise, and refused to every other role."""

from __future__ import annotations

import pytest

from tests.conftest import error_codes, graphql, new_id
from tests.enforcement.helpers import PERSON, listed, recorded

OPEN = """mutation($id: ID!, $input: SubmitReferralInput!) {
  openReferralFromEnforcementCase(enforcementCaseId: $id, input: $input) {
    id status title agency { name } parties { kind name idNumber } } }"""
RECORD_REFERRALS = "query($id: ID!) { enforcementCase(id: $id) { referrals { id title status } } }"


def referral_input(**overrides) -> dict:
    value = {"domain": "ECOLOGY_RESOURCES", "title": "占用耕地未恢复", "facts": "处罚后六个月仍未恢复耕地原状。",
             "geometry": {"type": "Point", "coordinates": [113.2, 34.5]}}
    value.update(overrides)
    return value


async def test_the_agency_refers_a_clue_from_its_own_record(client, world, monkeypatch):
    record = await recorded(client, world, monkeypatch)
    body = await graphql(client, OPEN, {"id": record["id"], "input": referral_input()}, world.tokens["liaison-a"])
    assert "errors" not in body, body
    referral = body["data"]["openReferralFromEnforcementCase"]
    assert referral["status"] == "SUBMITTED" and referral["agency"]["name"] == "机关A"
    # The record's parties, protected again as the referral's own (masked for the agency).
    assert [party["name"] for party in referral["parties"]] == ["示例建材有限公司", "甲某"]
    assert referral["parties"][1]["idNumber"] == PERSON[:4] + "*" * 10 + PERSON[-4:]

    for user in ("liaison-a", "prosecutor-1"):
        linked = await graphql(client, RECORD_REFERRALS, {"id": record["id"]}, world.tokens[user])
        assert linked["data"]["enforcementCase"]["referrals"] == [
            {"id": referral["id"], "title": "占用耕地未恢复", "status": "SUBMITTED"}]
    screened = await listed(client, world, "prosecutor-1", {"referred": False})
    assert screened["totalCount"] == 0
    assert (await listed(client, world, "prosecutor-1", {"referred": True}))["totalCount"] == 1

    own_parties = await graphql(client, OPEN, {"id": record["id"], "input": referral_input(
        title="另一线索", parties=[{"kind": "PERSON", "name": "乙某"}])}, world.tokens["liaison-a"])
    assert [party["name"] for party in own_parties["data"]["openReferralFromEnforcementCase"]["parties"]] == ["乙某"]


@pytest.mark.parametrize(("user", "code"), [
    ("liaison-b", "NOT_FOUND"), ("liaison-c", "NOT_FOUND"), ("prosecutor-2", "NOT_FOUND"),
    ("prosecutor-1", "FORBIDDEN"), ("prosecutor-city", "FORBIDDEN"), ("assessor-1", "FORBIDDEN"),
    ("admin", "FORBIDDEN"),
])
async def test_no_one_else_opens_a_referral_from_the_record(client, world, monkeypatch, user, code):
    record = await recorded(client, world, monkeypatch)
    body = await graphql(client, OPEN, {"id": record["id"], "input": referral_input()}, world.tokens[user])
    assert error_codes(body) == [code] and body["data"] is None
    assert "自然资罚" not in body["errors"][0]["message"]
    mine = await graphql(client, RECORD_REFERRALS, {"id": record["id"]}, world.tokens["liaison-a"])
    assert mine["data"]["enforcementCase"]["referrals"] == []


async def test_an_unknown_record_is_not_found(client, world):
    for record_id in (new_id(), "not-an-id"):
        body = await graphql(client, OPEN, {"id": record_id, "input": referral_input()}, world.tokens["liaison-a"])
        assert error_codes(body) == ["NOT_FOUND"]


async def test_a_referral_from_a_record_is_checked_as_any_referral(client, world, monkeypatch):
    record = await recorded(client, world, monkeypatch)
    body = await graphql(client, OPEN, {"id": record["id"], "input": referral_input(title=" ")},
                         world.tokens["liaison-a"])
    assert error_codes(body) == ["VALIDATION"] and body["errors"][0]["extensions"]["field"] == "title"
    mine = await graphql(client, RECORD_REFERRALS, {"id": record["id"]}, world.tokens["liaison-a"])
    assert mine["data"]["enforcementCase"]["referrals"] == []


OPEN_CASE = """mutation($id: ID!, $input: OpenCaseInput!) {
  openCaseFromEnforcementCase(enforcementCaseId: $id, input: $input) {
    id number status agency { name } parties { name idNumber } } }"""
RECORD_CASES = "query($id: ID!) { enforcementCase(id: $id) { cases { id number } } }"


def case_input(**overrides) -> dict:
    value = {"kind": "ADMINISTRATIVE", "title": "耕地被占未恢复", "domain": "ECOLOGY_RESOURCES",
             "facts": "执法数据筛查发现：处罚后耕地仍未恢复。",
             "geometry": {"type": "Point", "coordinates": [113.2, 34.5]}}
    value.update(overrides)
    return value


async def test_a_prosecutor_opens_an_own_clue_case_from_a_screened_record(client, world, monkeypatch):
    record = await recorded(client, world, monkeypatch)
    body = await graphql(client, OPEN_CASE, {"id": record["id"], "input": case_input()}, world.tokens["prosecutor-1"])
    assert "errors" not in body, body
    case = body["data"]["openCaseFromEnforcementCase"]
    assert case["status"] == "FILED" and case["agency"] is None  # the procuratorate's own clue
    assert case["parties"] == [{"name": "示例建材有限公司", "idNumber": None}, {"name": "甲某", "idNumber": PERSON}]

    linked = await graphql(client, RECORD_CASES, {"id": record["id"]}, world.tokens["prosecutor-1"])
    assert linked["data"]["enforcementCase"]["cases"] == [{"id": case["id"], "number": case["number"]}]
    # The agency sees its record, not the procuratorate's own case opened from it.
    agency_view = await graphql(client, RECORD_CASES, {"id": record["id"]}, world.tokens["liaison-a"])
    assert agency_view["data"]["enforcementCase"]["cases"] == []
    assert (await listed(client, world, "prosecutor-1", {"referred": True}))["totalCount"] == 1


@pytest.mark.parametrize(("user", "code"), [
    ("prosecutor-2", "NOT_FOUND"), ("liaison-b", "NOT_FOUND"), ("liaison-a", "FORBIDDEN"),
    ("assessor-1", "FORBIDDEN"), ("admin", "FORBIDDEN"),
])
async def test_only_prosecutors_who_see_the_record_open_a_case_from_it(client, world, monkeypatch, user, code):
    record = await recorded(client, world, monkeypatch)
    body = await graphql(client, OPEN_CASE, {"id": record["id"], "input": case_input()}, world.tokens[user])
    assert error_codes(body) == [code] and body["data"] is None
    linked = await graphql(client, RECORD_CASES, {"id": record["id"]}, world.tokens["prosecutor-1"])
    assert linked["data"]["enforcementCase"]["cases"] == []
