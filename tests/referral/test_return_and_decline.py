"""Returning a referral for more material, the agency's edit and resubmission, and declining it."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import error_codes, graphql, graphql_upload, home
from tests.referral.test_parties import ENTERPRISE, PERSON
from tests.referral.test_submit import PNG

SUBMIT = """mutation($input: SubmitReferralInput!, $evidence: [EvidenceInput!]) {
  submitReferral(input: $input, evidence: $evidence) { id version } }"""
REGISTER = "mutation($id: ID!) { registerReferral(id: $id) { status number version } }"
WITHDRAW = "mutation($id: ID!, $reason: String!) { withdrawReferral(id: $id, reason: $reason) { status version } }"
RETURN = "mutation($id: ID!, $reason: String!) { returnReferral(id: $id, reason: $reason) { status version } }"
DECLINE = "mutation($id: ID!, $reason: String!) { declineReferral(id: $id, reason: $reason) { status version } }"
RESUBMIT = """mutation($id: ID!, $version: Int!, $input: ResubmitReferralInput!) {
  resubmitReferral(id: $id, version: $version, input: $input) { status version } }"""
STATE = """query($id: ID!) { referral(id: $id) {
  status version number title facts address foundOn legalBasis urgent harms geometry outcomeReason
  parties { kind name idNumber uscc role } evidence { filename sha256 }
  history { action fromStatus toStatus actorName reason } } }"""

POINT = {"type": "Point", "coordinates": [113.2, 34.5]}
MUTATIONS = {"return": RETURN, "decline": DECLINE, "withdraw": WITHDRAW}


async def submitted(client, world, user: str = "liaison-a") -> str:
    body = await graphql(client, SUBMIT, {"input": {"domain": "STATE_PROPERTY", "title": "国有资产低价处置",
                                                    "facts": "事实", "geometry": home(user)}},
                         world.tokens[user])
    assert body["data"]["submitReferral"]["version"] == 1
    return body["data"]["submitReferral"]["id"]


async def state(client, world, referral_id: str, user: str = "liaison-a") -> dict:
    body = await graphql(client, STATE, {"id": referral_id}, world.tokens[user])
    assert "errors" not in body, body
    return body["data"]["referral"]


async def act(client, world, action: str, referral_id: str, user: str, reason: str = "材料不全") -> dict:
    return await graphql(client, MUTATIONS[action], {"id": referral_id, "reason": reason}, world.tokens[user])


async def resubmit(client, world, referral_id: str, version: int, user: str = "liaison-a", **fields) -> dict:
    return await graphql(client, RESUBMIT, {"id": referral_id, "version": version, "input": fields},
                         world.tokens[user])


async def in_status(client, world, status: str) -> str:
    """A referral of liaison-a's agency brought to `status` by the usual path."""
    referral_id = await submitted(client, world)
    if status in ("REGISTERED", "DECLINED"):
        assert "errors" not in await graphql(client, REGISTER, {"id": referral_id}, world.tokens["prosecutor-1"])
    if status == "RETURNED":
        assert "errors" not in await act(client, world, "return", referral_id, "prosecutor-1")
    if status == "DECLINED":
        assert "errors" not in await act(client, world, "decline", referral_id, "prosecutor-1")
    if status == "WITHDRAWN":
        assert "errors" not in await act(client, world, "withdraw", referral_id, "liaison-a")
    return referral_id


async def test_return_on_receipt_and_resubmission_with_the_current_version(client, world):
    referral_id = await submitted(client, world)
    returned = await act(client, world, "return", referral_id, "prosecutor-1", reason="请补充现场照片和测绘报告")
    assert returned["data"]["returnReferral"] == {"status": "RETURNED", "version": 2}
    seen = await state(client, world, referral_id)
    assert seen["outcomeReason"] == "请补充现场照片和测绘报告"
    assert seen["history"][-1] == {"action": "return", "fromStatus": "SUBMITTED", "toStatus": "RETURNED",
                                   "actorName": "prosecutor-1", "reason": "请补充现场照片和测绘报告"}

    body = await resubmit(client, world, referral_id, 2, title="国有资产低价处置（补充）", facts="补充后的事实",
                          address="某路1号", foundOn="2026-01-05", legalBasis="《国有资产法》第五十四条",
                          urgent=True, harms=["STATE_INTERESTS"], crs="WGS84",
                          geometry={"type": "Point", "coordinates": [113.25, 34.55]},
                          parties=[{"kind": "ENTERPRISE", "name": "某公司", "uscc": ENTERPRISE}])
    assert body["data"]["resubmitReferral"] == {"status": "SUBMITTED", "version": 3}
    after = await state(client, world, referral_id)
    assert {key: after[key] for key in ("title", "facts", "address", "foundOn", "legalBasis", "urgent", "harms",
                                        "geometry", "outcomeReason")} == {
        "title": "国有资产低价处置（补充）", "facts": "补充后的事实", "address": "某路1号", "foundOn": "2026-01-05",
        "legalBasis": "《国有资产法》第五十四条", "urgent": True, "harms": ["STATE_INTERESTS"],
        "geometry": {"type": "Point", "coordinates": [113.25, 34.55]}, "outcomeReason": None}
    assert after["parties"] == [{"kind": "ENTERPRISE", "name": "某公司", "idNumber": None, "uscc": ENTERPRISE,
                                 "role": None}]
    assert after["history"][-1] == {"action": "resubmit", "fromStatus": "RETURNED", "toStatus": "SUBMITTED",
                                    "actorName": "liaison-a", "reason": None}
    registered = await graphql(client, REGISTER, {"id": referral_id}, world.tokens["prosecutor-1"])
    assert registered["data"]["registerReferral"]["version"] == 4


async def test_fields_left_out_of_a_resubmission_and_the_evidence_stay_as_they_were(client, world):
    variables = {"input": {"domain": "ECOLOGY_RESOURCES", "title": "无证采矿", "facts": "事实", "geometry": POINT,
                           "address": "某村", "legalBasis": "《矿产资源法》第三条",
                           "parties": [{"kind": "PERSON", "name": "甲某", "idNumber": PERSON}]},
                 "evidence": [{"file": None, "description": "现场照片"}]}
    response = await graphql_upload(client, SUBMIT, variables, {"variables.evidence.0.file": ("a.png", PNG, "image/png")},
                                    world.tokens["liaison-a"])
    referral_id = response.json()["data"]["submitReferral"]["id"]
    await act(client, world, "return", referral_id, "prosecutor-1")
    before = await state(client, world, referral_id)
    body = await resubmit(client, world, referral_id, before["version"], facts="补充了开采面积")
    assert body["data"]["resubmitReferral"]["status"] == "SUBMITTED"
    after = await state(client, world, referral_id)
    unchanged = ("title", "address", "legalBasis", "geometry", "harms", "urgent", "parties", "evidence")
    assert {key: after[key] for key in unchanged} == {key: before[key] for key in unchanged}
    assert after["facts"] == "补充了开采面积" and len(after["evidence"]) == 1


async def test_a_registered_referral_returned_and_registered_again_keeps_its_number(client, world):
    referral_id = await submitted(client, world)
    first = await graphql(client, REGISTER, {"id": referral_id}, world.tokens["prosecutor-1"])
    number = first["data"]["registerReferral"]["number"]
    assert number
    returned = await act(client, world, "return", referral_id, "prosecutor-city", reason="补充鉴定意见")
    assert returned["data"]["returnReferral"] == {"status": "RETURNED", "version": 3}
    assert (await resubmit(client, world, referral_id, 3, title="补充后"))["data"]["resubmitReferral"]["version"] == 4
    again = await graphql(client, REGISTER, {"id": referral_id}, world.tokens["prosecutor-1"])
    assert again["data"]["registerReferral"] == {"status": "REGISTERED", "number": number, "version": 5}


async def test_a_stale_version_is_a_conflict_and_changes_nothing(client, world):
    referral_id = await in_status(client, world, "RETURNED")
    before = await state(client, world, referral_id)
    for version in (1, 3):
        body = await resubmit(client, world, referral_id, version, title="基于旧版本的修改")
        assert error_codes(body) == ["CONFLICT"]
        assert body["errors"][0]["extensions"]["field"] == "version"
    assert await state(client, world, referral_id) == before


async def test_of_two_concurrent_resubmissions_of_one_version_exactly_one_wins(client, world):
    referral_id = await in_status(client, world, "RETURNED")
    bodies = await asyncio.gather(*(resubmit(client, world, referral_id, 2, title=f"修改{index}")
                                    for index in range(2)))
    assert sorted(error_codes(body) or ["OK"] for body in bodies) == [["CONFLICT"], ["OK"]]
    winner = next(index for index, body in enumerate(bodies) if "errors" not in body)
    after = await state(client, world, referral_id)
    assert (after["title"], after["version"], after["status"]) == (f"修改{winner}", 3, "SUBMITTED")
    assert [row["action"] for row in after["history"]] == ["submit", "return", "resubmit"]


async def test_the_liaison_sees_why_the_clue_was_declined(client, world):
    referral_id = await in_status(client, world, "REGISTERED")
    body = await act(client, world, "decline", referral_id, "prosecutor-1", reason="经评估，不属于公益诉讼范围")
    assert body["data"]["declineReferral"] == {"status": "DECLINED", "version": 3}
    seen = await state(client, world, referral_id, user="liaison-a")
    assert seen["status"] == "DECLINED"
    assert seen["outcomeReason"] == "经评估，不属于公益诉讼范围"
    assert seen["history"][-1] == {"action": "decline", "fromStatus": "REGISTERED", "toStatus": "DECLINED",
                                   "actorName": "prosecutor-1", "reason": "经评估，不属于公益诉讼范围"}


async def test_a_returned_referral_may_be_withdrawn_with_a_reason(client, world):
    referral_id = await in_status(client, world, "RETURNED")
    assert error_codes(await act(client, world, "withdraw", referral_id, "liaison-a", reason=" ")) == ["VALIDATION"]
    body = await act(client, world, "withdraw", referral_id, "liaison-a", reason="无法补充")
    assert body["data"]["withdrawReferral"] == {"status": "WITHDRAWN", "version": 3}
    after = await state(client, world, referral_id)
    assert after["history"][-1]["reason"] == "无法补充" and after["outcomeReason"] is None


@pytest.mark.parametrize("action", ["return", "decline"])
async def test_return_and_decline_need_a_reason(client, world, action):
    referral_id = await in_status(client, world, "REGISTERED")
    for reason in ("", "  "):
        body = await act(client, world, action, referral_id, "prosecutor-1", reason=reason)
        assert error_codes(body) == ["VALIDATION"] and body["errors"][0]["extensions"]["field"] == "reason"
    assert (await state(client, world, referral_id))["status"] == "REGISTERED"


@pytest.mark.parametrize("action, status", [
    ("return", "RETURNED"), ("return", "WITHDRAWN"), ("return", "DECLINED"),
    ("decline", "SUBMITTED"), ("decline", "RETURNED"), ("decline", "WITHDRAWN"), ("decline", "DECLINED"),
    ("withdraw", "REGISTERED"), ("withdraw", "DECLINED"),
    ("resubmit", "SUBMITTED"), ("resubmit", "REGISTERED"), ("resubmit", "WITHDRAWN"), ("resubmit", "DECLINED"),
])
async def test_wrong_source_is_an_invalid_transition(client, world, action, status):
    referral_id = await in_status(client, world, status)
    before = await state(client, world, referral_id)
    if action == "resubmit":
        body = await resubmit(client, world, referral_id, before["version"], title="修改")
    else:
        body = await act(client, world, action, referral_id, "liaison-a" if action == "withdraw" else "prosecutor-1")
    assert error_codes(body) == ["INVALID_TRANSITION"]
    assert await state(client, world, referral_id) == before


@pytest.mark.parametrize("action, status, user", [
    *[("return", "SUBMITTED", user) for user in ("liaison-a", "assessor-1", "admin")],
    *[("decline", "REGISTERED", user) for user in ("liaison-a", "assessor-1", "admin")],
    *[("resubmit", "RETURNED", user) for user in ("prosecutor-1", "assessor-1", "admin")],
    *[("withdraw", "RETURNED", user) for user in ("prosecutor-1", "assessor-1", "admin")],
])
async def test_other_roles_are_forbidden_and_change_nothing(client, world, action, status, user):
    referral_id = await in_status(client, world, status)
    before = await state(client, world, referral_id)
    if action == "resubmit":
        body = await resubmit(client, world, referral_id, before["version"], user=user, title="修改")
    else:
        body = await act(client, world, action, referral_id, user)
    assert error_codes(body) == ["FORBIDDEN"]
    assert await state(client, world, referral_id) == before


async def test_out_of_scope_actors_get_not_found(client, world):
    returned = await in_status(client, world, "RETURNED")
    assert error_codes(await resubmit(client, world, returned, 2, user="liaison-b", title="x")) == ["NOT_FOUND"]
    registered = await in_status(client, world, "REGISTERED")
    for action in ("return", "decline"):
        assert error_codes(await act(client, world, action, registered, "prosecutor-2")) == ["NOT_FOUND"]
    assert (await state(client, world, returned))["status"] == "RETURNED"
    assert (await state(client, world, registered))["status"] == "REGISTERED"


@pytest.mark.parametrize("fields, code, field", [
    ({"title": " "}, "VALIDATION", "title"),
    ({"facts": ""}, "VALIDATION", "facts"),
    ({"harms": []}, "VALIDATION", "harms"),
    ({"foundOn": "2999-01-01"}, "VALIDATION", "foundOn"),
    ({"parties": [{"kind": "PERSON", "name": "乙某", "idNumber": "410101198503170000"}]}, "VALIDATION", None),
    ({"geometry": {"type": "Point", "coordinates": [500, 34.5]}}, "INVALID_GEOMETRY", None),
])
async def test_a_resubmission_is_checked_as_a_submission_is(client, world, fields, code, field):
    referral_id = await in_status(client, world, "RETURNED")
    before = await state(client, world, referral_id)
    body = await resubmit(client, world, referral_id, 2, **{"title": "有效的标题", **fields})
    assert error_codes(body) == [code]
    if field:
        assert body["errors"][0]["extensions"]["field"] == field
    assert await state(client, world, referral_id) == before
