"""Hearings (听证) on a case: scheduling, the conclusion, and who reads them."""

from __future__ import annotations

from datetime import date

import pytest

from tests.cases.helpers import ACTORS, REFUSALS, case_state, new_case, refused_to_everyone_else, today_is
from tests.conftest import error_codes, graphql

SCHEDULE = """mutation($caseId: ID!, $input: ScheduleHearingInput!) { scheduleHearing(caseId: $caseId, input: $input) {
  id topic scheduledAt place public participants { name role } heldOn conclusion } }"""
CONCLUDE = """mutation($hearingId: ID!, $input: HearingConclusionInput!) {
  recordHearingConclusion(hearingId: $hearingId, input: $input) { id heldOn conclusion } }"""
HEARINGS = "query($id: ID!) { case(id: $id) { hearings { id topic public heldOn conclusion participants { name } } } }"
CLOSE = """mutation($caseId: ID!) { closeCase(caseId: $caseId, input: {outcome: TERMINATED, summary: "终结"}) {
  status } }"""

PLAN = {"topic": "HARM", "scheduledAt": "2026-03-10T09:30:00+08:00", "place": "卫东区人民检察院听证室",
        "participants": [{"name": "人民监督员甲", "role": "PEOPLES_SUPERVISOR"},
                         {"name": "人大代表乙", "role": "PEOPLES_DEPUTY"},
                         {"name": "地质专家丙", "role": "EXPERT"},
                         {"name": "自然资源局代表丁", "role": "AGENCY_REPRESENTATIVE"}]}


async def filed_in_march(client, world, monkeypatch) -> str:
    with today_is(monkeypatch, date(2026, 3, 2)):
        return await new_case(client, world)


async def schedule(client, world, case_id: str, user: str = "prosecutor-1", **fields) -> dict:
    return await graphql(client, SCHEDULE, {"caseId": case_id, "input": {**PLAN, **fields}}, world.tokens[user])


@pytest.mark.parametrize("user", ACTORS)
async def test_a_public_hearing_is_scheduled_held_and_concluded(client, world, monkeypatch, user):
    case_id = await filed_in_march(client, world, monkeypatch)
    body = await schedule(client, world, case_id, user)
    hearing = body["data"]["scheduleHearing"]
    assert hearing | {"id": None} == {
        "id": None, "topic": "HARM", "scheduledAt": "2026-03-10T01:30:00+00:00", "place": PLAN["place"],
        "public": True, "participants": PLAN["participants"], "heldOn": None, "conclusion": None}
    with today_is(monkeypatch, date(2026, 3, 12)):
        body = await graphql(client, CONCLUDE, {"hearingId": hearing["id"], "input": {
            "heldOn": "2026-03-10", "conclusion": "听证员一致认为矿区生态损害事实清楚"}}, world.tokens[user])
    assert body["data"]["recordHearingConclusion"] == {"id": hearing["id"], "heldOn": "2026-03-10",
                                                        "conclusion": "听证员一致认为矿区生态损害事实清楚"}
    seen = await graphql(client, HEARINGS, {"id": case_id}, world.tokens["liaison-a"])
    assert seen["data"]["case"]["hearings"] == [{"id": hearing["id"], "topic": "HARM", "public": True,
                                                 "heldOn": "2026-03-10",
                                                 "conclusion": "听证员一致认为矿区生态损害事实清楚",
                                                 "participants": [{"name": p["name"]} for p in PLAN["participants"]]}]


async def test_no_one_else_schedules_or_concludes_a_hearing(client, world, monkeypatch):
    case_id = await filed_in_march(client, world, monkeypatch)
    await refused_to_everyone_else(client, world, SCHEDULE, {"caseId": case_id, "input": PLAN}, case_id)
    hearing_id = (await schedule(client, world, case_id))["data"]["scheduleHearing"]["id"]
    conclusion = {"hearingId": hearing_id, "input": {"heldOn": "2026-03-10", "conclusion": "结论"}}
    with today_is(monkeypatch, date(2026, 3, 12)):
        for user, code in REFUSALS.items():
            assert error_codes(await graphql(client, CONCLUDE, conclusion, world.tokens[user])) == [code], user
    seen = await graphql(client, HEARINGS, {"id": case_id}, world.tokens["prosecutor-1"])
    assert seen["data"]["case"]["hearings"][0]["conclusion"] is None


async def test_a_closed_hearing_is_not_shown_to_the_agency(client, world, monkeypatch):
    """A hearing closed to the public (personal information, an ongoing criminal investigation)
    is closed to the referring agency too: it reads the public ones only, and a closed hearing's
    id is NOT_FOUND to it."""
    case_id = await filed_in_march(client, world, monkeypatch)
    public = (await schedule(client, world, case_id))["data"]["scheduleHearing"]["id"]
    closed = (await schedule(client, world, case_id, topic="RESPONSIBILITY", public=False,
                             scheduledAt="2026-03-11T09:30:00+08:00"))["data"]["scheduleHearing"]["id"]
    for user in ("prosecutor-1", "prosecutor-city", "assessor-1", "admin"):
        seen = await graphql(client, HEARINGS, {"id": case_id}, world.tokens[user])
        assert [hearing["id"] for hearing in seen["data"]["case"]["hearings"]] == [public, closed], user
    seen = await graphql(client, HEARINGS, {"id": case_id}, world.tokens["liaison-a"])
    assert [hearing["id"] for hearing in seen["data"]["case"]["hearings"]] == [public]
    with today_is(monkeypatch, date(2026, 3, 12)):
        conclusion = {"input": {"heldOn": "2026-03-11", "conclusion": "结论"}}
        assert error_codes(await graphql(client, CONCLUDE, {"hearingId": closed, **conclusion},
                                         world.tokens["liaison-a"])) == ["NOT_FOUND"]
        assert error_codes(await graphql(client, CONCLUDE, {"hearingId": public, **conclusion},
                                         world.tokens["liaison-a"])) == ["FORBIDDEN"]


async def test_the_conclusion_is_recorded_once(client, world, monkeypatch):
    case_id = await filed_in_march(client, world, monkeypatch)
    hearing_id = (await schedule(client, world, case_id))["data"]["scheduleHearing"]["id"]
    token = world.tokens["prosecutor-1"]

    async def conclude(held_on: str, conclusion: str = "结论") -> dict:
        with today_is(monkeypatch, date(2026, 3, 12)):
            return await graphql(client, CONCLUDE, {"hearingId": hearing_id, "input": {
                "heldOn": held_on, "conclusion": conclusion}}, token)

    for held_on, conclusion, field in (("2026-03-09", "结论", "heldOn"),  # before the day it was scheduled for
                                       ("2026-03-13", "结论", "heldOn"),  # tomorrow
                                       ("2026-03-10", " ", "conclusion")):
        body = await conclude(held_on, conclusion)
        assert error_codes(body) == ["VALIDATION"] and body["errors"][0]["extensions"]["field"] == field
    assert "errors" not in await conclude("2026-03-10")
    assert "errors" not in await conclude("2026-03-10")  # the same again changes nothing
    assert error_codes(await conclude("2026-03-11")) == ["CONFLICT"]
    assert error_codes(await conclude("2026-03-10", "另一个结论")) == ["CONFLICT"]
    assert error_codes(await graphql(client, CONCLUDE, {"hearingId": "not-an-id", "input": {
        "heldOn": "2026-03-10", "conclusion": "结论"}}, token)) == ["NOT_FOUND"]


@pytest.mark.parametrize("fields, field", [
    ({"scheduledAt": "2026-03-01T23:59:00+08:00"}, "scheduledAt"),  # the day before the filing (Beijing)
    ({"scheduledAt": "2026-03-10T09:30:00"}, "scheduledAt"),  # no offset
    ({"place": ""}, "place"),
    ({"participants": []}, "participants"),
    ({"participants": [{"name": " ", "role": "EXPERT"}]}, "participants.0.name"),
])
async def test_a_hearing_plan_is_checked(client, world, monkeypatch, fields, field):
    case_id = await filed_in_march(client, world, monkeypatch)
    body = await schedule(client, world, case_id, **fields)
    assert error_codes(body) == ["VALIDATION"] and body["errors"][0]["extensions"]["field"] == field
    assert (await graphql(client, HEARINGS, {"id": case_id}, world.tokens["prosecutor-1"]))["data"]["case"][
        "hearings"] == []


async def test_a_closed_case_gets_no_new_hearing(client, world, monkeypatch):
    case_id = await filed_in_march(client, world, monkeypatch)
    assert "errors" not in await graphql(client, CLOSE, {"caseId": case_id}, world.tokens["prosecutor-1"])
    body = await schedule(client, world, case_id)
    assert error_codes(body) == ["INVALID_TRANSITION"] and body["errors"][0]["extensions"]["status"] == "CLOSED"
    assert (await case_state(client, world, case_id))["status"] == "CLOSED"
