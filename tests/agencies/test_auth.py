"""Login tokens, disabled accounts and agency API keys."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import jwt
import pytest
from sqlalchemy import text

from tests.conftest import LOGIN, PASSWORD, error_codes, graphql

ME = "{ me { username role isApiKey agency { name } } }"


async def test_login_returns_a_token_that_identifies_the_user(client, world):
    body = await graphql(client, LOGIN, {"username": "liaison-a", "password": PASSWORD})
    token = body["data"]["login"]["token"]
    me = await graphql(client, ME, token=token)
    assert me["data"]["me"] == {"username": "liaison-a", "role": "AGENCY_LIAISON", "isApiKey": False,
                                "agency": {"name": "机关A"}}


async def test_wrong_password_and_unknown_user_get_the_same_answer(client, world):
    wrong = await graphql(client, LOGIN, {"username": "liaison-a", "password": "not-the-password"})
    unknown = await graphql(client, LOGIN, {"username": "nobody-here", "password": "whatever-123"})
    assert error_codes(wrong) == error_codes(unknown) == ["UNAUTHENTICATED"]
    assert wrong["errors"][0]["message"] == unknown["errors"][0]["message"]


async def test_no_token_and_bad_tokens_are_unauthenticated(client, world, settings):
    assert error_codes(await graphql(client, ME)) == ["UNAUTHENTICATED"]
    assert error_codes(await graphql(client, ME, token="garbage")) == ["UNAUTHENTICATED"]
    claims = jwt.decode(world.tokens["liaison-a"], options={"verify_signature": False})
    forged = jwt.encode(claims, "another-secret-of-sufficient-length-000", algorithm="HS256")
    assert error_codes(await graphql(client, ME, token=forged)) == ["UNAUTHENTICATED"]
    response = await client.post("/graphql", json={"query": ME}, headers={"Authorization": "Basic abc"})
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_expired_token_is_refused(client, world, settings):
    now = datetime.now(timezone.utc)
    expired = jwt.encode({"sub": world.ids["user:liaison-a"], "iss": settings.auth.token_issuer,
                          "iat": now - timedelta(hours=9), "exp": now - timedelta(hours=1)},
                         settings.auth.token_secret, algorithm="HS256")
    body = await graphql(client, ME, token=expired)
    assert error_codes(body) == ["UNAUTHENTICATED"]


async def test_disabling_a_user_stops_its_token_at_once(client, world):
    token = world.tokens["liaison-b"]
    assert (await graphql(client, ME, token=token))["data"]["me"]["username"] == "liaison-b"
    disable = await graphql(client, """mutation($id: ID!) { setUserActive(userId: $id, active: false) {
        isActive } }""", {"id": world.ids["user:liaison-b"]}, world.tokens["admin"])
    assert disable["data"]["setUserActive"]["isActive"] is False
    assert error_codes(await graphql(client, ME, token=token)) == ["UNAUTHENTICATED"]
    login = await graphql(client, LOGIN, {"username": "liaison-b", "password": PASSWORD})
    assert error_codes(login) == ["UNAUTHENTICATED"]


async def test_only_admins_disable_accounts(client, world):
    body = await graphql(client, """mutation($id: ID!) { setUserActive(userId: $id, active: false) {
        isActive } }""", {"id": world.ids["user:liaison-b"]}, world.tokens["prosecutor-1"])
    assert error_codes(body) == ["FORBIDDEN"]


ISSUE = """mutation($agency: ID!, $name: String!) { issueApiKey(agencyId: $agency, name: $name) {
  key apiKey { id prefix revokedAt agency { name } } } }"""
REVOKE = "mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }"
SUBMIT = """mutation($input: SubmitReferralInput!) { submitReferral(input: $input) { id agency { name } } }"""
POINT_INPUT = {"domain": "FOOD_DRUG_SAFETY", "title": "过期食品", "facts": "检查发现。",
               "geometry": {"type": "Point", "coordinates": [113.2, 34.5]}}


async def test_api_key_submits_for_its_agency_until_revoked(client, world, resources):
    issued = await graphql(client, ISSUE, {"agency": world.ids["agency:A"], "name": "执法办案系统"},
                           world.tokens["admin"])
    key = issued["data"]["issueApiKey"]["key"]
    assert key.startswith("pilk_")
    assert issued["data"]["issueApiKey"]["apiKey"]["agency"] == {"name": "机关A"}
    # The key is shown once: nothing stored or listed contains it.
    listed = await graphql(client, "query($a: ID!) { apiKeys(agencyId: $a) { prefix } }",
                           {"a": world.ids["agency:A"]}, world.tokens["liaison-a"])
    assert key not in str(listed) and len(listed["data"]["apiKeys"]) == 1

    me = await graphql(client, ME, token=key)
    assert me["data"]["me"]["isApiKey"] is True and me["data"]["me"]["agency"] == {"name": "机关A"}
    submitted = await graphql(client, SUBMIT, {"input": POINT_INPUT}, key)
    assert submitted["data"]["submitReferral"]["agency"] == {"name": "机关A"}
    # A key acts for its agency only and cannot manage accounts or keys.
    assert error_codes(await graphql(client, ISSUE, {"agency": world.ids["agency:A"], "name": "x"}, key)) == \
        ["FORBIDDEN"]

    revoked = await graphql(client, REVOKE, {"id": issued["data"]["issueApiKey"]["apiKey"]["id"]},
                            world.tokens["liaison-a"])
    assert revoked["data"]["revokeApiKey"]["revokedAt"] is not None
    assert error_codes(await graphql(client, ME, token=key)) == ["UNAUTHENTICATED"]
    assert error_codes(await graphql(client, SUBMIT, {"input": POINT_INPUT}, key)) == ["UNAUTHENTICATED"]


async def test_api_key_with_wrong_secret_is_refused(client, world):
    issued = await graphql(client, ISSUE, {"agency": world.ids["agency:A"], "name": "系统"}, world.tokens["admin"])
    key = issued["data"]["issueApiKey"]["key"]
    tampered = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    assert error_codes(await graphql(client, ME, token=tampered)) == ["UNAUTHENTICATED"]


async def test_liaison_cannot_touch_another_agencys_keys(client, world):
    issued = await graphql(client, ISSUE, {"agency": world.ids["agency:A"], "name": "系统"}, world.tokens["admin"])
    key_id = issued["data"]["issueApiKey"]["apiKey"]["id"]
    assert error_codes(await graphql(client, REVOKE, {"id": key_id}, world.tokens["liaison-b"])) == ["NOT_FOUND"]
    assert error_codes(await graphql(client, ISSUE, {"agency": world.ids["agency:A"], "name": "x"},
                                     world.tokens["liaison-b"])) == ["NOT_FOUND"]
    assert error_codes(await graphql(client, "query($a: ID!) { apiKeys(agencyId: $a) { prefix } }",
                                     {"a": world.ids["agency:A"]}, world.tokens["liaison-b"])) == ["NOT_FOUND"]


async def test_repeated_failed_logins_are_rate_limited(client, world, resources):
    throttle = resources.login_throttle
    try:
        for _ in range(throttle.max_failures):
            body = await graphql(client, LOGIN, {"username": "liaison-c", "password": "guess-guess-guess"})
            assert error_codes(body) == ["UNAUTHENTICATED"]
        body = await graphql(client, LOGIN, {"username": "liaison-c", "password": PASSWORD})
        assert error_codes(body) == ["RATE_LIMITED"]
        assert body["errors"][0]["extensions"]["retryAfterSeconds"] > 0
        # Other accounts are not affected.
        other = await graphql(client, LOGIN, {"username": "liaison-a", "password": PASSWORD})
        assert "errors" not in other
    finally:
        throttle.record_success("liaison-c")


def test_the_throttle_window_slides():
    from agencies.throttle import LoginThrottle
    from app.errors import RateLimited

    now = [1000.0]
    throttle = LoginThrottle(max_failures=2, window_seconds=60, clock=lambda: now[0])
    throttle.record_failure("u")
    throttle.record_failure("u")
    with pytest.raises(RateLimited):
        throttle.check("u")
    now[0] += 61
    throttle.check("u")  # the failures have aged out


CHANGE = """mutation($old: String!, $new: String!) { changePassword(currentPassword: $old, newPassword: $new) {
  username } }"""


async def test_users_change_their_own_password(client, world, resources):
    token = world.tokens["liaison-c"]
    wrong = await graphql(client, CHANGE, {"old": "not-it-at-all", "new": "a-new-password-1"}, token)
    assert error_codes(wrong) == ["VALIDATION"] and wrong["errors"][0]["extensions"]["field"] == "currentPassword"
    short = await graphql(client, CHANGE, {"old": PASSWORD, "new": "short"}, token)
    assert error_codes(short) == ["VALIDATION"] and short["errors"][0]["extensions"]["field"] == "newPassword"
    done = await graphql(client, CHANGE, {"old": PASSWORD, "new": "a-new-password-1"}, token)
    assert done["data"]["changePassword"]["username"] == "liaison-c"
    # Sessions signed in with the old password end; the new one works.
    assert error_codes(await graphql(client, ME, token=token)) == ["UNAUTHENTICATED"]
    assert error_codes(await graphql(client, LOGIN, {"username": "liaison-c", "password": PASSWORD})) == \
        ["UNAUTHENTICATED"]
    await asyncio.sleep(1)  # token times have one-second resolution
    login = await graphql(client, LOGIN, {"username": "liaison-c", "password": "a-new-password-1"})
    new_token = login["data"]["login"]["token"]
    assert (await graphql(client, ME, token=new_token))["data"]["me"]["username"] == "liaison-c"
    # Put the world back for the tests after this one.
    await graphql(client, CHANGE, {"old": "a-new-password-1", "new": PASSWORD}, new_token)
    async with resources.session_factory() as session:
        await session.execute(text("UPDATE user_account SET tokens_valid_after = NULL"))
        await session.commit()


async def test_users_filtered_by_a_malformed_agency_id_is_a_validation_error(client, world):
    body = await graphql(client, "query($a: ID) { users(agencyId: $a) { username } }", {"a": "not-an-id"},
                         world.tokens["admin"])
    assert error_codes(body) == ["VALIDATION"] and body["errors"][0]["extensions"]["field"] == "agencyId"
    body = await graphql(client, "query($a: ID) { users(agencyId: $a) { username } }", {"a": world.ids["agency:A"]},
                         world.tokens["admin"])
    assert [user["username"] for user in body["data"]["users"]] == ["liaison-a"]
