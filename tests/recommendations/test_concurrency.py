"""Recommendations issued, served and replied to at the same moment: numbers neither duplicated
nor skipped, one service date, one reply."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from core import clock
from tests.conftest import error_codes
from tests.recommendations.steps import (
    administrative_case,
    issue,
    ok,
    read,
    recommendation_number,
    reply,
    serve,
    served_recommendation,
)


async def test_concurrent_issues_take_one_to_n(client, world):
    cases = [await administrative_case(client, world) for _ in range(4)]
    answers = await asyncio.gather(*(issue(client, world, case_id, user=("prosecutor-1", "prosecutor-city")[i % 2],
                                           addressee=("A", "B")[i % 2])
                                     for i, case_id in enumerate(cases * 2)))
    numbers = sorted(ok(answer, "issueRecommendation")["number"] for answer in answers)
    assert numbers == sorted(recommendation_number("一检", serial) for serial in range(1, 9))


async def test_two_services_at_once_record_one_date(client, world, monkeypatch):
    case_id = await administrative_case(client, world)
    recommendation_id = ok(await issue(client, world, case_id), "issueRecommendation")["id"]
    today = clock.today()
    monkeypatch.setattr(clock, "today", lambda: today + timedelta(days=1))
    answers = await asyncio.gather(serve(client, world, recommendation_id, str(today)),
                                   serve(client, world, recommendation_id, str(today + timedelta(days=1))))
    assert sorted(sum((error_codes(answer) for answer in answers), [])) == ["CONFLICT"]
    seen = ok(await read(client, world, recommendation_id), "recommendation")
    assert [step["action"] for step in seen["history"]] == ["issue", "serve"]


async def test_two_replies_at_once_make_one(client, world):
    _, recommendation_id = await served_recommendation(client, world)
    answers = await asyncio.gather(reply(client, world, recommendation_id), reply(client, world, recommendation_id))
    assert sorted(sum((error_codes(answer) for answer in answers), [])) == ["CONFLICT"]
    seen = ok(await read(client, world, recommendation_id), "recommendation")
    assert [step["action"] for step in seen["history"]] == ["issue", "serve", "reply"]
