"""Rectification checks by the procuratorate: geotagged evidence, the case's follow-up, and the
follow-up check months later (回头看) that carries open items forward and may reopen follow-up."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from agencies.models import Role
from agencies.principal import Principal
from cases.flows import CASE_MACHINE, CaseAction
from cases.models import Case
from core import clock, unit_of_work
from core.state_machine import apply_transition
from tests.conftest import error_codes
from tests.recommendations.steps import (
    PHOTO,
    SITE,
    administrative_case,
    case_state,
    check,
    issue,
    ok,
    read,
    reply,
    served_recommendation,
    today,
)


async def close_case(resources, world, case_id: str) -> None:
    """Closing belongs to the cases package's own operation; the tests here need only a closed case."""
    prosecutor = Principal(role=Role.PROSECUTOR, username="prosecutor-1",
                           user_id=uuid.UUID(world.ids["user:prosecutor-1"]))
    async with resources.session_factory() as session:
        case = await session.scalar(select(Case).where(Case.id == uuid.UUID(case_id)))
        await apply_transition(session, principal=prosecutor, machine=CASE_MACHINE, row=case,
                               action=CaseAction.CLOSE, reason="整改到位，结案")
        await unit_of_work.commit(session)


async def test_a_check_with_geotagged_evidence_begins_follow_up(client, world, resources):
    case_id, recommendation_id = await served_recommendation(client, world)
    ok(await reply(client, world, recommendation_id), "replyToRecommendation")
    body = await check(client, world, recommendation_id, "PARTIAL", files=[PHOTO],
                       location={"type": "Point", "coordinates": [113.2111, 34.5032]}, crs="GCJ02")
    checked = ok(body, "recordRectificationCheck")
    assert checked["result"] == "PARTIAL" and checked["checkedOn"] == today() and checked["actorName"] == "prosecutor-1"
    assert checked["location"]["type"] == "Point"
    # Stored in WGS84: the GCJ-02 offset of a few hundred metres is taken off.
    lon, lat = checked["location"]["coordinates"]
    assert abs(lon - 113.2111) > 0.003 and abs(lon - 113.2111) < 0.01 and abs(lat - 34.5032) < 0.01
    assert [item["description"] for item in checked["openItems"]] == ["北侧坡面未复绿"]
    assert checked["openItems"][0]["firstCheckId"] == checked["id"]
    assert checked["evidence"][0]["sha256"] == hashlib.sha256(PHOTO[1]).hexdigest()
    assert checked["recommendation"] == {"status": "CHECKED", "rectification": "PARTIAL",
                                         "rectificationVerifiedOn": None, "replied": True}
    case = await case_state(client, world, case_id)
    assert case["status"] == "FOLLOW_UP"
    assert case["history"][-1] == {"action": "begin_follow_up", "fromStatus": "RECOMMENDATION_ISSUED",
                                   "toStatus": "FOLLOW_UP", "reason": None}

    # The addressee sees the findings, the open items and the photos: they are what it still has to do.
    seen = ok(await read(client, world, recommendation_id, "liaison-b"), "recommendation")
    assert seen["checks"][0]["findings"] == "现场复绿约六成，尚有裸露坡面。"
    response = await client.get(seen["checks"][0]["evidence"][0]["downloadPath"],
                                headers={"Authorization": f"Bearer {world.tokens['liaison-b']}"})
    assert response.status_code == 200 and response.content == PHOTO[1]

    # Checked again, rectified: verified, and the case stays in follow-up (it is closed by its own act).
    again = ok(await check(client, world, recommendation_id, "RECTIFIED", findings="坡面已全部复绿。",
                           followUpOf=checked["id"]), "recordRectificationCheck")
    assert again["openItems"] == [] and again["followUpOfId"] == checked["id"]
    assert again["recommendation"] == {"status": "CHECKED", "rectification": "RECTIFIED",
                                       "rectificationVerifiedOn": today(), "replied": True}
    assert [step["action"] for step in (await case_state(client, world, case_id))["history"]] == [
        "file", "issue_recommendation", "begin_follow_up"]
    history = ok(await read(client, world, recommendation_id), "recommendation")["history"]
    assert [(step["action"], step["toStatus"]) for step in history] == [
        ("issue", "ISSUED"), ("serve", "SERVED"), ("reply", "REPLIED"), ("check", "CHECKED"), ("check", "CHECKED")]


async def test_a_late_reply_is_checked_on_site_and_may_still_come(client, world):
    _, recommendation_id = await served_recommendation(client, world)
    checked = ok(await check(client, world, recommendation_id, "NOT_RECTIFIED"), "recordRectificationCheck")
    assert checked["recommendation"] == {"status": "CHECKED", "rectification": "NOT_RECTIFIED",
                                         "rectificationVerifiedOn": None, "replied": False}
    late = ok(await reply(client, world, recommendation_id), "replyToRecommendation")
    # The reply is recorded; the finding stands.
    assert (late["status"], late["replied"], late["rectification"]) == ("CHECKED", True, "NOT_RECTIFIED")


@pytest.mark.parametrize("user, code", [
    ("liaison-b", "FORBIDDEN"), ("liaison-a", "FORBIDDEN"), ("assessor-1", "FORBIDDEN"), ("admin", "FORBIDDEN"),
    ("prosecutor-2", "NOT_FOUND"),
])
async def test_no_one_else_records_a_check(client, world, user, code):
    case_id, recommendation_id = await served_recommendation(client, world)
    assert error_codes(await check(client, world, recommendation_id, user=user, files=[PHOTO])) == [code]
    assert (await case_state(client, world, case_id))["status"] == "RECOMMENDATION_ISSUED"


async def test_a_city_prosecutor_checks_a_district_recommendation(client, world):
    case_id, recommendation_id = await served_recommendation(client, world)
    assert ok(await check(client, world, recommendation_id, user="prosecutor-city"),
              "recordRectificationCheck")["actorName"] == "prosecutor-city"


async def test_not_before_service(client, world):
    case_id = await administrative_case(client, world)
    recommendation_id = ok(await issue(client, world, case_id), "issueRecommendation")["id"]
    body = await check(client, world, recommendation_id)
    assert error_codes(body) == ["INVALID_TRANSITION"] and body["errors"][0]["extensions"]["status"] == "ISSUED"


@pytest.mark.parametrize("result, fields, code, field", [
    ("RECTIFIED", {"openItems": ["仍有遗留"]}, "VALIDATION", "openItems"),
    ("PARTIAL", {"openItems": []}, "VALIDATION", "openItems"),
    ("PARTIAL", {"findings": ""}, "VALIDATION", "findings"),
    ("PARTIAL", {"checkedOn": "2999-01-01"}, "VALIDATION", "checkedOn"),
    ("PARTIAL", {"checkedOn": "2001-01-01"}, "VALIDATION", "checkedOn"),  # before the service
    ("PARTIAL", {"location": {"type": "Point", "coordinates": [200, 34]}}, "INVALID_GEOMETRY", "location"),
    ("PARTIAL", {"followUpOf": str(uuid.uuid4())}, "VALIDATION", "followUpOf"),
    ("PARTIAL", {"resolvedOpenItemIds": [str(uuid.uuid4())]}, "VALIDATION", "resolvedOpenItemIds"),
    ("PARTIAL", {"reopenReason": "回头看发现反弹"}, "VALIDATION", "reopenReason"),  # the case is not closed
])
async def test_what_a_check_must_say(client, world, resources, result, fields, code, field):
    case_id, recommendation_id = await served_recommendation(client, world)
    body = await check(client, world, recommendation_id, result, files=[PHOTO], **fields)
    assert error_codes(body) == [code] and body["errors"][0]["extensions"]["field"] == field
    assert ok(await read(client, world, recommendation_id), "recommendation")["checks"] == []
    assert (await case_state(client, world, case_id))["status"] == "RECOMMENDATION_ISSUED"


async def test_a_follow_up_check_links_only_to_a_check_of_the_same_recommendation(client, world):
    _, first = await served_recommendation(client, world)
    _, second = await served_recommendation(client, world)
    other_check = ok(await check(client, world, second), "recordRectificationCheck")
    body = await check(client, world, first, followUpOf=other_check["id"])
    assert error_codes(body) == ["VALIDATION"] and body["errors"][0]["extensions"]["field"] == "followUpOf"


async def test_a_follow_up_months_later_carries_open_items_and_reopens_follow_up(client, world, resources, monkeypatch):
    case_id, recommendation_id = await served_recommendation(client, world)
    first = ok(await check(client, world, recommendation_id, "PARTIAL", openItems=["北侧坡面未复绿", "排水沟未修复"]),
               "recordRectificationCheck")
    [slope, ditch] = first["openItems"]
    await close_case(resources, world, case_id)

    months_later = clock.today() + timedelta(days=120)
    with monkeypatch.context() as patch:
        patch.setattr(clock, "today", lambda: months_later)
        # Without a reason the check is recorded and the case stays closed.
        plain = ok(await check(client, world, recommendation_id, "PARTIAL", checkedOn=str(months_later),
                               followUpOf=first["id"], openItems=[]), "recordRectificationCheck")
        assert [item["id"] for item in plain["openItems"]] == [slope["id"], ditch["id"]]
        assert (await case_state(client, world, case_id))["status"] == "CLOSED"
        body = await check(client, world, recommendation_id, "PARTIAL", checkedOn=str(months_later),
                           followUpOf=first["id"], resolvedOpenItemIds=[ditch["id"]], openItems=["新增堆土未清理"],
                           reopenReason="回头看发现坡面整改反弹", files=[PHOTO])
    follow_up = ok(body, "recordRectificationCheck")
    assert follow_up["followUpOfId"] == first["id"] and follow_up["checkedOn"] == str(months_later)
    # The unresolved item is carried with its id and where it was first found; the new one is its own.
    assert [(item["id"], item["description"], item["firstCheckId"]) for item in follow_up["openItems"]] == [
        (slope["id"], "北侧坡面未复绿", first["id"]),
        (follow_up["openItems"][1]["id"], "新增堆土未清理", follow_up["id"])]
    case = await case_state(client, world, case_id)
    assert case["status"] == "FOLLOW_UP"
    assert case["history"][-1] == {"action": "reopen_follow_up", "fromStatus": "CLOSED", "toStatus": "FOLLOW_UP",
                                   "reason": "回头看发现坡面整改反弹"}


async def test_a_rectified_finding_reopens_nothing(client, world, resources):
    case_id, recommendation_id = await served_recommendation(client, world)
    first = ok(await check(client, world, recommendation_id, "PARTIAL"), "recordRectificationCheck")
    await close_case(resources, world, case_id)
    body = await check(client, world, recommendation_id, "RECTIFIED", followUpOf=first["id"], reopenReason="无")
    assert error_codes(body) == ["VALIDATION"] and body["errors"][0]["extensions"]["field"] == "reopenReason"
    assert ok(await check(client, world, recommendation_id, "RECTIFIED", followUpOf=first["id"], location=SITE),
              "recordRectificationCheck")["openItems"] == []
    assert (await case_state(client, world, case_id))["status"] == "CLOSED"
