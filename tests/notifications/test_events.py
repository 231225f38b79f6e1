"""Notifications of events, to whom they go, what they say, and each user reading only their own.

The world: agencies A and B in district 1, C in district 2; prosecutor-1 is district 1's
procuratorate, prosecutor-city the city's above it. A's liaison refers the clue; the
recommendation goes to B."""

from __future__ import annotations

import pytest

from tests.cases.test_file_case import file_case
from tests.conftest import error_codes, graphql
from tests.notifications.steps import READ, READ_ALL, inbox, messages
from tests.recommendations.steps import check, ok, served_recommendation
from tests.referral.test_return_and_decline import REGISTER, act, submitted

EVERYONE = ("admin", "liaison-a", "liaison-b", "liaison-c", "prosecutor-1", "prosecutor-2", "prosecutor-city",
            "assessor-1")


async def kinds_by_user(client, world) -> dict[str, list[str]]:
    return {user: [node["kind"] for node in await messages(client, world, user)] for user in EVERYONE}


async def test_a_new_referral_goes_to_the_receiving_procuratorates_prosecutors(client, world):
    referral_id = await submitted(client, world)
    received = await kinds_by_user(client, world)
    assert received == {**{user: [] for user in EVERYONE}, "prosecutor-1": ["REFERRAL_SUBMITTED"]}
    [notice] = await messages(client, world, "prosecutor-1")
    assert notice["subjectKind"] == "REFERRAL" and notice["subjectId"] == referral_id
    assert "国有资产低价处置" in notice["message"]


@pytest.mark.parametrize(("action", "kind", "says"), [
    ("return", "REFERRAL_RETURNED", "returned"), ("decline", "REFERRAL_DECLINED", "declined")])
async def test_the_referring_agency_hears_of_return_and_decline(client, world, action, kind, says):
    referral_id = await submitted(client, world)
    if action == "decline":
        ok(await graphql(client, REGISTER, {"id": referral_id}, world.tokens["prosecutor-1"]), "registerReferral")
    assert "errors" not in await act(client, world, action, referral_id, "prosecutor-1")
    expected = ["REFERRAL_REGISTERED", kind] if action == "decline" else [kind]
    received = await kinds_by_user(client, world)
    assert received == {**{user: [] for user in EVERYONE}, "prosecutor-1": ["REFERRAL_SUBMITTED"],
                        "liaison-a": expected}
    assert says in (await messages(client, world, "liaison-a"))[-1]["message"]


async def test_registration_names_the_number_and_a_filed_case_is_told(client, world):
    referral_id = await submitted(client, world)
    number = ok(await graphql(client, REGISTER, {"id": referral_id}, world.tokens["prosecutor-1"]),
                "registerReferral")["number"]
    ok(await file_case(client, world, referral_id), "fileCase")
    registered, filed = await messages(client, world, "liaison-a")
    assert (registered["kind"], filed["kind"]) == ("REFERRAL_REGISTERED", "CASE_FILED")
    assert number in registered["message"] and registered["subjectId"] == referral_id
    assert await messages(client, world, "liaison-b") == []


async def test_the_addressee_hears_of_the_recommendation_and_its_checks_and_nothing_of_the_case(client, world):
    _, recommendation_id = await served_recommendation(client, world)
    recommendation = ok(await graphql(client, "query($id: ID!) { recommendation(id: $id) { number content } }",
                                      {"id": recommendation_id}, world.tokens["prosecutor-1"]), "recommendation")
    ok(await check(client, world, recommendation_id, "PARTIAL"), "recordRectificationCheck")

    received, checked = await messages(client, world, "liaison-b")
    assert (received["kind"], checked["kind"]) == ("RECOMMENDATION_RECEIVED", "RECTIFICATION_CHECKED")
    assert received["subjectId"] == checked["subjectId"] == recommendation_id
    assert recommendation["number"] in received["message"] and "reply due by" in received["message"]
    assert "partly rectified" in checked["message"]
    for notice in (received, checked):  # the case's facts, the recommendation's reasoning, the findings
        for private in ("非法占用林地", recommendation["content"], "现场复绿约六成", "北侧坡面"):
            assert private not in notice["message"]
    # The referring agency is not the addressee: it hears of registration and filing only.
    assert [node["kind"] for node in await messages(client, world, "liaison-a")] == [
        "REFERRAL_REGISTERED", "CASE_FILED"]
    assert await messages(client, world, "liaison-c") == []


async def test_reading_marks_only_ones_own(client, world):
    for _ in range(3):
        await submitted(client, world)
    page = await inbox(client, world, "prosecutor-1", first=2)
    assert (page["totalCount"], page["unreadCount"], page["pageInfo"]["hasNextPage"]) == (3, 3, True)
    rest = await inbox(client, world, "prosecutor-1", first=2, after=page["pageInfo"]["endCursor"])
    assert len(rest["edges"]) == 1 and not rest["pageInfo"]["hasNextPage"]
    first_id = page["edges"][0]["node"]["id"]

    for other in ("prosecutor-2", "prosecutor-city", "liaison-a", "admin"):  # not theirs: as if it did not exist
        assert error_codes(await graphql(client, READ, {"id": first_id}, world.tokens[other])) == ["NOT_FOUND"]
    assert error_codes(await graphql(client, READ, {"id": "not-an-id"}, world.tokens["prosecutor-1"])) == [
        "NOT_FOUND"]
    read = ok(await graphql(client, READ, {"id": first_id}, world.tokens["prosecutor-1"]), "markNotificationRead")
    again = ok(await graphql(client, READ, {"id": first_id}, world.tokens["prosecutor-1"]), "markNotificationRead")
    assert read["readAt"] is not None and again["readAt"] == read["readAt"]  # the first reading is kept

    unread = await inbox(client, world, "prosecutor-1", unread_only=True)
    assert (unread["totalCount"], unread["unreadCount"]) == (2, 2)
    assert first_id not in [edge["node"]["id"] for edge in unread["edges"]]
    assert ok(await graphql(client, READ_ALL, {}, world.tokens["prosecutor-1"]), "markAllNotificationsRead") == 2
    assert (await inbox(client, world, "prosecutor-1"))["unreadCount"] == 0
    assert (await inbox(client, world, "prosecutor-1", unread_only=True))["edges"] == []


async def test_an_api_key_has_no_notifications(client, world):
    issued = ok(await graphql(client, "mutation($a: ID!) { issueApiKey(agencyId: $a, name: \"系统\") { key } }",
                              {"a": world.ids["agency:A"]}, world.tokens["admin"]), "issueApiKey")
    body = await graphql(client, "{ notifications { totalCount } }", token=issued["key"])
    assert error_codes(body) == ["FORBIDDEN"]
    assert error_codes(await graphql(client, "{ notifications { totalCount } }")) == ["UNAUTHENTICATED"]
