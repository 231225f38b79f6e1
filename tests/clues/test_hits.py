"""The prosecutors' queue of hits: listed and read within scope (never by an agency), dismissed
with a reason or reopened, taken up as a case from the procuratorate's own clue; and the funnel
that follows each hit to a referral, a case, a recommendation and a verified rectification."""

from __future__ import annotations

import pytest

from tests.clues.helpers import FUNNEL, HIT, HITS, LARGE, MATCHES, create, hits, numbers, ok, records, run
from tests.conftest import error_codes, graphql, new_id
from tests.enforcement.test_referral_from_record import OPEN, referral_input
from tests.recommendations.steps import check, issue, reply, serve

DISMISS = "mutation($id: ID!, $reason: String!) { dismissClueHit(id: $id, reason: $reason) { status } }"
REOPEN = "mutation($id: ID!, $reason: String!) { reopenClueHit(id: $id, reason: $reason) { status } }"
OPEN_CASE = """mutation($id: ID!, $input: OpenCaseInput!) { openCaseFromClueHit(hitId: $id, input: $input) {
  status case { id number kind } history { action fromStatus toStatus actorName } } }"""


def case_input(**overrides) -> dict:
    value = {"kind": "ADMINISTRATIVE", "title": "占用耕地处罚后未恢复", "domain": "ECOLOGY_RESOURCES",
             "facts": "处罚决定作出后耕地至今未恢复。", "geometry": {"type": "Point", "coordinates": [113.2, 34.5]}}
    value.update(overrides)
    return value


async def queued(client, world, monkeypatch) -> tuple[dict, dict[str, str], dict[str, str]]:
    """A district-1 model run over the five records: (model, records, hit ids by record key)."""
    made = await records(client, world, monkeypatch)
    model = await create(client, world, LARGE)
    await run(client, world, model["id"])
    by_number = {edge["node"]["enforcementCase"]["caseNumber"]: edge["node"]["id"]
                 for edge in (await hits(client, world))["edges"]}
    return model, made, {key: by_number[f"罚〔2025〕{key}号"] for key in ("A1", "A3", "B1")}


async def test_the_queue_is_listed_filtered_and_paged_within_scope(client, world, monkeypatch):
    model, _, hit_ids = await queued(client, world, monkeypatch)
    token = world.tokens["prosecutor-1"]
    ok(await graphql(client, DISMISS, {"id": hit_ids["A3"], "reason": "已另案处理"}, token), "dismissClueHit")
    assert numbers(await hits(client, world, status=["NEW"])) == ["罚〔2025〕A1号", "罚〔2025〕B1号"]
    assert numbers(await hits(client, world, modelId=model["id"], status=["DISMISSED"])) == ["罚〔2025〕A3号"]
    assert (await hits(client, world, modelId=new_id()))["totalCount"] == 0
    body = await graphql(client, HITS, {"filter": {"modelId": "nope"}}, token)
    assert body["errors"][0]["extensions"] == {"code": "VALIDATION", "field": "modelId"}

    first = ok(await graphql(client, HITS, {"first": 2}, token), "clueHits")
    rest = ok(await graphql(client, HITS, {"first": 2, "after": first["pageInfo"]["endCursor"]}, token), "clueHits")
    assert first["totalCount"] == 3 and first["pageInfo"]["hasNextPage"] and not rest["pageInfo"]["hasNextPage"]
    assert len({edge["node"]["id"] for edge in first["edges"] + rest["edges"]}) == 3

    hit = ok(await graphql(client, HIT, {"id": hit_ids["A1"]}, world.tokens["assessor-1"]), "clueHit")
    assert hit["model"] == {"id": model["id"], "name": "占用耕地处罚后未恢复"} and hit["status"] == "NEW"
    assert hit["enforcementCase"] == {"caseNumber": "罚〔2025〕A1号"} and hit["case"] is None


@pytest.mark.parametrize("user", ["liaison-a", "liaison-b", "liaison-c"])
async def test_agencies_never_read_the_queue_not_even_of_their_own_records(client, world, monkeypatch, user):
    model, _, hit_ids = await queued(client, world, monkeypatch)
    token = world.tokens[user]
    for query, variables in ((HITS, {"filter": {"modelId": model["id"]}}), (HIT, {"id": hit_ids["A1"]}),
                             (HIT, {"id": new_id()}), (FUNNEL, {"id": model["id"]}),
                             (DISMISS, {"id": hit_ids["A1"], "reason": "x"})):
        body = await graphql(client, query, variables, token)
        # The same answer for an own record's hit, another agency's and none at all (the model of
        # another district is not found at all).
        expected = "NOT_FOUND" if query is FUNNEL and user == "liaison-c" else "FORBIDDEN"
        assert set(error_codes(body)) == {expected}, query
        assert "罚" not in body["errors"][0]["message"]


async def test_another_procuratorate_sees_no_hit(client, world, monkeypatch):
    _, _, hit_ids = await queued(client, world, monkeypatch)
    token = world.tokens["prosecutor-2"]
    assert (await hits(client, world, "prosecutor-2"))["totalCount"] == 0
    for query, variables in ((HIT, {"id": hit_ids["A1"]}), (DISMISS, {"id": hit_ids["A1"], "reason": "x"}),
                             (OPEN_CASE, {"id": hit_ids["A1"], "input": case_input()})):
        assert error_codes(await graphql(client, query, variables, token)) == ["NOT_FOUND"]


async def test_a_hit_is_dismissed_with_its_reason_and_may_be_reconsidered(client, world, monkeypatch):
    _, _, hit_ids = await queued(client, world, monkeypatch)
    token = world.tokens["prosecutor-1"]
    body = await graphql(client, DISMISS, {"id": hit_ids["A1"], "reason": ""}, token)
    assert body["errors"][0]["extensions"] == {"code": "VALIDATION", "field": "reason"}
    for user in ("assessor-1", "admin"):
        assert error_codes(await graphql(client, DISMISS, {"id": hit_ids["A1"], "reason": "x"},
                                         world.tokens[user])) == ["FORBIDDEN"]
    assert ok(await graphql(client, DISMISS, {"id": hit_ids["A1"], "reason": "已责令恢复并验收"}, token),
              "dismissClueHit") == {"status": "DISMISSED"}
    body = await graphql(client, DISMISS, {"id": hit_ids["A1"], "reason": "again"}, token)
    assert error_codes(body) == ["INVALID_TRANSITION"]
    assert error_codes(await graphql(client, OPEN_CASE, {"id": hit_ids["A1"], "input": case_input()},
                                     token)) == ["INVALID_TRANSITION"]
    assert ok(await graphql(client, REOPEN, {"id": hit_ids["A1"], "reason": "验收材料不实"},
                            world.tokens["prosecutor-city"]), "reopenClueHit") == {"status": "NEW"}
    hit = ok(await graphql(client, HIT, {"id": hit_ids["A1"]}, token), "clueHit")
    assert [(h["action"], h["fromStatus"], h["toStatus"], h["reason"], h["actorName"]) for h in hit["history"]] == [
        ("dismiss", "NEW", "DISMISSED", "已责令恢复并验收", "prosecutor-1"),
        ("reopen", "DISMISSED", "NEW", "验收材料不实", "prosecutor-city")]


async def test_a_hit_taken_up_becomes_a_case_of_the_procuratorates_own_clue(client, world, monkeypatch):
    _, made, hit_ids = await queued(client, world, monkeypatch)
    token = world.tokens["prosecutor-1"]
    for user in ("assessor-1", "admin"):
        body = await graphql(client, OPEN_CASE, {"id": hit_ids["A1"], "input": case_input()}, world.tokens[user])
        assert error_codes(body) == ["FORBIDDEN"]
    taken = ok(await graphql(client, OPEN_CASE, {"id": hit_ids["A1"], "input": case_input()}, token),
               "openCaseFromClueHit")
    assert taken["status"] == "CASE_OPENED" and taken["case"]["kind"] == "ADMINISTRATIVE"
    assert taken["case"]["number"].endswith("号")
    assert taken["history"] == [{"action": "open_case", "fromStatus": "NEW", "toStatus": "CASE_OPENED",
                                 "actorName": "prosecutor-1"}]
    # Linked to the record as any case opened from it (agencies do not see such cases).
    linked = await graphql(client, "query($id: ID!) { enforcementCase(id: $id) { cases { id } } }",
                           {"id": made["A1"]}, token)
    assert linked["data"]["enforcementCase"]["cases"] == [{"id": taken["case"]["id"]}]
    body = await graphql(client, OPEN_CASE, {"id": hit_ids["A1"], "input": case_input()}, token)
    assert error_codes(body) == ["INVALID_TRANSITION"]
    # A model asking for records no case came of leaves A1 out now (and only A1).
    fresh = await create(client, world, {"all": [LARGE, {"not": {"exists": "case"}}]}, name="未立案")
    matches = ok(await graphql(client, MATCHES, {"id": fresh["id"]}, token), "clueModelMatches")
    assert sorted(edge["node"]["caseNumber"] for edge in matches["edges"]) == ["罚〔2025〕A3号", "罚〔2025〕B1号"]
    # A case that cannot be opened leaves the hit where it was.
    body = await graphql(client, OPEN_CASE, {"id": hit_ids["B1"], "input": case_input(title=" ")}, token)
    assert error_codes(body) == ["VALIDATION"]
    assert ok(await graphql(client, HIT, {"id": hit_ids["B1"]}, token), "clueHit")["status"] == "NEW"


async def test_the_funnel_follows_each_hit_to_a_verified_rectification(client, world, monkeypatch):
    model, made, hit_ids = await queued(client, world, monkeypatch)
    token = world.tokens["prosecutor-1"]

    async def funnel(user: str = "prosecutor-1") -> tuple[dict, list]:
        body = ok(await graphql(client, FUNNEL, {"id": model["id"]}, world.tokens[user]), "clueModel")
        return body["funnel"], [(v["version"], v["funnel"]) for v in body["versions"]]

    total, by_version = await funnel()
    assert total == {"hits": 3, "referrals": 0, "cases": 0, "recommendations": 0, "rectified": 0}
    assert by_version == [(1, total)]

    # Agency B refers its record; prosecutor-1 takes A1 up as its own case, recommends and verifies.
    ok(await graphql(client, OPEN, {"id": made["B1"], "input": referral_input()}, world.tokens["liaison-b"]),
       "openReferralFromEnforcementCase")
    case_id = ok(await graphql(client, OPEN_CASE, {"id": hit_ids["A1"], "input": case_input()}, token),
                 "openCaseFromClueHit")["case"]["id"]
    recommendation_id = ok(await issue(client, world, case_id), "issueRecommendation")["id"]
    ok(await serve(client, world, recommendation_id), "recordRecommendationServed")
    ok(await reply(client, world, recommendation_id), "replyToRecommendation")
    total, _ = await funnel()
    assert total == {"hits": 3, "referrals": 1, "cases": 1, "recommendations": 1, "rectified": 0}
    ok(await check(client, world, recommendation_id, "PARTIAL"), "recordRectificationCheck")
    assert (await funnel())[0]["rectified"] == 0
    ok(await check(client, world, recommendation_id, "RECTIFIED"), "recordRectificationCheck")
    expected = {"hits": 3, "referrals": 1, "cases": 1, "recommendations": 1, "rectified": 1}
    assert await funnel() == (expected, [(1, expected)])
    assert (await funnel("assessor-1"))[0] == expected and (await funnel("admin"))[0] == expected

    # A revision's hits are counted under it; the city counts what it sees.
    ok(await graphql(client, "mutation($id: ID!, $c: JSON!) { reviseClueModel(id: $id, input: {conditions: $c}) "
                             "{ id } }", {"id": model["id"], "c": {"field": "enforcement.amount", "op": "gte",
                                                                  "value": 100}}, token), "reviseClueModel")
    await run(client, world, model["id"])
    total, by_version = await funnel("prosecutor-city")
    assert total["hits"] == 4
    assert by_version == [(1, expected), (2, {"hits": 1, "referrals": 0, "cases": 0, "recommendations": 0,
                                              "rectified": 0})]


async def test_what_came_before_the_hit_is_not_the_models_doing(client, world, monkeypatch):
    made = await records(client, world, monkeypatch)
    ok(await graphql(client, OPEN, {"id": made["A1"], "input": referral_input()}, world.tokens["liaison-a"]),
       "openReferralFromEnforcementCase")
    model = await create(client, world, LARGE)
    await run(client, world, model["id"])
    body = ok(await graphql(client, FUNNEL, {"id": model["id"]}, world.tokens["prosecutor-1"]), "clueModel")
    assert body["funnel"] == {"hits": 3, "referrals": 0, "cases": 0, "recommendations": 0, "rectified": 0}
