"""The weekly indicator board of a jurisdiction, as ISO-week time series."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core import clock
from tests.assessment.fixture import build
from tests.assessment.queries import BOARD, as_user
from tests.conftest import error_codes
from tests.referral.test_return_and_decline import in_status


@pytest.fixture
async def quarter(client, world, monkeypatch, rubric):
    return await build(client, world, monkeypatch)


def week(rows: list[dict], start: str) -> tuple:
    row = next(row for row in rows if row["weekStart"] == start)
    return (row["recommendationsIssued"], row["repliesDue"], row["repliesOnTime"], row["onTimeReplyRate"],
            row["rectified"], row["rectificationRate"])


async def test_weeks_of_recommendations_and_replies(client, world, quarter):
    body = await as_user(client, world, "assessor-1", BOARD, code="410101", **{"from": "2025-10-15", "to": "2025-12-17"})
    assert "errors" not in body, body
    rows = body["data"]["assessmentBoard"]
    assert rows[0]["weekStart"] == "2025-10-13" and rows[-1]["weekStart"] == "2025-12-15"
    assert len(rows) == 10 and rows[0]["isoWeek"] == 42 and rows[0]["isoYear"] == 2025
    assert week(rows, "2025-10-20") == (0, 1, 1, "1.0000", 1, "1.0000")  # R1: on time, rectified
    assert week(rows, "2025-11-03") == (1, 1, 0, "0.0000", 0, "0.0000")  # R2 issued; R4 due, late
    assert week(rows, "2025-11-17") == (0, 1, 0, "0.0000", 0, "0.0000")  # R2 due, late
    assert week(rows, "2025-12-01") == (1, 0, 0, None, 0, None)  # R3 issued
    assert week(rows, "2025-12-15") == (0, 1, 0, "0.0000", 0, "0.0000")  # R3 due, never answered
    # District 2 has none of it; the city has all of it.
    other = (await as_user(client, world, "prosecutor-2", BOARD, code="410102",
                           **{"from": "2025-10-15", "to": "2025-12-17"}))["data"]["assessmentBoard"]
    assert all(week(other, row["weekStart"]) == (0, 0, 0, None, 0, None) for row in other)
    city = (await as_user(client, world, "prosecutor-city", BOARD, code="410100",
                          **{"from": "2025-10-15", "to": "2025-12-17"}))["data"]["assessmentBoard"]
    assert [week(city, row["weekStart"]) for row in city] == [week(rows, row["weekStart"]) for row in rows]


async def test_referrals_received_and_filed_this_week(client, world, quarter):
    await in_status(client, world, "REGISTERED")  # received, not filed
    today = clock.today()
    body = await as_user(client, world, "prosecutor-1", BOARD, code="410101",
                         **{"from": today.isoformat(), "to": today.isoformat()})
    [row] = body["data"]["assessmentBoard"]
    assert row["weekStart"] == (today - timedelta(days=today.weekday())).isoformat()
    # The fixture's five referrals were all filed as cases (received today, whatever dates they carry).
    assert (row["referralsReceived"], row["referralsFiled"], row["filingRate"]) == (6, 5, "0.8333")


async def test_board_refusals(client, world, rubric):
    dates = {"from": "2025-10-01", "to": "2025-12-31"}
    assert error_codes(await as_user(client, world, "liaison-a", BOARD, code="410101", **dates)) == ["FORBIDDEN"]
    assert error_codes(await as_user(client, world, "prosecutor-2", BOARD, code="410101", **dates)) == ["NOT_FOUND"]
    assert error_codes(await as_user(client, world, "assessor-1", BOARD, code="410100", **dates)) == ["NOT_FOUND"]
    body = await as_user(client, world, "assessor-1", BOARD, code="410101", **{"from": "2025-10-01", "to": "2025-09-01"})
    assert error_codes(body) == ["VALIDATION"] and body["errors"][0]["extensions"]["field"] == "to"
    body = await as_user(client, world, "assessor-1", BOARD, code="410101", **{"from": "2020-01-01", "to": "2025-09-01"})
    assert error_codes(body) == ["VALIDATION"] and body["errors"][0]["extensions"]["field"] == "to"
