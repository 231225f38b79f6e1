"""The reply deadline: opened when the service is recorded, from the served date (15 days when
urgent, two months otherwise, on the working calendar of the deadlines package), met by the reply."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core import clock
from tests.conftest import graphql
from tests.recommendations.steps import administrative_case, issue, ok, reply, serve

DEADLINE = """query($id: ID!) { recommendation(id: $id) {
  dueOn isOverdue replied replyDeadline { rule startOn dueOn metOn metLate isOverdue } } }"""
OVERDUE = """query($overdue: Boolean) { recommendations(filter: {overdue: $overdue}) {
  totalCount edges { node { id } } } }"""


async def deadline_of(client, world, recommendation_id: str, user: str = "prosecutor-1") -> dict:
    return ok(await graphql(client, DEADLINE, {"id": recommendation_id}, world.tokens[user]), "recommendation")


@pytest.mark.parametrize("urgent, rule, at_least, at_most", [
    (True, "RECOMMENDATION_REPLY_URGENT", 15, 15 + 9),  # a rest day at the end moves it, at most past a holiday
    (False, "RECOMMENDATION_REPLY", 59, 62 + 9),
])
async def test_the_deadline_runs_from_the_served_date(client, world, urgent, rule, at_least, at_most):
    case_id = await administrative_case(client, world)
    recommendation_id = ok(await issue(client, world, case_id, urgent=urgent), "issueRecommendation")["id"]
    before = await deadline_of(client, world, recommendation_id)
    assert before == {"dueOn": None, "isOverdue": False, "replied": False, "replyDeadline": None}

    ok(await serve(client, world, recommendation_id), "recordRecommendationServed")
    served_on = clock.today()
    seen = await deadline_of(client, world, recommendation_id, "liaison-b")  # the addressee sees its deadline
    deadline = seen["replyDeadline"]
    assert (deadline["rule"], deadline["startOn"], deadline["metOn"]) == (rule, served_on.isoformat(), None)
    assert seen["dueOn"] == deadline["dueOn"]
    assert at_least <= (date.fromisoformat(seen["dueOn"]) - served_on).days <= at_most
    assert seen["isOverdue"] is False


async def test_overdue_until_the_reply_comes(client, world, monkeypatch):
    case_id = await administrative_case(client, world)
    late_id = ok(await issue(client, world, case_id, urgent=True), "issueRecommendation")["id"]
    on_time_id = ok(await issue(client, world, case_id, addressee="A"), "issueRecommendation")["id"]
    for recommendation_id in (late_id, on_time_id):
        ok(await serve(client, world, recommendation_id), "recordRecommendationServed")
    due_on = date.fromisoformat((await deadline_of(client, world, late_id))["dueOn"])

    async def overdue(flag: bool | None, user: str = "prosecutor-1") -> list[str]:
        body = ok(await graphql(client, OVERDUE, {"overdue": flag}, world.tokens[user]), "recommendations")
        return [edge["node"]["id"] for edge in body["edges"]]

    assert await overdue(True) == []
    with monkeypatch.context() as patch:
        patch.setattr(clock, "today", lambda: due_on + timedelta(days=1))
        assert (await deadline_of(client, world, late_id))["isOverdue"] is True
        assert await overdue(True) == [late_id]
        assert await overdue(False) == [on_time_id]
        assert await overdue(True, "liaison-b") == [late_id]
        assert await overdue(True, "liaison-a") == []  # addressed to A: not overdue, and B's is not A's
        ok(await reply(client, world, late_id), "replyToRecommendation")
        seen = await deadline_of(client, world, late_id)
        assert seen["isOverdue"] is False and seen["replied"] is True
        assert seen["replyDeadline"]["metOn"] == (due_on + timedelta(days=1)).isoformat()
        assert seen["replyDeadline"]["metLate"] is True
        assert await overdue(True) == []


STAGES = """query($id: ID!) { recommendation(id: $id) { reply { stages {
  milestone dueOn deadline { rule dueOn metOn } } } } }"""


async def test_each_unfinished_stage_of_the_plan_is_a_deadline_met_at_100_percent(client, world):
    from tests.recommendations.steps import plan, report, served_recommendation

    _, recommendation_id = await served_recommendation(client, world)
    past = [{"milestone": "制定修复方案", "dueOn": "2020-01-01", "percentComplete": 50}]
    refused = await reply(client, world, recommendation_id, stages=past)
    assert refused["errors"][0]["extensions"] == {"code": "VALIDATION", "field": "stages.0.dueOn"}

    stages = ok(await reply(client, world, recommendation_id, stages=plan()), "replyToRecommendation")["reply"]["stages"]
    seen = ok(await graphql(client, STAGES, {"id": recommendation_id}, world.tokens["liaison-b"]), "recommendation")
    assert [stage["deadline"] for stage in seen["reply"]["stages"]] == [
        None,  # done when the plan was made
        {"rule": "RECTIFICATION_STAGE", "dueOn": "2027-03-31", "metOn": None},
        {"rule": "RECTIFICATION_STAGE", "dueOn": "2027-12-31", "metOn": None}]
    ok(await report(client, world, recommendation_id, {"updates": [{"stageId": stages[1]["id"], "percentComplete": 100},
                                                                   {"stageId": stages[2]["id"], "percentComplete": 80}]}),
       "reportRectificationProgress")
    seen = ok(await graphql(client, STAGES, {"id": recommendation_id}, world.tokens["prosecutor-1"]), "recommendation")
    assert [stage["deadline"] and stage["deadline"]["metOn"] for stage in seen["reply"]["stages"]] == [
        None, clock.today().isoformat(), None]
