"""Who sees a recommendation, its reply, its plan, its checks and their files: by id, in lists, in
counts, through the case, in downloads and in errors.

The addressee agency (B) sees its recommendations and nothing else of the case; the referring
agency (A), not being the addressee, sees its case but not the recommendation; prosecutors and
assessors see their jurisdiction (the city its districts); other agencies and districts nothing."""

from __future__ import annotations

import pytest

from tests.conftest import error_codes, graphql
from tests.recommendations.steps import PHOTO, check, issue, ok, read, reply, report, served_recommendation

LIST = """query($filter: RecommendationFilter) { recommendations(filter: $filter) {
  totalCount edges { node { id number } } } }"""
CASE = "query($id: ID!) { case(id: $id) { id recommendations { id number } } }"
SEES_ALL = ("liaison-b", "prosecutor-1", "prosecutor-city", "assessor-1", "admin")
SEES_NONE = ("liaison-a", "liaison-c", "prosecutor-2")


async def _world_with_files(client, world) -> dict:
    case_id, recommendation_id = await served_recommendation(client, world)
    replied = ok(await reply(client, world, recommendation_id, files=[PHOTO]), "replyToRecommendation")
    checked = ok(await check(client, world, recommendation_id, files=[PHOTO]), "recordRectificationCheck")
    seen = ok(await read(client, world, recommendation_id), "recommendation")
    return {"case": case_id, "recommendation": recommendation_id, "stages": replied["reply"]["stages"],
            "reply_file": seen["reply"]["attachments"][0]["downloadPath"],
            "check_file": checked["evidence"][0]["downloadPath"], "number": seen["number"]}


async def test_who_sees_a_recommendation_and_its_files(client, world):
    made = await _world_with_files(client, world)

    async def download(path: str, user: str) -> int:
        return (await client.get(path, headers={"Authorization": f"Bearer {world.tokens[user]}"})).status_code

    for user in SEES_ALL:
        seen = ok(await read(client, world, made["recommendation"], user), "recommendation")
        assert seen["number"] == made["number"] and len(seen["reply"]["stages"]) == 3, user
        assert seen["checks"][0]["findings"], user
        listed = ok(await graphql(client, LIST, {}, world.tokens[user]), "recommendations")
        assert (listed["totalCount"], [edge["node"]["id"] for edge in listed["edges"]]) == (
            1, [made["recommendation"]]), user
    for user in SEES_NONE:
        body = await read(client, world, made["recommendation"], user)
        assert error_codes(body) == ["NOT_FOUND"], user
        # The same answer as for an id that does not exist.
        missing = await read(client, world, "00000000-0000-0000-0000-000000000000", user)
        assert body["errors"][0]["message"] == missing["errors"][0]["message"]
        listed = ok(await graphql(client, LIST, {}, world.tokens[user]), "recommendations")
        assert listed == {"totalCount": 0, "edges": []}, user
        assert ok(await graphql(client, LIST, {"filter": {"caseId": made["case"]}}, world.tokens[user]),
                  "recommendations")["totalCount"] == 0

    for path in (made["reply_file"], made["check_file"]):
        for user in ("liaison-b", "prosecutor-1", "prosecutor-city"):
            assert await download(path, user) == 200, (path, user)
        for user in SEES_NONE:
            assert await download(path, user) == 404, (path, user)
        assert await download(path, "assessor-1") == 403  # assessors score records, not file contents


async def test_the_addressee_sees_nothing_else_of_the_case(client, world):
    made = await _world_with_files(client, world)
    seen = ok(await read(client, world, made["recommendation"], "liaison-b"), "recommendation")
    assert seen["case"] is None  # neither the case's number nor its status nor its notes
    assert error_codes(await graphql(client, CASE, {"id": made["case"]}, world.tokens["liaison-b"])) == ["NOT_FOUND"]
    # Nor another recommendation of the same case, to another agency.
    to_a = ok(await issue(client, world, made["case"], addressee="A"), "issueRecommendation")
    listed = ok(await graphql(client, LIST, {}, world.tokens["liaison-b"]), "recommendations")
    assert [edge["node"]["id"] for edge in listed["edges"]] == [made["recommendation"]]
    assert error_codes(await read(client, world, to_a["id"], "liaison-b")) == ["NOT_FOUND"]


async def test_the_referring_agency_sees_its_case_and_only_what_is_addressed_to_it(client, world):
    made = await _world_with_files(client, world)
    case = ok(await graphql(client, CASE, {"id": made["case"]}, world.tokens["liaison-a"]), "case")
    assert case["recommendations"] == []
    to_a = ok(await issue(client, world, made["case"], addressee="A"), "issueRecommendation")
    case = ok(await graphql(client, CASE, {"id": made["case"]}, world.tokens["liaison-a"]), "case")
    assert case["recommendations"] == [{"id": to_a["id"], "number": to_a["number"]}]
    seen = ok(await read(client, world, to_a["id"], "liaison-a"), "recommendation")
    assert seen["case"]["id"] == made["case"]  # its own referral's case, which it sees anyway
    # A prosecutor sees both, in the order they were issued.
    case = ok(await graphql(client, CASE, {"id": made["case"]}, world.tokens["prosecutor-1"]), "case")
    assert [item["id"] for item in case["recommendations"]] == [made["recommendation"], to_a["id"]]


@pytest.mark.parametrize("user", ["liaison-a", "liaison-c"])
async def test_nothing_of_it_through_mutations_either(client, world, user):
    made = await _world_with_files(client, world)
    for body in (await report(client, world, made["recommendation"], {"note": "x"}, user=user),
                 await reply(client, world, made["recommendation"], user=user)):
        assert error_codes(body) == ["NOT_FOUND"]
        assert body["errors"][0]["message"] == "检察建议不存在 / recommendation not found"
    # And a prosecutor of another district finds nothing to check or serve.
    assert error_codes(await check(client, world, made["recommendation"], user="prosecutor-2")) == ["NOT_FOUND"]
