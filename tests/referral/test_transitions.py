"""The referral state machine: allowed moves, refused ones, and the audit trail."""

from __future__ import annotations

import pytest

from referral.flows import REFERRAL_TRANSITIONS, ReferralStatus
from tests.conftest import error_codes, graphql, home

SUBMIT = "mutation($input: SubmitReferralInput!) { submitReferral(input: $input) { id } }"
WITHDRAW = "mutation($id: ID!, $reason: String!) { withdrawReferral(id: $id, reason: $reason) { status } }"
REGISTER = "mutation($id: ID!) { registerReferral(id: $id) { status } }"
HISTORY = "query($id: ID!) { referral(id: $id) { status history { action fromStatus toStatus actorName reason } } }"


async def submitted(client, world, user="liaison-a") -> str:
    body = await graphql(client, SUBMIT, {"input": {"domain": "STATE_PROPERTY", "title": "国有资产低价处置",
                                                    "facts": "事实", "geometry": home(user)}},
                         world.tokens[user])
    return body["data"]["submitReferral"]["id"]


async def test_register_then_no_withdrawal(client, world):
    referral_id = await submitted(client, world)
    body = await graphql(client, REGISTER, {"id": referral_id}, world.tokens["prosecutor-1"])
    assert body["data"]["registerReferral"]["status"] == "REGISTERED"
    refused = await graphql(client, WITHDRAW, {"id": referral_id, "reason": "误报"}, world.tokens["liaison-a"])
    assert error_codes(refused) == ["INVALID_TRANSITION"]
    again = await graphql(client, REGISTER, {"id": referral_id}, world.tokens["prosecutor-1"])
    assert error_codes(again) == ["INVALID_TRANSITION"]
    history = await graphql(client, HISTORY, {"id": referral_id}, world.tokens["liaison-a"])
    assert history["data"]["referral"]["history"] == [
        {"action": "submit", "fromStatus": None, "toStatus": "SUBMITTED", "actorName": "liaison-a", "reason": None},
        {"action": "register", "fromStatus": "SUBMITTED", "toStatus": "REGISTERED", "actorName": "prosecutor-1",
         "reason": None},
    ]


async def test_withdraw_needs_a_reason_and_the_right_role(client, world):
    referral_id = await submitted(client, world)
    assert error_codes(await graphql(client, WITHDRAW, {"id": referral_id, "reason": " "},
                                     world.tokens["liaison-a"])) == ["VALIDATION"]
    assert error_codes(await graphql(client, WITHDRAW, {"id": referral_id, "reason": "误报"},
                                     world.tokens["prosecutor-1"])) == ["FORBIDDEN"]
    body = await graphql(client, WITHDRAW, {"id": referral_id, "reason": "误报"}, world.tokens["liaison-a"])
    assert body["data"]["withdrawReferral"]["status"] == "WITHDRAWN"
    assert error_codes(await graphql(client, REGISTER, {"id": referral_id},
                                     world.tokens["prosecutor-1"])) == ["INVALID_TRANSITION"]
    history = await graphql(client, HISTORY, {"id": referral_id}, world.tokens["prosecutor-1"])
    assert history["data"]["referral"]["history"][-1]["reason"] == "误报"


async def test_out_of_scope_actors_get_not_found(client, world):
    referral_id = await submitted(client, world)
    assert error_codes(await graphql(client, WITHDRAW, {"id": referral_id, "reason": "x"},
                                     world.tokens["liaison-b"])) == ["NOT_FOUND"]
    assert error_codes(await graphql(client, REGISTER, {"id": referral_id},
                                     world.tokens["prosecutor-2"])) == ["NOT_FOUND"]
    status = await graphql(client, HISTORY, {"id": referral_id}, world.tokens["liaison-a"])
    assert status["data"]["referral"]["status"] == "SUBMITTED"


def test_every_status_is_reachable_from_submission():
    reachable = {ReferralStatus.SUBMITTED}
    for transition in REFERRAL_TRANSITIONS:
        if transition.source in reachable:
            reachable.add(transition.target)
    assert reachable == set(ReferralStatus)


async def test_domains_are_data_and_need_a_sign_in(client, world):
    assert error_codes(await graphql(client, "{ referralDomains { code } }")) == ["UNAUTHENTICATED"]
    body = await graphql(client, "{ referralDomains { code nameZh } }", token=world.tokens["liaison-a"])
    codes = [row["code"] for row in body["data"]["referralDomains"]]
    assert codes[:4] == ["ECOLOGY_RESOURCES", "FOOD_DRUG_SAFETY", "STATE_PROPERTY", "STATE_LAND_TRANSFER"]
    assert "PERSONAL_INFORMATION" in codes


SAVE_DOMAIN = """mutation($code: String!, $zh: String!, $en: String!, $active: Boolean!) {
  saveReferralDomain(code: $code, nameZh: $zh, nameEn: $en, isActive: $active) { code nameZh } }"""


async def test_administrators_add_and_retire_domains(client, world, resources):
    from sqlalchemy import text

    admin = world.tokens["admin"]
    try:
        added = await graphql(client, SAVE_DOMAIN, {"code": "WATER_SAFETY", "zh": "饮用水安全", "en": "Drinking water",
                                                    "active": True}, admin)
        assert added["data"]["saveReferralDomain"] == {"code": "WATER_SAFETY", "nameZh": "饮用水安全"}
        listed = await graphql(client, "{ referralDomains { code } }", token=world.tokens["liaison-a"])
        assert listed["data"]["referralDomains"][-1] == {"code": "WATER_SAFETY"}
        used = await graphql(client, SUBMIT, {"input": {"domain": "WATER_SAFETY", "title": "水源地污染", "facts": "事实",
                                                        "geometry": {"type": "Point", "coordinates": [113.2, 34.5]}}},
                             world.tokens["liaison-a"])
        assert "errors" not in used
        retired = await graphql(client, SAVE_DOMAIN, {"code": "WATER_SAFETY", "zh": "饮用水安全", "en": "Drinking water",
                                                      "active": False}, admin)
        assert "errors" not in retired
        refused = await graphql(client, SUBMIT, {"input": {"domain": "WATER_SAFETY", "title": "再报", "facts": "事实",
                                                           "geometry": {"type": "Point", "coordinates": [113.2, 34.5]}}},
                                world.tokens["liaison-a"])
        assert error_codes(refused) == ["VALIDATION"]
        assert error_codes(await graphql(client, SAVE_DOMAIN, {"code": "bad code", "zh": "x", "en": "x",
                                                               "active": True}, admin)) == ["VALIDATION"]
        assert error_codes(await graphql(client, SAVE_DOMAIN, {"code": "OTHER_THING", "zh": "x", "en": "x",
                                                               "active": True}, world.tokens["prosecutor-city"])) == \
            ["FORBIDDEN"]
    finally:
        async with resources.session_factory() as session:
            # Domains are reference data the per-test reset keeps: take this one out by hand.
            await session.execute(text("TRUNCATE referral, referral_status_change CASCADE"))
            await session.execute(text("DELETE FROM referral_domain WHERE code = 'WATER_SAFETY'"))
            await session.commit()


async def test_concurrent_transitions_cannot_both_start_from_the_same_status(client, world):
    import asyncio

    referral_id = await submitted(client, world)
    attempts = [graphql(client, REGISTER, {"id": referral_id}, world.tokens[user])
                for user in ("prosecutor-1", "prosecutor-city") * 10]
    attempts += [graphql(client, WITHDRAW, {"id": referral_id, "reason": "误报"}, world.tokens["liaison-a"])
                 for _ in range(10)]
    outcomes = [error_codes(body) or ["OK"] for body in await asyncio.gather(*attempts)]
    assert sorted(outcomes) == [["INVALID_TRANSITION"]] * 29 + [["OK"]]
    history = await graphql(client, HISTORY, {"id": referral_id}, world.tokens["liaison-a"])
    assert len(history["data"]["referral"]["history"]) == 2  # submit, then exactly one of the thirty


@pytest.mark.parametrize("user, mutation, variables", [
    ("liaison-a", REGISTER, {}),
    ("assessor-1", REGISTER, {}),
    ("admin", REGISTER, {}),
    ("prosecutor-city", WITHDRAW, {"reason": "误报"}),
    ("assessor-1", WITHDRAW, {"reason": "误报"}),
    ("admin", WITHDRAW, {"reason": "误报"}),
])
async def test_roles_outside_the_table_are_forbidden_and_change_nothing(client, world, user, mutation, variables):
    referral_id = await submitted(client, world)
    refused = await graphql(client, mutation, {"id": referral_id, **variables}, world.tokens[user])
    assert error_codes(refused) == ["FORBIDDEN"]
    after = await graphql(client, "query($id: ID!) { referral(id: $id) { status number history { action } } }",
                          {"id": referral_id}, world.tokens["liaison-a"])
    assert after["data"]["referral"] == {"status": "SUBMITTED", "number": None, "history": [{"action": "submit"}]}
