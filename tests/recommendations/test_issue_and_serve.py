"""Issuing a recommendation in an administrative case, and recording its service (宣告送达)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core import clock
from tests.conftest import error_codes, graphql
from tests.recommendations.steps import (
    administrative_case,
    case_state,
    check,
    issue,
    ok,
    read,
    recommendation_number,
    serve,
    served_recommendation,
    today,
)

RECOMMENDATIONS = "query { recommendations { totalCount } }"


@pytest.mark.parametrize("user", ["prosecutor-1", "prosecutor-city"])
async def test_a_prosecutor_issues_a_recommendation_to_an_agency_that_did_not_refer_the_clue(client, world, user):
    case_id = await administrative_case(client, world)
    issued = ok(await issue(client, world, case_id, user=user, urgent=True), "issueRecommendation")
    assert issued | {"id": None} == {
        "id": None, "number": recommendation_number("一检", 1), "status": "ISSUED", "urgent": True,
        "content": "经查，辖区内存在非法占用林地未恢复的情形，负有监管职责的行政机关未依法履职。",
        "measures": "一、依法查处违法行为；二、督促恢复植被。", "legalBasis": "《中华人民共和国行政诉讼法》第二十五条第四款",
        "issuedOn": today(), "servedOn": None, "serviceWitnesses": [],
        "addressee": {"id": world.ids["agency:B"], "name": "机关B"}, "case": {"id": case_id,
                                                                          "status": "RECOMMENDATION_ISSUED"},
        "jurisdiction": {"code": "410101"}, "replied": False, "rectification": None,
        "rectificationVerifiedOn": None,
        "history": [{"action": "issue", "fromStatus": None, "toStatus": "ISSUED", "actorName": user, "reason": None}]}
    case = await case_state(client, world, case_id)
    assert case["status"] == "RECOMMENDATION_ISSUED"
    assert case["history"][-1] == {"action": "issue_recommendation", "fromStatus": "FILED",
                                   "toStatus": "RECOMMENDATION_ISSUED", "reason": None}


async def test_more_agencies_may_share_the_duty_without_moving_the_case_again(client, world):
    case_id = await administrative_case(client, world)
    first = ok(await issue(client, world, case_id), "issueRecommendation")
    second = ok(await issue(client, world, case_id, addressee="A"), "issueRecommendation")
    assert (first["number"], second["number"]) == (recommendation_number("一检", 1), recommendation_number("一检", 2))
    case = await case_state(client, world, case_id)
    assert [step["action"] for step in case["history"]] == ["file", "issue_recommendation"]
    # In follow-up as well.
    ok(await serve(client, world, first["id"]), "recordRecommendationServed")
    ok(await check(client, world, first["id"]), "recordRectificationCheck")
    assert (await case_state(client, world, case_id))["status"] == "FOLLOW_UP"
    third = ok(await issue(client, world, case_id), "issueRecommendation")
    assert third["number"] == recommendation_number("一检", 3) and third["case"]["status"] == "FOLLOW_UP"


@pytest.mark.parametrize("user, code", [
    ("prosecutor-2", "NOT_FOUND"),  # another district's case is not there for it
    ("liaison-a", "FORBIDDEN"), ("liaison-b", "FORBIDDEN"), ("assessor-1", "FORBIDDEN"), ("admin", "FORBIDDEN"),
])
async def test_no_one_else_issues_one(client, world, user, code):
    case_id = await administrative_case(client, world)
    assert error_codes(await issue(client, world, case_id, user=user)) == [code]
    assert (await case_state(client, world, case_id))["status"] == "FILED"
    assert ok(await graphql(client, RECOMMENDATIONS, {}, world.tokens["admin"]), "recommendations") == {
        "totalCount": 0}


@pytest.mark.parametrize("kind", ["CIVIL", "CRIMINAL_INCIDENTAL_CIVIL"])
async def test_only_an_administrative_case_takes_a_recommendation(client, world, kind):
    case_id = await administrative_case(client, world, kind=kind)
    body = await issue(client, world, case_id)
    assert error_codes(body) == ["INVALID_TRANSITION"]
    assert body["errors"][0]["extensions"]["kind"] == kind


async def test_the_addressee_is_an_agency_of_the_case_jurisdiction(client, world):
    case_id = await administrative_case(client, world)
    for addressee in (world.ids["agency:C"], "00000000-0000-0000-0000-000000000000", "not-an-id"):
        body = await issue(client, world, case_id, addresseeAgencyId=addressee)
        assert error_codes(body) == ["VALIDATION"], addressee
        # The same answer for another district's agency and for none at all.
        assert body["errors"][0]["extensions"]["field"] == "addresseeAgencyId"
        assert body["errors"][0]["message"].startswith("主送机关须为本案所在辖区的行政机关")


@pytest.mark.parametrize("fields, field", [
    ({"content": "  "}, "content"), ({"measures": ""}, "measures"), ({"legalBasis": ""}, "legalBasis"),
    ({"issuedOn": "2999-01-01"}, "issuedOn"), ({"issuedOn": "2000-01-01"}, "issuedOn"),
])
async def test_what_a_recommendation_must_say(client, world, fields, field):
    case_id = await administrative_case(client, world)
    body = await issue(client, world, case_id, **fields)
    assert error_codes(body) == ["VALIDATION"] and body["errors"][0]["extensions"]["field"] == field
    # A refused issue takes no number and leaves the case as it was.
    assert (await case_state(client, world, case_id))["status"] == "FILED"
    assert ok(await issue(client, world, case_id), "issueRecommendation")["number"] == recommendation_number("一检", 1)


async def test_a_closed_or_litigated_case_takes_no_new_recommendation(client, world, resources):
    from tests.recommendations.test_checks import close_case

    case_id, recommendation_id = await served_recommendation(client, world)
    ok(await check(client, world, recommendation_id, "RECTIFIED"), "recordRectificationCheck")
    await close_case(resources, world, case_id)
    body = await issue(client, world, case_id)
    assert error_codes(body) == ["INVALID_TRANSITION"] and body["errors"][0]["extensions"]["status"] == "CLOSED"


async def test_service_is_recorded_once_with_its_witnesses(client, world, monkeypatch):
    case_id = await administrative_case(client, world)
    recommendation_id = ok(await issue(client, world, case_id), "issueRecommendation")["id"]
    witnesses = [{"name": "人大代表甲", "role": "人大代表"}, {"name": "监督员乙", "role": "人民监督员"}]
    issued_on = clock.today()

    assert error_codes(await serve(client, world, recommendation_id, user="liaison-b")) == ["FORBIDDEN"]
    assert error_codes(await serve(client, world, recommendation_id, user="prosecutor-2")) == ["NOT_FOUND"]
    early = await serve(client, world, recommendation_id, (issued_on - timedelta(days=1)).isoformat())
    assert error_codes(early) == ["VALIDATION"] and early["errors"][0]["extensions"]["field"] == "servedOn"
    assert error_codes(await serve(client, world, recommendation_id, "2999-01-01")) == ["VALIDATION"]
    blank = await serve(client, world, recommendation_id, witnesses=[{"name": " ", "role": "人大代表"}])
    assert blank["errors"][0]["extensions"]["field"] == "witnesses.0.name"

    served = ok(await serve(client, world, recommendation_id, witnesses=witnesses, user="prosecutor-city"),
                "recordRecommendationServed")
    assert (served["status"], served["servedOn"], served["serviceWitnesses"]) == ("SERVED", today(), witnesses)
    assert served["history"][-1] == {"action": "serve", "fromStatus": "ISSUED", "toStatus": "SERVED",
                                     "actorName": "prosecutor-city", "reason": None}
    # The same date again changes nothing (nor the witnesses); another date is a conflict.
    again = ok(await serve(client, world, recommendation_id, witnesses=[]), "recordRecommendationServed")
    assert again["serviceWitnesses"] == witnesses and len(again["history"]) == 2
    with monkeypatch.context() as patch:
        patch.setattr(clock, "today", lambda: issued_on + timedelta(days=3))
        other = await serve(client, world, recommendation_id, (issued_on + timedelta(days=2)).isoformat())
    assert error_codes(other) == ["CONFLICT"]
    seen = ok(await read(client, world, recommendation_id, "liaison-b"), "recommendation")
    assert seen["servedOn"] == today() and seen["serviceWitnesses"] == witnesses


async def test_service_may_be_entered_after_the_fact(client, world, monkeypatch):
    case_id = await administrative_case(client, world)
    filed_on = clock.today()
    with monkeypatch.context() as patch:
        patch.setattr(clock, "today", lambda: filed_on + timedelta(days=40))
        recommendation_id = ok(await issue(client, world, case_id, issuedOn=str(filed_on + timedelta(days=10))),
                               "issueRecommendation")["id"]
        served = await serve(client, world, recommendation_id, str(filed_on + timedelta(days=12)))
    assert ok(served, "recordRecommendationServed")["servedOn"] == str(filed_on + timedelta(days=12))
