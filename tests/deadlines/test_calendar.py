"""The working calendar changed by an administrator or loaded from chinese-calendar: every open
deadline it affects is recomputed, and the change is recorded on it (before, after, why)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date

import chinese_calendar
import pytest
from sqlalchemy import delete

from agencies.models import Role
from agencies.principal import Principal
from app.manage import load_calendar
from deadlines.models import CalendarYear
from deadlines.rules import REFERRAL_ACKNOWLEDGEMENT, all_rules, rule_for
from deadlines.schedule import DayEntry, package_days, set_calendar_days
from tests.conftest import error_codes, graphql
from tests.deadlines.test_referral_acknowledgement import deadline, today_is
from tests.referral.test_return_and_decline import REGISTER, submitted

SET_DAYS = """mutation($year: Int!, $holidays: [CalendarDayInput!]!, $workdays: [CalendarDayInput!]!,
                       $reason: String!) {
  setCalendarDays(year: $year, holidays: $holidays, workdays: $workdays, reason: $reason) {
    changed changedDeadlines calendarYear { year revision version source reason days { date kind name } } } }"""
YEARS = "query { calendarYears { year revision version source } }"
CHANGES = """query($id: ID!) { referral(id: $id) { acknowledgementDeadline {
  dueOn provisional explanation { calendarVersion provisionalYears }
  changes { actorName reason beforeDueOn afterDueOn beforeProvisional afterProvisional beforeCalendarVersion
            afterCalendarVersion } } } }"""

pytestmark = pytest.mark.usefixtures("restore_calendar")


def package_year(year: int) -> dict:
    holidays, workdays = package_days(year)
    return {"year": year, "holidays": [{"date": entry.day.isoformat(), "name": entry.name} for entry in holidays],
            "workdays": [{"date": entry.day.isoformat(), "name": entry.name} for entry in workdays]}


async def set_days(client, world, user: str = "admin", reason: str = "国办发明电〔2026〕补充通知", **days) -> dict:
    return await graphql(client, SET_DAYS, {"reason": reason, **days}, world.tokens[user])


async def changes(client, world, referral_id: str) -> dict:
    body = await graphql(client, CHANGES, {"id": referral_id}, world.tokens["liaison-a"])
    assert "errors" not in body, body
    return body["data"]["referral"]["acknowledgementDeadline"]


async def test_a_changed_year_recomputes_the_open_deadlines_it_touches(client, world, monkeypatch):
    with today_is(monkeypatch, date(2026, 9, 30)):
        open_one = await submitted(client, world)  # due Thursday 15 Oct 2026
        met_one = await submitted(client, world)
        assert "errors" not in await graphql(client, REGISTER, {"id": met_one}, world.tokens["prosecutor-1"])
    with today_is(monkeypatch, date(2025, 1, 24)):
        other_year = await submitted(client, world)  # due 10 Feb 2025: 2026 does not touch it

    # Suppose a day is added to the 2026 National Day holiday: Monday 12 October.
    year = package_year(2026)
    year["holidays"].append({"date": "2026-10-12", "name": "国庆节 National Day"})
    body = await set_days(client, world, **year)
    assert "errors" not in body, body
    result = body["data"]["setCalendarDays"]
    assert (result["changed"], result["changedDeadlines"]) == (True, 1)
    assert result["calendarYear"] | {"days": None} == {
        "year": 2026, "revision": 2, "version": "2026.2 (admin)", "source": "admin",
        "reason": "国办发明电〔2026〕补充通知", "days": None}
    assert {"date": "2026-10-12", "kind": "HOLIDAY", "name": "国庆节 National Day"} in result["calendarYear"]["days"]

    seen = await changes(client, world, open_one)
    assert seen["dueOn"] == "2026-10-16"
    assert seen["explanation"]["calendarVersion"] == "2026.2 (admin)"
    [change] = seen["changes"]
    assert change | {"reason": None} == {
        "actorName": "admin", "reason": None, "beforeDueOn": "2026-10-15", "afterDueOn": "2026-10-16",
        "beforeProvisional": False, "afterProvisional": False,
        "beforeCalendarVersion": f"2026.1 (chinese-calendar {chinese_calendar.__version__})",
        "afterCalendarVersion": "2026.2 (admin)"}
    assert "国办发明电〔2026〕补充通知" in change["reason"] and "2026.2" in change["reason"]
    # A met deadline is history: it keeps the date it was owed by.
    assert (await changes(client, world, met_one))["changes"] == []
    assert (await changes(client, world, met_one))["dueOn"] == "2026-10-15"
    assert (await changes(client, world, other_year))["changes"] == []

    # The same days again change nothing, not even the revision.
    again = (await set_days(client, world, **year))["data"]["setCalendarDays"]
    assert (again["changed"], again["changedDeadlines"], again["calendarYear"]["revision"]) == (False, 0, 2)


async def test_a_missing_year_is_provisional_until_its_schedule_is_set(client, world, monkeypatch):
    with today_is(monkeypatch, date(2026, 12, 28)):
        referral_id = await submitted(client, world)
        seen = await deadline(client, world, referral_id)
    # 29-31 Dec 2026 (1-3), then 2027 without its schedule, Monday to Friday: 1, 4, 5, 6 Jan (4-7).
    assert (seen["dueOn"], seen["provisional"]) == ("2027-01-06", True)
    assert seen["explanation"]["provisionalYears"] == [2027]
    assert "2027 暂缺 / not yet published" in seen["explanation"]["calendarVersion"]
    years = (await graphql(client, YEARS, token=world.tokens["liaison-a"]))["data"]["calendarYears"]
    assert 2027 not in [row["year"] for row in years] and 2026 in [row["year"] for row in years]

    # The State Council publishes 2027 (say): 1 Jan off, and nothing else near.
    body = await set_days(client, world, year=2027, holidays=[{"date": "2027-01-01", "name": "元旦 New Year's Day"}],
                          workdays=[], reason="国务院办公厅关于2027年部分节假日安排的通知")
    assert body["data"]["setCalendarDays"]["changedDeadlines"] == 1
    after = await changes(client, world, referral_id)
    assert (after["dueOn"], after["provisional"]) == ("2027-01-07", False)
    assert after["explanation"]["provisionalYears"] == []
    [change] = after["changes"]
    assert (change["beforeDueOn"], change["afterDueOn"], change["beforeProvisional"], change["afterProvisional"]) == (
        "2027-01-06", "2027-01-07", True, False)


@pytest.mark.parametrize("user", ["liaison-a", "prosecutor-1", "prosecutor-city", "assessor-1"])
async def test_only_an_administrator_changes_the_calendar(client, world, user):
    assert error_codes(await set_days(client, world, user, **package_year(2026))) == ["FORBIDDEN"]
    body = await graphql(client, SET_DAYS, {"reason": "x", **package_year(2026)})
    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert error_codes(await graphql(client, YEARS)) == ["UNAUTHENTICATED"]


@pytest.mark.parametrize(("days", "field"), [
    ({"year": 2026, "holidays": [], "workdays": [{"date": "2026-10-12"}]}, "workdays"),  # a Monday
    ({"year": 2026, "holidays": [{"date": "2025-10-01"}], "workdays": []}, "holidays"),  # another year
    ({"year": 2026, "holidays": [{"date": "2026-10-10"}], "workdays": [{"date": "2026-10-10"}]}, "workdays"),
    ({"year": 1800, "holidays": [], "workdays": []}, "year"),
])
async def test_a_calendar_that_cannot_be_right_is_refused(client, world, days, field):
    body = await set_days(client, world, **days)
    assert error_codes(body) == ["VALIDATION"] and body["errors"][0]["extensions"]["field"] == field
    body = await set_days(client, world, reason=" ", **package_year(2026))
    assert error_codes(body) == ["VALIDATION"] and body["errors"][0]["extensions"]["field"] == "reason"


async def test_the_command_loads_the_years_the_table_lacks_from_the_package(client, world, resources, settings):
    async with resources.session_factory() as session:
        await session.execute(delete(CalendarYear).where(CalendarYear.year == 2025))
        await session.commit()
    assert await load_calendar(settings, None) == 0
    years = {row["year"]: row for row in (await graphql(client, YEARS, token=world.tokens["admin"]))["data"]["calendarYears"]}
    assert years[2025] == {"year": 2025, "revision": 1, "source": f"chinese-calendar {chinese_calendar.__version__}",
                           "version": f"2025.1 (chinese-calendar {chinese_calendar.__version__})"}
    assert years[2026]["revision"] == 1  # a year the table had is left as it is
    # A year the package does not have yet is reported, and the command fails.
    assert await load_calendar(settings, [2999]) == 1


async def test_a_deadline_keeps_the_rule_it_was_opened_under(client, world, monkeypatch):
    with today_is(monkeypatch, date(2026, 9, 30)):
        before = await submitted(client, world)  # 7 working days: Thursday 15 Oct
        # rules.toml gets a new version with a longer period: deadlines opened from now on use it.
        monkeypatch.setitem(all_rules(), REFERRAL_ACKNOWLEDGEMENT,
                            replace(rule_for(REFERRAL_ACKNOWLEDGEMENT), period=10, version="2027.1"))
        after = await submitted(client, world)  # 8, 9, Sat 10, 12-15 Oct, 16, 19, 20 Oct
    year = package_year(2026)
    year["holidays"].append({"date": "2026-10-12", "name": "国庆节 National Day"})
    assert (await set_days(client, world, **year))["data"]["setCalendarDays"]["changedDeadlines"] == 2
    old, new = await deadline(client, world, before), await deadline(client, world, after)
    # Recomputed on the new calendar, each under its own rule.
    assert (old["dueOn"], old["ruleVersion"], old["explanation"]["period"]) == (
        "2026-10-16", "2026.1", "7个工作日 / 7 working days")
    assert (new["dueOn"], new["ruleVersion"], new["explanation"]["period"]) == (
        "2026-10-21", "2027.1", "10个工作日 / 10 working days")


async def test_a_deadline_opened_while_the_calendar_changes_waits_for_the_change(client, world, monkeypatch,
                                                                                  resources):
    holidays, workdays = package_days(2026)
    holidays.append(DayEntry(date(2026, 10, 12), "国庆节 National Day"))
    async with resources.session_factory() as session:
        await set_calendar_days(session, principal=Principal(role=Role.ADMIN, username="admin"), year=2026,
                                holidays=holidays, workdays=workdays, reason="补充通知")
        with today_is(monkeypatch, date(2026, 9, 30)):
            submitting = asyncio.create_task(submitted(client, world))
            await asyncio.sleep(0.5)
            # Not computed on the calendar being replaced: it waits, then counts 12 Oct as a holiday.
            assert not submitting.done()
            await session.commit()
            referral_id = await submitting
    assert (await deadline(client, world, referral_id))["dueOn"] == "2026-10-16"
