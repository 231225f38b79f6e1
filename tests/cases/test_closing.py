"""Closing a case: which outcome fits which status and kind, the summary as the reason, the court's
document for an outcome a court decided; and the table itself, checked without a database."""

from __future__ import annotations

import pytest

from cases.flows import CASE_TRANSITIONS, CIVIL_CLAIM_KINDS, OUTCOME_SOURCES, OUTCOMES_FROM_COURT, CaseAction
from cases.models import CaseKind, CaseOutcome, CaseStatus
from core import clock
from tests.cases.helpers import ACTORS, case_state, move_by_engine, new_case, refused_to_everyone_else
from tests.conftest import error_codes, graphql

START = "mutation($caseId: ID!) { startConsultation(caseId: $caseId) { status } }"
ANNOUNCE = """mutation($caseId: ID!, $publishedOn: Date!) {
  announceCase(caseId: $caseId, input: {publishedOn: $publishedOn, medium: "正义网"}) { status } }"""
SUE = """mutation($caseId: ID!) { fileLitigation(caseId: $caseId, input: {court: "卫东区人民法院", claims: "判令履职"}) {
  status } }"""
CLOSE = """mutation($caseId: ID!, $input: CloseCaseInput!) { closeCase(caseId: $caseId, input: $input) {
  status outcome closure { outcome summary closedOn courtDecision { court documentNumber decidedOn } } } }"""
DECISION = {"court": "卫东区人民法院", "documentNumber": "（2026）豫0403行初1号", "decidedOn": None}


def test_every_outcome_closes_from_a_status_the_machine_closes_from():
    closable = {t.source for t in CASE_TRANSITIONS if t.action is CaseAction.CLOSE}
    sources = {status for by_status in OUTCOME_SOURCES.values() for status in by_status}
    assert sources == closable  # and every closable status has an outcome
    assert set(OUTCOME_SOURCES) == set(CaseOutcome)
    assert all(OUTCOME_SOURCES[outcome].keys() == {CaseStatus.LITIGATION} for outcome in OUTCOMES_FROM_COURT)
    # Consultation is administrative; the announcement is a civil claim's.
    assert OUTCOME_SOURCES[CaseOutcome.DUTY_PERFORMED][CaseStatus.FILED] == {CaseKind.ADMINISTRATIVE}
    assert OUTCOME_SOURCES[CaseOutcome.SUED_BY_ORGANISATION] == {CaseStatus.ANNOUNCED: CIVIL_CLAIM_KINDS}


async def case_in(client, world, resources, status: str, kind: str) -> str:
    case_id = await new_case(client, world, kind=kind)
    token = world.tokens["prosecutor-1"]
    if status == "CONSULTATION":
        assert "errors" not in await graphql(client, START, {"caseId": case_id}, token)
    if status in ("RECOMMENDATION_ISSUED", "FOLLOW_UP") or (status == "LITIGATION" and kind == "ADMINISTRATIVE"):
        await move_by_engine(resources, world, case_id, CaseAction.ISSUE_RECOMMENDATION)
        if status != "RECOMMENDATION_ISSUED":
            await move_by_engine(resources, world, case_id, CaseAction.BEGIN_FOLLOW_UP)
    if status == "ANNOUNCED":
        assert "errors" not in await graphql(client, ANNOUNCE, {"caseId": case_id,
                                                                "publishedOn": clock.today().isoformat()}, token)
    if status == "LITIGATION":
        assert "errors" not in await graphql(client, SUE, {"caseId": case_id}, token)
    assert (await case_state(client, world, case_id))["status"] == status
    return case_id


def closing(outcome: str) -> dict:
    fields = {"outcome": outcome, "summary": f"以{outcome}结案"}
    if outcome in {item.value for item in OUTCOMES_FROM_COURT}:
        fields["courtDecision"] = {**DECISION, "decidedOn": clock.today().isoformat()}
    return fields


@pytest.mark.parametrize("status, kind, outcome, allowed", [
    ("FILED", "ADMINISTRATIVE", "DUTY_PERFORMED", True),
    ("FILED", "ADMINISTRATIVE", "TERMINATED", True),
    ("FILED", "ADMINISTRATIVE", "RECTIFIED", False),
    ("FILED", "CIVIL", "DUTY_PERFORMED", False),
    ("FILED", "CIVIL", "SUED_BY_ORGANISATION", False),
    ("CONSULTATION", "ADMINISTRATIVE", "DUTY_PERFORMED", True),
    ("CONSULTATION", "ADMINISTRATIVE", "RECTIFIED", False),
    ("FOLLOW_UP", "ADMINISTRATIVE", "RECTIFIED", True),
    ("FOLLOW_UP", "ADMINISTRATIVE", "TERMINATED", True),
    ("FOLLOW_UP", "ADMINISTRATIVE", "DUTY_PERFORMED", False),
    ("FOLLOW_UP", "ADMINISTRATIVE", "JUDGMENT", False),
    ("ANNOUNCED", "CRIMINAL_INCIDENTAL_CIVIL", "TERMINATED", True),
    ("ANNOUNCED", "CIVIL", "MEDIATION", False),
    ("LITIGATION", "ADMINISTRATIVE", "JUDGMENT", True),
    ("LITIGATION", "ADMINISTRATIVE", "SUIT_WITHDRAWN", True),
    ("LITIGATION", "ADMINISTRATIVE", "TERMINATED", False),
    ("LITIGATION", "ADMINISTRATIVE", "RECTIFIED", False),
])
async def test_which_outcome_closes_which_case(client, world, resources, status, kind, outcome, allowed):
    case_id = await case_in(client, world, resources, status, kind)
    body = await graphql(client, CLOSE, {"caseId": case_id, "input": closing(outcome)}, world.tokens["prosecutor-1"])
    if allowed:
        assert body["data"]["closeCase"]["outcome"] == outcome, body
        history = (await case_state(client, world, case_id, "liaison-a"))["history"][-1]
        assert (history["action"], history["fromStatus"], history["reason"]) == ("close", status, f"以{outcome}结案")
        return
    assert error_codes(body) == ["VALIDATION"], body
    error = body["errors"][0]
    assert error["extensions"]["field"] == "outcome"
    assert status in error["message"] and outcome in error["message"]
    assert (await case_state(client, world, case_id))["status"] == status  # the transition was rolled back


@pytest.mark.parametrize("status", ["RECOMMENDATION_ISSUED", "CLOSED"])
async def test_a_case_does_not_close_from_recommendation_or_twice(client, world, resources, status):
    case_id = await case_in(client, world, resources, "RECOMMENDATION_ISSUED" if status != "CLOSED" else "FILED",
                            "ADMINISTRATIVE")
    token = world.tokens["prosecutor-1"]
    if status == "CLOSED":
        assert "errors" not in await graphql(client, CLOSE, {"caseId": case_id, "input": closing("TERMINATED")}, token)
    body = await graphql(client, CLOSE, {"caseId": case_id, "input": closing("TERMINATED")}, token)
    assert error_codes(body) == ["INVALID_TRANSITION"] and body["errors"][0]["extensions"]["status"] == status


@pytest.mark.parametrize("user", ACTORS)
async def test_a_judgment_closes_with_the_courts_document(client, world, resources, user):
    case_id = await case_in(client, world, resources, "LITIGATION", "ADMINISTRATIVE")
    today = clock.today().isoformat()
    await refused_to_everyone_else(client, world, CLOSE, {"caseId": case_id, "input": closing("JUDGMENT")}, case_id)
    body = await graphql(client, CLOSE, {"caseId": case_id, "input": closing("JUDGMENT")}, world.tokens[user])
    assert body["data"]["closeCase"] == {"status": "CLOSED", "outcome": "JUDGMENT", "closure": {
        "outcome": "JUDGMENT", "summary": "以JUDGMENT结案", "closedOn": today,
        "courtDecision": {**DECISION, "decidedOn": today}}}
    # The referring agency reads how its case ended.
    seen = await graphql(client, "query($id: ID!) { case(id: $id) { number status outcome closure { outcome "
                                 "courtDecision { documentNumber } } } }", {"id": case_id}, world.tokens["liaison-a"])
    assert seen["data"]["case"]["outcome"] == "JUDGMENT"
    assert seen["data"]["case"]["closure"]["courtDecision"] == {"documentNumber": DECISION["documentNumber"]}


@pytest.mark.parametrize("fields, field", [
    ({"outcome": "MEDIATION", "courtDecision": None}, "courtDecision"),
    ({"outcome": "JUDGMENT", "courtDecision": {**DECISION, "decidedOn": "2000-01-01"}}, "courtDecision.decidedOn"),
    ({"outcome": "JUDGMENT", "courtDecision": {**DECISION, "court": " ", "decidedOn": "TODAY"}}, "courtDecision.court"),
    ({"outcome": "JUDGMENT", "courtDecision": {**DECISION, "documentNumber": "", "decidedOn": "TODAY"}},
     "courtDecision.documentNumber"),
    ({"outcome": "JUDGMENT", "summary": "  "}, "summary"),
    ({"outcome": "JUDGMENT", "closedOn": "2999-01-01"}, "closedOn"),
    ({"outcome": "JUDGMENT", "closedOn": "2000-01-01"}, "closedOn"),
])
async def test_closing_input_is_checked(client, world, resources, fields, field):
    case_id = await case_in(client, world, resources, "LITIGATION", "ADMINISTRATIVE")
    variables = {**closing(fields["outcome"]), **fields}
    if variables.get("courtDecision") and variables["courtDecision"]["decidedOn"] == "TODAY":
        variables["courtDecision"]["decidedOn"] = clock.today().isoformat()
    body = await graphql(client, CLOSE, {"caseId": case_id, "input": variables}, world.tokens["prosecutor-1"])
    assert error_codes(body) == ["VALIDATION"], body
    assert body["errors"][0]["extensions"]["field"] == field
    assert (await case_state(client, world, case_id))["status"] == "LITIGATION"


async def test_an_outcome_no_court_decided_takes_no_court_document(client, world, resources):
    case_id = await case_in(client, world, resources, "FOLLOW_UP", "ADMINISTRATIVE")
    body = await graphql(client, CLOSE, {"caseId": case_id, "input": {
        **closing("RECTIFIED"), "courtDecision": {**DECISION, "decidedOn": clock.today().isoformat()}}},
        world.tokens["prosecutor-1"])
    assert error_codes(body) == ["VALIDATION"] and body["errors"][0]["extensions"]["field"] == "courtDecision"


async def test_a_reopened_case_shows_no_outcome_until_closed_again(client, world, resources):
    case_id = await case_in(client, world, resources, "FOLLOW_UP", "ADMINISTRATIVE")
    assert "errors" not in await graphql(client, CLOSE, {"caseId": case_id, "input": closing("RECTIFIED")},
                                         world.tokens["prosecutor-1"])
    # 回头看 months later (the recommendations package's act, through the same engine).
    await move_by_engine(resources, world, case_id, CaseAction.REOPEN_FOLLOW_UP, reason="回头看发现复垦土地再次被占用")
    body = await graphql(client, "query($id: ID!) { case(id: $id) { status outcome closure { outcome } } }",
                         {"id": case_id}, world.tokens["liaison-a"])
    assert body["data"]["case"] == {"status": "FOLLOW_UP", "outcome": None, "closure": None}
