"""The first real deadline: the procuratorate acknowledges a referral (registers, returns or declines
it) within 7 working days of its submission, on the official calendar, through the public API."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date

import chinese_calendar
import pytest

from core import clock
from tests.conftest import count_statements, error_codes, graphql
from tests.referral.test_return_and_decline import REGISTER, act, submitted

DEADLINE = """query($id: ID!) { referral(id: $id) { acknowledgementDeadline {
  id rule ruleVersion legalSource startOn dueOn isOverdue workingDaysLeft provisional metOn metLate cancelledOn
  proofUrl
  explanation { startEvent startOn rule period legalSource restDayRule nominalEnd calendarVersion provisionalYears
                dueOn text restDaysSkipped { date name } adjustedWorkdaysCounted { date name } } } } }"""
LIST = """query { referrals(first: 10) { edges { node { id acknowledgementDeadline {
  dueOn isOverdue workingDaysLeft } } } } }"""


@contextmanager
def today_is(monkeypatch, day: date):
    with monkeypatch.context() as patch:
        patch.setattr(clock, "today", lambda: day)
        yield


async def deadline(client, world, referral_id: str, user: str = "liaison-a") -> dict:
    body = await graphql(client, DEADLINE, {"id": referral_id}, world.tokens[user])
    assert "errors" not in body, body
    return body["data"]["referral"]["acknowledgementDeadline"]


async def test_seven_working_days_across_spring_festival_2025(client, world, monkeypatch):
    with today_is(monkeypatch, date(2025, 1, 24)):  # a Friday, four days before the holiday
        referral_id = await submitted(client, world)
    with today_is(monkeypatch, date(2025, 1, 27)):
        seen = await deadline(client, world, referral_id)
    assert seen | {"id": None, "explanation": None} == {
        "id": None, "rule": "REFERRAL_ACKNOWLEDGEMENT", "ruleVersion": "2026.1",
        "legalSource": seen["explanation"]["legalSource"], "startOn": "2025-01-24",
        # Sun 26 Jan worked (1), Mon 27 (2), 28 Jan-4 Feb off, 5-7 Feb (3-5), Sat 8 Feb worked (6),
        # Mon 10 Feb (7).
        "dueOn": "2025-02-10", "isOverdue": False, "workingDaysLeft": 5, "provisional": False, "metOn": None,
        "metLate": None, "cancelledOn": None, "proofUrl": f"/deadlines/{seen['id']}/proof", "explanation": None}
    explanation = seen["explanation"]
    assert explanation["period"] == "7个工作日 / 7 working days"
    assert explanation["startEvent"].startswith("行政机关移送线索之日")
    assert explanation["nominalEnd"] == explanation["dueOn"] == "2025-02-10"
    assert [day["date"] for day in explanation["adjustedWorkdaysCounted"]] == ["2025-01-26", "2025-02-08"]
    assert explanation["adjustedWorkdaysCounted"][0]["name"] == "春节 Spring Festival"
    assert [day["date"] for day in explanation["restDaysSkipped"]] == [
        "2025-01-25", "2025-01-28", "2025-01-29", "2025-01-30", "2025-01-31", "2025-02-01", "2025-02-02",
        "2025-02-03", "2025-02-04", "2025-02-09"]
    assert explanation["calendarVersion"] == f"2025.1 (chinese-calendar {chinese_calendar.__version__})"
    assert explanation["provisionalYears"] == []
    assert "2025-02-10" in explanation["text"]

    with today_is(monkeypatch, date(2025, 2, 12)):  # two working days late
        late = await deadline(client, world, referral_id, "prosecutor-1")
        assert (late["isOverdue"], late["workingDaysLeft"]) == (True, -2)
        assert "errors" not in await graphql(client, REGISTER, {"id": referral_id}, world.tokens["prosecutor-1"])
        met = await deadline(client, world, referral_id)
    assert met | {"id": None, "explanation": None, "legalSource": None, "proofUrl": None} == {
        "id": None, "rule": "REFERRAL_ACKNOWLEDGEMENT", "ruleVersion": "2026.1", "legalSource": None,
        "startOn": "2025-01-24", "dueOn": "2025-02-10", "isOverdue": False, "workingDaysLeft": None,
        "provisional": False, "metOn": "2025-02-12", "metLate": True, "cancelledOn": None, "proofUrl": None,
        "explanation": None}

    # A later return and a second registration do not move the first answer's date.
    with today_is(monkeypatch, date(2025, 2, 20)):
        assert "errors" not in await act(client, world, "return", referral_id, "prosecutor-1")
    assert (await deadline(client, world, referral_id))["metOn"] == "2025-02-12"


@pytest.mark.parametrize(("submitted_on", "due_on", "counted"), [
    # National Day 2025 (1-8 Oct with Mid-autumn): Sun 28 Sep and Sat 11 Oct worked.
    (date(2025, 9, 26), "2025-10-13", ["2025-09-28", "2025-10-11"]),
    # Spring Festival 2026 (15-23 Feb): Sat 14 Feb and Sat 28 Feb worked; the 28th is the 7th day.
    (date(2026, 2, 12), "2026-02-28", ["2026-02-14", "2026-02-28"]),
    # National Day 2026 (1-7 Oct): Sat 10 Oct worked.
    (date(2026, 9, 30), "2026-10-15", ["2026-10-10"]),
])
async def test_national_day_and_spring_festival(client, world, monkeypatch, submitted_on, due_on, counted):
    with today_is(monkeypatch, submitted_on):
        referral_id = await submitted(client, world)
        seen = await deadline(client, world, referral_id)
    assert seen["dueOn"] == due_on
    assert [day["date"] for day in seen["explanation"]["adjustedWorkdaysCounted"]] == counted


async def test_returning_on_receipt_acknowledges_and_withdrawing_cancels(client, world, monkeypatch):
    with today_is(monkeypatch, date(2026, 9, 30)):
        returned = await submitted(client, world)
        withdrawn = await submitted(client, world)
    with today_is(monkeypatch, date(2026, 10, 9)):
        assert "errors" not in await act(client, world, "return", returned, "prosecutor-1")
        assert "errors" not in await act(client, world, "withdraw", withdrawn, "liaison-a")
    with today_is(monkeypatch, date(2026, 11, 2)):
        met = await deadline(client, world, returned)
        gone = await deadline(client, world, withdrawn)
    assert (met["metOn"], met["metLate"], met["isOverdue"]) == ("2026-10-09", False, False)
    assert (gone["cancelledOn"], gone["metOn"], gone["isOverdue"], gone["workingDaysLeft"]) == (
        "2026-10-09", None, False, None)


async def test_a_list_loads_every_deadline_in_one_statement_and_only_in_scope(client, world, app):
    ids = {await submitted(client, world, "liaison-a") for _ in range(3)}
    other = await submitted(client, world, "liaison-c")
    with count_statements(app.state.resources.engine) as statements:
        body = await graphql(client, LIST, token=world.tokens["prosecutor-1"])
    nodes = {edge["node"]["id"]: edge["node"]["acknowledgementDeadline"] for edge in body["data"]["referrals"]["edges"]}
    assert set(nodes) == ids and all(node["dueOn"] for node in nodes.values())
    assert len([sql for sql in statements if "FROM deadline" in sql]) == 1
    assert len([sql for sql in statements if "FROM calendar_year" in sql]) == 1  # for workingDaysLeft
    # The other district's referral and its deadline are not there for prosecutor-1 or liaison-a.
    assert error_codes(await graphql(client, DEADLINE, {"id": other}, world.tokens["prosecutor-1"])) == ["NOT_FOUND"]
    assert error_codes(await graphql(client, DEADLINE, {"id": other}, world.tokens["liaison-a"])) == ["NOT_FOUND"]
    assert (await deadline(client, world, other, "liaison-c"))["dueOn"]
