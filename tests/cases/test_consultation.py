"""Pre-litigation consultation (诉前磋商): starting it, its meetings, ending a case there, and who
reads it."""

from __future__ import annotations

from datetime import date

import pytest

from core import clock
from tests.cases.helpers import ACTORS, case_state, new_case, refused_to_everyone_else, today_is
from tests.conftest import error_codes, graphql

START = """mutation($caseId: ID!, $input: StartConsultationInput) {
  startConsultation(caseId: $caseId, input: $input) { status consultation { startedOn agency { name } } } }"""
MEETING = """mutation($caseId: ID!, $input: ConsultationMeetingInput!) {
  recordConsultationMeeting(caseId: $caseId, input: $input) { heldOn place agreedFacts participants { name role } } }"""
CLOSE = """mutation($caseId: ID!, $input: CloseCaseInput!) {
  closeCase(caseId: $caseId, input: $input) { status outcome closure { outcome summary closedOn courtDecision { court } } } }"""
CONSULTATION = """query($id: ID!) { case(id: $id) { consultation { startedOn agency { name }
  meetings { heldOn place agreedFacts participants { name role } } } } }"""


def meeting(**fields) -> dict:
    return {"heldOn": clock.today().isoformat(), "place": "区自然资源局会议室",
            "participants": [{"name": "检察官甲", "role": "PROSECUTOR"},
                             {"name": "局长乙", "role": "AGENCY_REPRESENTATIVE"}],
            "agreedFacts": "非法采矿区域1578亩未恢复，局方同意三个月内完成修复方案。", **fields}


@pytest.mark.parametrize("user", ACTORS)
async def test_a_prosecutor_consults_the_referring_agency_and_the_case_ends_there(client, world, user):
    case_id = await new_case(client, world)
    body = await graphql(client, START, {"caseId": case_id}, world.tokens[user])
    assert body["data"]["startConsultation"] == {
        "status": "CONSULTATION", "consultation": {"startedOn": clock.today().isoformat(),
                                                   "agency": {"name": "机关A"}}}
    body = await graphql(client, MEETING, {"caseId": case_id, "input": meeting()}, world.tokens[user])
    assert body["data"]["recordConsultationMeeting"]["participants"] == [
        {"name": "检察官甲", "role": "PROSECUTOR"}, {"name": "局长乙", "role": "AGENCY_REPRESENTATIVE"}]

    body = await graphql(client, CLOSE, {"caseId": case_id, "input": {
        "outcome": "DUTY_PERFORMED", "summary": "经磋商，行政机关已全面履职（办案规则第七十四条）"}}, world.tokens[user])
    assert body["data"]["closeCase"] == {"status": "CLOSED", "outcome": "DUTY_PERFORMED", "closure": {
        "outcome": "DUTY_PERFORMED", "summary": "经磋商，行政机关已全面履职（办案规则第七十四条）",
        "closedOn": clock.today().isoformat(), "courtDecision": None}}
    state = await case_state(client, world, case_id, "liaison-a")
    assert state["outcome"] == "DUTY_PERFORMED"
    assert [(step["action"], step["fromStatus"], step["toStatus"], step["actorName"], step["reason"])
            for step in state["history"]] == [
        ("file", None, "FILED", "prosecutor-1", None), ("consult", "FILED", "CONSULTATION", user, None),
        ("close", "CONSULTATION", "CLOSED", user, "经磋商，行政机关已全面履职（办案规则第七十四条）")]


async def test_no_one_else_starts_a_consultation_or_records_a_meeting(client, world):
    case_id = await new_case(client, world)
    await refused_to_everyone_else(client, world, START, {"caseId": case_id}, case_id)
    assert "errors" not in await graphql(client, START, {"caseId": case_id}, world.tokens["prosecutor-1"])
    await refused_to_everyone_else(client, world, MEETING, {"caseId": case_id, "input": meeting()}, case_id)
    seen = await graphql(client, CONSULTATION, {"id": case_id}, world.tokens["prosecutor-1"])
    assert seen["data"]["case"]["consultation"]["meetings"] == []


@pytest.mark.parametrize("kind", ["CIVIL", "CRIMINAL_INCIDENTAL_CIVIL"])
async def test_only_an_administrative_case_is_consulted_on(client, world, kind):
    case_id = await new_case(client, world, kind=kind)
    body = await graphql(client, START, {"caseId": case_id}, world.tokens["prosecutor-1"])
    assert error_codes(body) == ["INVALID_TRANSITION"]
    assert body["errors"][0]["extensions"]["kind"] == kind
    assert "administrative" in body["errors"][0]["message"]
    assert (await case_state(client, world, case_id))["status"] == "FILED"


async def test_a_consultation_starts_once_and_only_from_filed(client, world):
    case_id = await new_case(client, world)
    assert "errors" not in await graphql(client, START, {"caseId": case_id}, world.tokens["prosecutor-1"])
    body = await graphql(client, START, {"caseId": case_id}, world.tokens["prosecutor-1"])
    assert error_codes(body) == ["INVALID_TRANSITION"] and body["errors"][0]["extensions"]["status"] == "CONSULTATION"


async def test_a_meeting_needs_a_started_consultation_and_sensible_input(client, world, monkeypatch):
    with today_is(monkeypatch, date(2026, 3, 2)):
        case_id = await new_case(client, world)
    token = world.tokens["prosecutor-1"]

    async def record(**fields) -> dict:
        return await graphql(client, MEETING, {"caseId": case_id, "input": meeting(**{"heldOn": "2026-03-03",
                                                                                      **fields})}, token)

    assert error_codes(await record()) == ["INVALID_TRANSITION"]  # not in consultation
    with today_is(monkeypatch, date(2026, 3, 3)):
        assert "errors" not in await graphql(client, START, {"caseId": case_id, "input": {}}, token)
    for fields, field in (({"heldOn": "2026-03-02"}, "heldOn"),  # before the consultation started
                          ({"heldOn": "2999-01-01"}, "heldOn"),
                          ({"place": " "}, "place"), ({"agreedFacts": ""}, "agreedFacts"),
                          ({"participants": []}, "participants"),
                          ({"participants": [{"name": "", "role": "EXPERT"}]}, "participants.0.name")):
        body = await record(**fields)
        assert error_codes(body) == ["VALIDATION"], (fields, body)
        assert body["errors"][0]["extensions"]["field"] == field
    assert "errors" not in await record()
    # Data entry lags: the meeting of 3 March was entered long after it, beside one of today.
    assert "errors" not in await record(heldOn=clock.today().isoformat())
    seen = await graphql(client, CONSULTATION, {"id": case_id}, token)
    assert [item["heldOn"] for item in seen["data"]["case"]["consultation"]["meetings"]] == [
        "2026-03-03", clock.today().isoformat()]


async def test_the_consulted_agency_reads_the_consultation_and_no_other_agency_does(client, world):
    referring_agency_consulted = await new_case(client, world)
    other_agency_consulted = await new_case(client, world)
    token = world.tokens["prosecutor-1"]
    assert "errors" not in await graphql(client, START, {"caseId": referring_agency_consulted}, token)
    body = await graphql(client, START, {"caseId": other_agency_consulted,
                                         "input": {"agencyId": world.ids["agency:B"]}}, token)
    assert body["data"]["startConsultation"]["consultation"]["agency"] == {"name": "机关B"}
    for case_id in (referring_agency_consulted, other_agency_consulted):
        assert "errors" not in await graphql(client, MEETING, {"caseId": case_id, "input": meeting()}, token)

    def consultation(user: str, case_id: str):
        return graphql(client, CONSULTATION, {"id": case_id}, world.tokens[user])

    # The referring agency reads the consultation held with it: the agreed facts are its own too.
    seen = (await consultation("liaison-a", referring_agency_consulted))["data"]["case"]["consultation"]
    assert seen["agency"] == {"name": "机关A"} and len(seen["meetings"]) == 1
    # A consultation with another agency is no business of the referring one.
    assert (await consultation("liaison-a", other_agency_consulted))["data"]["case"]["consultation"] is None
    # Agency B was consulted but did not refer: it does not see the case at all (scoping is the referrer's).
    assert error_codes(await consultation("liaison-b", other_agency_consulted)) == ["NOT_FOUND"]
    for user in ("prosecutor-city", "assessor-1", "admin"):
        seen = (await consultation(user, other_agency_consulted))["data"]["case"]["consultation"]
        assert seen["agency"] == {"name": "机关B"} and len(seen["meetings"]) == 1, user


async def test_the_agency_consulted_must_be_one_the_prosecutor_sees(client, world):
    case_id = await new_case(client, world)
    body = await graphql(client, START, {"caseId": case_id, "input": {"agencyId": world.ids["agency:C"]}},
                         world.tokens["prosecutor-1"])
    assert error_codes(body) == ["NOT_FOUND"]  # agency C is in district 2
    assert (await case_state(client, world, case_id))["status"] == "FILED"
