"""Login tokens, disabled accounts and agency API keys."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone

import jwt

from tests.conftest import LOGIN, PASSWORD, count_statements, error_codes, graphql

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


CHANGE = """mutation($old: String!, $new: String!) { changePassword(currentPassword: $old, newPassword: $new) {
  username } }"""


async def test_users_change_their_own_password(client, world):
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
    login = await graphql(client, LOGIN, {"username": "liaison-c", "password": "a-new-password-1"})
    new_token = login["data"]["login"]["token"]
    assert (await graphql(client, ME, token=new_token))["data"]["me"]["username"] == "liaison-c"
    # Put the world back for the tests after this one.
    await graphql(client, CHANGE, {"old": "a-new-password-1", "new": PASSWORD}, new_token)


async def test_a_token_of_the_same_second_as_a_password_change_ends_with_it(client, world):
    old = (await graphql(client, LOGIN, {"username": "liaison-a", "password": PASSWORD}))["data"]["login"]["token"]
    changed = await graphql(client, CHANGE, {"old": PASSWORD, "new": "a-new-password-1"}, old)
    assert changed["data"]["changePassword"]["username"] == "liaison-a"
    issued_at = jwt.decode(old, options={"verify_signature": False})["iat"]
    assert error_codes(await graphql(client, ME, token=old)) == ["UNAUTHENTICATED"]
    assert int(datetime.now(timezone.utc).timestamp()) - issued_at <= 1, "too slow to test the same second"
    new = (await graphql(client, LOGIN, {"username": "liaison-a", "password": "a-new-password-1"}))
    assert (await graphql(client, ME, token=new["data"]["login"]["token"]))["data"]["me"]["username"] == "liaison-a"
    await graphql(client, CHANGE, {"old": "a-new-password-1", "new": PASSWORD}, new["data"]["login"]["token"])


SET_ACTIVE = "mutation($id: ID!, $on: Boolean!) { setUserActive(userId: $id, active: $on) { isActive } }"


async def test_re_enabling_a_user_does_not_revive_its_old_tokens(client, world):
    old = world.tokens["liaison-b"]
    for active in (False, True):
        body = await graphql(client, SET_ACTIVE, {"id": world.ids["user:liaison-b"], "on": active},
                             world.tokens["admin"])
        assert body["data"]["setUserActive"]["isActive"] is active
    assert error_codes(await graphql(client, ME, token=old)) == ["UNAUTHENTICATED"]
    login = await graphql(client, LOGIN, {"username": "liaison-b", "password": PASSWORD})
    assert (await graphql(client, ME, token=login["data"]["login"]["token"]))["data"]["me"]["username"] == \
        "liaison-b"
    # Enabling an enabled account changes nothing: the new token stays good.
    await graphql(client, SET_ACTIVE, {"id": world.ids["user:liaison-b"], "on": True}, world.tokens["admin"])
    assert "errors" not in await graphql(client, ME, token=login["data"]["login"]["token"])


async def test_users_filtered_by_a_malformed_agency_id_is_a_validation_error(client, world):
    body = await graphql(client, "query($a: ID) { users(agencyId: $a) { username } }", {"a": "not-an-id"},
                         world.tokens["admin"])
    assert error_codes(body) == ["VALIDATION"] and body["errors"][0]["extensions"]["field"] == "agencyId"
    body = await graphql(client, "query($a: ID) { users(agencyId: $a) { username } }", {"a": world.ids["agency:A"]},
                         world.tokens["admin"])
    assert [user["username"] for user in body["data"]["users"]] == ["liaison-a"]


async def test_password_hashing_does_not_block_other_requests(client, world):
    """argon2 takes a fifth of a second here: on the event loop, every other request would wait
    that long behind each login. A probe that wakes every 5 ms measures how long the loop stalls
    while logins run."""
    verification_seconds = await asyncio.get_running_loop().run_in_executor(None, _argon2_verification_seconds)

    stalls = []
    running = True

    async def probe():
        while running:
            before = time.perf_counter()
            await asyncio.sleep(0.005)
            stalls.append(time.perf_counter() - before - 0.005)

    probing = asyncio.create_task(probe())
    try:
        logins = await asyncio.gather(
            graphql(client, LOGIN, {"username": "liaison-a", "password": PASSWORD}),
            graphql(client, LOGIN, {"username": "nobody-at-all", "password": PASSWORD}),
            graphql(client, ME, token=world.tokens["admin"]))
    finally:
        running = False
        await probing
    assert "token" in logins[0]["data"]["login"] and error_codes(logins[1]) == ["UNAUTHENTICATED"]
    assert max(stalls) < verification_seconds / 2, (max(stalls), verification_seconds)


def _argon2_verification_seconds() -> float:
    from argon2 import PasswordHasher

    hasher = PasswordHasher()
    password_hash = hasher.hash(PASSWORD)
    started = time.perf_counter()
    hasher.verify(password_hash, PASSWORD)
    return time.perf_counter() - started


async def test_the_principal_takes_one_statement(app, client, world):
    engine = app.state.resources.engine
    with count_statements(engine) as statements:
        body = await graphql(client, "{ me { username } }", token=world.tokens["prosecutor-city"])
    assert body["data"]["me"]["username"] == "prosecutor-city"
    assert len(statements) == 1, statements
    issued = await graphql(client, ISSUE, {"agency": world.ids["agency:A"], "name": "系统"}, world.tokens["admin"])
    key = issued["data"]["issueApiKey"]["key"]
    for _ in range(2):  # the first use stamps last_used_at, in that same statement
        with count_statements(engine) as statements:
            body = await graphql(client, "{ me { username } }", token=key)
        assert body["data"]["me"]["username"] == "api-key:系统"
        assert len(statements) == 1, statements
    listed = await graphql(client, "query($a: ID!) { apiKeys(agencyId: $a) { lastUsedAt } }",
                           {"a": world.ids["agency:A"]}, world.tokens["admin"])
    assert listed["data"]["apiKeys"][0]["lastUsedAt"] is not None


async def test_a_city_prosecutor_sees_its_districts(client, world):
    """The one-statement principal still gathers the whole jurisdiction subtree."""
    query = "{ agencies { name } }"
    city = await graphql(client, query, token=world.tokens["prosecutor-city"])
    district = await graphql(client, query, token=world.tokens["prosecutor-1"])
    assert sorted(a["name"] for a in city["data"]["agencies"]) == ["机关A", "机关B", "机关C"]
    assert sorted(a["name"] for a in district["data"]["agencies"]) == ["机关A", "机关B"]


async def test_a_password_hashed_with_older_parameters_is_rehashed_at_login(client, world, resources):
    from argon2 import PasswordHasher
    from sqlalchemy import text

    old = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4).hash(PASSWORD)
    async with resources.session_factory() as session:
        await session.execute(text("UPDATE user_account SET password_hash = :h WHERE username = 'liaison-c'"),
                              {"h": old})
        await session.commit()
    body = await graphql(client, LOGIN, {"username": "liaison-c", "password": PASSWORD})
    assert body["data"]["login"]["token"]
    async with resources.session_factory() as session:
        new = await session.scalar(text("SELECT password_hash FROM user_account WHERE username = 'liaison-c'"))
    assert new != old and "m=19456,t=2,p=1" in new
    again = await graphql(client, LOGIN, {"username": "liaison-c", "password": PASSWORD})
    assert again["data"]["login"]["token"]


async def test_passwords_are_hashed_at_a_lower_cpu_priority(client, world):
    import os
    import threading

    from agencies import auth

    niceness = await asyncio.get_running_loop().run_in_executor(
        auth._hashing_pool(), lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
    assert niceness == os.getpriority(os.PRIO_PROCESS, 0) + auth.HASHING_NICENESS or niceness == 19
