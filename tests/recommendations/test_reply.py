"""The addressee agency's one written reply with its staged plan and attachments, and its later
progress reports. A reply is not a rectification."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import func, select

from evidence.models import Evidence, PendingUpload
from recommendations.models import RecommendationReply
from tests.conftest import error_codes
from tests.recommendations.steps import (
    PDF,
    PHOTO,
    administrative_case,
    issue,
    ok,
    plan,
    read,
    reply,
    report,
    served_recommendation,
    today,
)
from tests.referral.test_submit import store_keys


async def count(resources, model) -> int:
    async with resources.session_factory() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def test_the_addressee_replies_with_a_staged_plan_and_attachments(client, world, resources):
    case_id, recommendation_id = await served_recommendation(client, world)
    body = await reply(client, world, recommendation_id, files=[PDF, PHOTO])
    replied = ok(body, "replyToRecommendation")
    # Replied, and nothing said about rectification: only a check says that.
    assert (replied["status"], replied["replied"], replied["rectification"]) == ("REPLIED", True, None)
    assert [(stage["milestone"], stage["percentComplete"]) for stage in replied["reply"]["stages"]] == [
        ("委托第三方评估", 100), ("制定修复方案", 20), ("完成生态修复", 0)]
    assert [item["sha256"] for item in replied["reply"]["attachments"]] == [
        hashlib.sha256(PDF[1]).hexdigest(), hashlib.sha256(PHOTO[1]).hexdigest()]

    seen = ok(await read(client, world, recommendation_id), "recommendation")
    assert seen["reply"] | {"id": None, "stages": None, "attachments": None} == {
        "id": None, "accepted": True, "reasons": None, "measuresTaken": "已立案查处并责令恢复。", "repliedOn": today(),
        "actorName": "liaison-b", "stages": None, "attachments": None}
    assert seen["rectificationVerifiedOn"] is None
    assert seen["history"][-1] == {"action": "reply", "fromStatus": "SERVED", "toStatus": "REPLIED",
                                   "actorName": "liaison-b", "reason": None}
    # The files are in the store under the reply, held, and the addressee's to download.
    [pdf, photo] = seen["reply"]["attachments"]
    assert [key for key in store_keys(resources) if "/reply/" in key] != []
    response = await client.get(photo["downloadPath"], headers={"Authorization": f"Bearer {world.tokens['liaison-b']}"})
    assert response.status_code == 200 and response.content == PHOTO[1]
    assert await count(resources, PendingUpload) == 0


async def test_an_agency_that_does_not_accept_says_why(client, world):
    _, recommendation_id = await served_recommendation(client, world)
    body = await reply(client, world, recommendation_id, accepted=False, measuresTaken=None, stages=[])
    assert error_codes(body) == ["VALIDATION"] and body["errors"][0]["extensions"]["field"] == "reasons"
    body = await reply(client, world, recommendation_id, accepted=False, measuresTaken=None, stages=[],
                       reasons="该地块不属本机关监管职责范围。")
    assert ok(body, "replyToRecommendation")["reply"]["accepted"] is False
    seen = ok(await read(client, world, recommendation_id), "recommendation")
    assert (seen["reply"]["reasons"], seen["reply"]["measuresTaken"]) == ("该地块不属本机关监管职责范围。", "")


@pytest.mark.parametrize("fields, field", [
    ({"measuresTaken": " "}, "measuresTaken"),
    ({"stages": [{"milestone": "评估", "dueOn": "2027-01-01", "percentComplete": 101}]}, "stages.0.percentComplete"),
    ({"stages": [{"milestone": "", "dueOn": "2027-01-01"}]}, "stages.0.milestone"),
])
async def test_what_a_reply_must_say(client, world, resources, fields, field):
    _, recommendation_id = await served_recommendation(client, world)
    body = await reply(client, world, recommendation_id, files=[PHOTO], **fields)
    assert error_codes(body) == ["VALIDATION"] and body["errors"][0]["extensions"]["field"] == field
    assert ok(await read(client, world, recommendation_id), "recommendation")["status"] == "SERVED"
    assert await count(resources, Evidence) == 0


async def test_one_reply_per_recommendation_and_only_once_served(client, world, resources):
    case_id = await administrative_case(client, world)
    recommendation_id = ok(await issue(client, world, case_id), "issueRecommendation")["id"]
    body = await reply(client, world, recommendation_id)
    assert error_codes(body) == ["INVALID_TRANSITION"] and body["errors"][0]["extensions"]["status"] == "ISSUED"

    _, recommendation_id = await served_recommendation(client, world)
    ok(await reply(client, world, recommendation_id), "replyToRecommendation")
    second = await reply(client, world, recommendation_id, files=[PHOTO])
    assert error_codes(second) == ["CONFLICT"]
    assert await count(resources, RecommendationReply) == 1 and await count(resources, Evidence) == 0


@pytest.mark.parametrize("user, code", [
    ("liaison-a", "NOT_FOUND"),  # the referring agency is not the addressee
    ("liaison-c", "NOT_FOUND"),
    ("prosecutor-1", "FORBIDDEN"), ("assessor-1", "FORBIDDEN"), ("admin", "FORBIDDEN"),
])
async def test_no_one_but_the_addressee_replies(client, world, resources, user, code):
    _, recommendation_id = await served_recommendation(client, world)
    assert error_codes(await reply(client, world, recommendation_id, user=user, files=[PHOTO])) == [code]
    assert await count(resources, RecommendationReply) == 0 and await count(resources, Evidence) == 0


async def test_a_reply_with_a_refused_file_saves_nothing(client, world, resources):
    _, recommendation_id = await served_recommendation(client, world)
    body = await reply(client, world, recommendation_id, files=[PHOTO, ("x.bin", b"\x00\x01\x02" * 50, "image/png")])
    assert error_codes(body) == ["UNSUPPORTED_MEDIA_TYPE"]
    assert body["errors"][0]["extensions"]["field"] == "attachments.1"
    assert ok(await read(client, world, recommendation_id), "recommendation")["status"] == "SERVED"
    assert await count(resources, RecommendationReply) == 0 and await count(resources, Evidence) == 0
    # The stored photo's reservation is left abandoned for the janitor.
    async with resources.session_factory() as session:
        pending = (await session.scalars(select(PendingUpload))).all()
    assert pending and all(row.abandoned_at is not None for row in pending)


async def test_progress_reports_update_the_plan_and_never_rectify(client, world):
    _, recommendation_id = await served_recommendation(client, world)
    stages = ok(await reply(client, world, recommendation_id), "replyToRecommendation")["reply"]["stages"]
    updates = [{"stageId": stages[1]["id"], "percentComplete": 100}, {"stageId": stages[2]["id"], "percentComplete": 100}]
    body = await report(client, world, recommendation_id, {"updates": updates, "note": "修复工程已完工"}, files=[PHOTO])
    reported = ok(body, "reportRectificationProgress")
    assert [stage["percentComplete"] for stage in reported["reply"]["stages"]] == [100, 100, 100]
    assert reported["progressReports"] == [{"note": "修复工程已完工", "stageUpdates": [
        {"milestone": "制定修复方案", "fromPercent": 20, "toPercent": 100},
        {"milestone": "完成生态修复", "fromPercent": 0, "toPercent": 100}],
        "attachments": [{"sha256": hashlib.sha256(PHOTO[1]).hexdigest()}]}]
    # Everything done on paper; still not rectified until the procuratorate says so.
    assert (reported["status"], reported["rectification"]) == ("REPLIED", None)
    seen = ok(await read(client, world, recommendation_id, "liaison-b"), "recommendation")
    assert seen["progressReports"][0]["actorName"] == "liaison-b" and seen["rectificationVerifiedOn"] is None


async def test_what_a_progress_report_may_do(client, world):
    _, recommendation_id = await served_recommendation(client, world)
    early = await report(client, world, recommendation_id, {"note": "进展"})
    assert error_codes(early) == ["INVALID_TRANSITION"]
    ok(await reply(client, world, recommendation_id), "replyToRecommendation")
    _, other_id = await served_recommendation(client, world)
    other_stage = ok(await reply(client, world, other_id, stages=plan()[:1]), "replyToRecommendation")["reply"]["stages"][0]

    foreign = await report(client, world, recommendation_id, {"updates": [{"stageId": other_stage["id"],
                                                                           "percentComplete": 50}]})
    assert error_codes(foreign) == ["VALIDATION"] and foreign["errors"][0]["extensions"]["field"] == "updates.0.stageId"
    empty = await report(client, world, recommendation_id, {"note": " "})
    assert error_codes(empty) == ["VALIDATION"]
    for user, code in (("prosecutor-1", "FORBIDDEN"), ("liaison-a", "NOT_FOUND"), ("liaison-c", "NOT_FOUND")):
        assert error_codes(await report(client, world, recommendation_id, {"note": "进展"}, user=user)) == [code]
    assert ok(await read(client, world, recommendation_id), "recommendation")["progressReports"] == []


async def test_attachments_come_as_multipart_parts(client, world):
    from tests.conftest import graphql
    from tests.recommendations.steps import REPLY

    _, recommendation_id = await served_recommendation(client, world)
    body = await graphql(client, REPLY, {"id": recommendation_id, "input": {"accepted": True, "measuresTaken": "x"},
                                         "attachments": [{"file": "not a file"}]}, world.tokens["liaison-b"])
    assert body["errors"][0]["extensions"] == {"code": "VALIDATION", "field": "attachments.0.file"}
