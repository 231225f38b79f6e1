"""An administrative case from filing to judgment entirely through the API, with the
recommendations package's steps in between: consultation, recommendation, reply, a check that
finds it not rectified, the suit, the judgment; and a rectified case closed and reopened by 回头看."""

from __future__ import annotations

from core import clock
from tests.cases.helpers import case_state
from tests.conftest import error_codes, graphql
from tests.recommendations.steps import check, issue, ok, reply, serve
from tests.referral.test_return_and_decline import in_status

START = "mutation($caseId: ID!) { startConsultation(caseId: $caseId) { status } }"
SUE = """mutation($caseId: ID!) { fileLitigation(caseId: $caseId, input: {court: "卫东区人民法院",
  claims: "确认被告未依法履职违法，判令其依法履职"}) { status } }"""
CLOSE = """mutation($caseId: ID!, $input: CloseCaseInput!) { closeCase(caseId: $caseId, input: $input) {
  status outcome closure { courtDecision { documentNumber } } } }"""
FILE = "mutation($id: ID!) { fileCase(referralId: $id, input: {kind: ADMINISTRATIVE}) { id } }"


async def filed(client, world) -> str:
    referral_id = await in_status(client, world, "REGISTERED")
    return ok(await graphql(client, FILE, {"id": referral_id}, world.tokens["prosecutor-1"]), "fileCase")["id"]


async def test_from_consultation_through_recommendation_to_judgment(client, world):
    case_id = await filed(client, world)
    token = world.tokens["prosecutor-1"]
    ok(await graphql(client, START, {"caseId": case_id}, token), "startConsultation")
    recommendation_id = ok(await issue(client, world, case_id), "issueRecommendation")["id"]
    ok(await serve(client, world, recommendation_id), "recordRecommendationServed")
    ok(await reply(client, world, recommendation_id, accepted=False, reasons="不属于本机关职责"),
       "replyToRecommendation")
    ok(await check(client, world, recommendation_id, result="NOT_RECTIFIED"), "recordRectificationCheck")
    assert (await case_state(client, world, case_id))["status"] == "FOLLOW_UP"
    assert ok(await graphql(client, SUE, {"caseId": case_id}, token), "fileLitigation") == {"status": "LITIGATION"}
    closed = ok(await graphql(client, CLOSE, {"caseId": case_id, "input": {
        "outcome": "JUDGMENT", "summary": "法院判决确认违法并责令履职",
        "courtDecision": {"court": "卫东区人民法院", "documentNumber": "（2026）豫0403行初7号",
                          "decidedOn": clock.today().isoformat()}}}, token), "closeCase")
    assert closed == {"status": "CLOSED", "outcome": "JUDGMENT",
                      "closure": {"courtDecision": {"documentNumber": "（2026）豫0403行初7号"}}}
    history = (await case_state(client, world, case_id, "liaison-a"))["history"]
    assert [(step["fromStatus"], step["toStatus"]) for step in history] == [
        (None, "FILED"), ("FILED", "CONSULTATION"), ("CONSULTATION", "RECOMMENDATION_ISSUED"),
        ("RECOMMENDATION_ISSUED", "FOLLOW_UP"), ("FOLLOW_UP", "LITIGATION"), ("LITIGATION", "CLOSED")]


async def test_a_rectified_case_closes_and_a_later_check_reopens_it(client, world):
    case_id = await filed(client, world)
    token = world.tokens["prosecutor-1"]
    recommendation_id = ok(await issue(client, world, case_id), "issueRecommendation")["id"]
    ok(await serve(client, world, recommendation_id), "recordRecommendationServed")
    ok(await reply(client, world, recommendation_id), "replyToRecommendation")
    first = ok(await check(client, world, recommendation_id, result="RECTIFIED"), "recordRectificationCheck")
    closed = ok(await graphql(client, CLOSE, {"caseId": case_id, "input": {
        "outcome": "RECTIFIED", "summary": "经跟进监督，已整改到位"}}, token), "closeCase")
    assert (closed["status"], closed["outcome"]) == ("CLOSED", "RECTIFIED")
    ok(await check(client, world, recommendation_id, result="NOT_RECTIFIED", followUpOf=first["id"],
                   reopenReason="回头看发现复垦土地再次被占用"), "recordRectificationCheck")
    body = await graphql(client, "query($id: ID!) { case(id: $id) { status outcome closure { outcome } } }",
                         {"id": case_id}, world.tokens["liaison-a"])
    assert body["data"]["case"] == {"status": "FOLLOW_UP", "outcome": None, "closure": None}


HEARING = """mutation($caseId: ID!, $input: ScheduleHearingInput!) { scheduleHearing(caseId: $caseId, input: $input) {
  topic recommendationId } }"""


def hearing_plan(recommendation_id: str) -> dict:
    return {"topic": "RECTIFICATION", "scheduledAt": f"{clock.today().isoformat()}T09:30:00+08:00",
            "place": "卫东区人民检察院听证室", "recommendationId": recommendation_id,
            "participants": [{"name": "人民监督员甲", "role": "PEOPLES_SUPERVISOR"}]}


async def test_a_hearing_on_a_recommendations_rectification_names_it(client, world):
    case_id = await filed(client, world)
    other_case_id = await filed(client, world)
    token = world.tokens["prosecutor-1"]
    recommendation_id = ok(await issue(client, world, case_id), "issueRecommendation")["id"]
    other_recommendation_id = ok(await issue(client, world, other_case_id), "issueRecommendation")["id"]

    hearing = ok(await graphql(client, HEARING, {"caseId": case_id, "input": hearing_plan(recommendation_id)},
                               token), "scheduleHearing")
    assert hearing == {"topic": "RECTIFICATION", "recommendationId": recommendation_id}

    # Another case's recommendation is refused by name; one out of sight does not exist.
    body = await graphql(client, HEARING, {"caseId": case_id, "input": hearing_plan(other_recommendation_id)}, token)
    assert error_codes(body) == ["VALIDATION"] and body["errors"][0]["extensions"]["field"] == "recommendationId"
    body = await graphql(client, HEARING, {"caseId": case_id,
                                           "input": hearing_plan("00000000-0000-0000-0000-000000000000")}, token)
    assert error_codes(body) == ["NOT_FOUND"]
