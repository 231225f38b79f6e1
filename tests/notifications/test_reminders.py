"""Deadline reminders and escalation on the 2026 calendar, hand-checked.

An urgent recommendation served on Thursday 5 February 2026 must be answered in 15 days: the
period ends on Friday 20 February, inside the Spring Festival holiday (15–23 February), so the
reply is due on Tuesday 24 February. Its working days: 6, 9–13 February, Saturday 14 February
(an adjusted working day, 调休) and 24 February, eight in all. After it, 25–27 February are
working days, Saturday 28 February is adjusted working day again, and 2 March is the fifth
working day past due."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from deadlines.models import Deadline
from deadlines.workdays import DayKind, SpecialDay, WorkingCalendar
from notifications.escalation import parse_escalation
from notifications.reminders import escalation, send_due_reminders, steps_due
from tests.conftest import graphql
from tests.notifications.steps import messages, recommendation_served_on
from tests.recommendations.steps import reply

FEBRUARY_5 = date(2026, 2, 5)


def calendar_2026() -> WorkingCalendar:
    holidays = [date(2026, 2, day) for day in range(15, 24)]
    workdays = [date(2026, 2, 14), date(2026, 2, 28)]
    days = {day: SpecialDay(day, DayKind.HOLIDAY, "春节") for day in holidays}
    days |= {day: SpecialDay(day, DayKind.ADJUSTED_WORKDAY, "春节调休") for day in workdays}
    return WorkingCalendar(versions={2026: "2026.1"}, days=days)


def urgent_reply(due_on: date = date(2026, 2, 24)) -> Deadline:
    return Deadline(id=uuid.uuid4(), rule_code="RECOMMENDATION_REPLY_URGENT", start_on=FEBRUARY_5, due_on=due_on)


@pytest.mark.parametrize(("today", "expected"), [
    (date(2026, 2, 10), []),  # 3 of 8 working days gone, 5 left
    (date(2026, 2, 11), [("PROGRESS_50", "AGENCY_LIAISONS")]),  # 4 of 8
    (date(2026, 2, 12), [("PROGRESS_50", "AGENCY_LIAISONS"), ("DUE_SOON", "AGENCY_LIAISONS")]),  # 3 left
    (date(2026, 2, 14), [("PROGRESS_75", "AGENCY_LIAISONS"), ("DUE_SOON", "AGENCY_LIAISONS")]),  # the Saturday counts
    (date(2026, 2, 20), [("PROGRESS_75", "AGENCY_LIAISONS"), ("DUE_SOON", "AGENCY_LIAISONS")]),  # in the holiday
    (date(2026, 2, 24), [("PROGRESS_75", "AGENCY_LIAISONS"), ("DUE_SOON", "AGENCY_LIAISONS")]),  # the due date
    (date(2026, 2, 25), [("OVERDUE", "AGENCY_LIAISONS")]),
    (date(2026, 2, 27), [("OVERDUE", "AGENCY_LIAISONS"), ("ESCALATION_1", "PROSECUTOR_IN_CHARGE")]),
    (date(2026, 3, 1), [("OVERDUE", "AGENCY_LIAISONS"), ("ESCALATION_1", "PROSECUTOR_IN_CHARGE")]),  # 4 past
    (date(2026, 3, 2), [("OVERDUE", "AGENCY_LIAISONS"), ("ESCALATION_1", "PROSECUTOR_IN_CHARGE"),
                        ("ESCALATION_2", "ASSESSMENT_OFFICE")]),
])
def test_the_steps_a_deadline_has_reached(today, expected):
    steps = steps_due(urgent_reply(), calendar_2026(), today, escalation())
    assert [(step.key, step.audience.value) for step in steps] == expected


def test_without_the_adjusted_saturday_the_last_step_comes_a_day_later():
    calendar = calendar_2026()
    del calendar.days[date(2026, 2, 28)]
    keys = [step.key for step in steps_due(urgent_reply(), calendar, date(2026, 3, 2), escalation())]
    assert keys == ["OVERDUE", "ESCALATION_1"]


@pytest.mark.parametrize(("text", "problem"), [
    ("due_soon_working_days = 3\nmilestones = [50]\n[[chain]]\nrules = ['RECOMMENDATION_REPLY']\n"
     "owed_by = 'AGENCY_LIAISONS'\nsteps = [{ after_working_days = 0, notify = 'AGENCY_LIAISONS' }]",
     "must give a chain"),
    ("due_soon_working_days = 3\nmilestones = [75, 50]\n" + "\n".join(
        f"[[chain]]\nrules = ['{code}']\nowed_by = 'PROCURATORATE'\nsteps = [{{ after_working_days = 0, "
        "notify = 'PROCURATORATE' }]" for code in ("REFERRAL_ACKNOWLEDGEMENT", "RECOMMENDATION_REPLY",
                                                   "RECOMMENDATION_REPLY_URGENT", "CIVIL_ANNOUNCEMENT",
                                                   "RECTIFICATION_STAGE", "ENFORCEMENT_ENTRY")),
     "milestones"),
    ("due_soon_working_days = 3\nmilestones = [50]\n[[chain]]\nrules = ['RECOMMENDATION_REPLY']\n"
     "owed_by = 'AGENCY_LIAISONS'\nsteps = [{ after_working_days = 3, notify = 'AGENCY_LIAISONS' }]",
     "start at 0"),
])
def test_a_broken_escalation_file_is_refused(text, problem):
    with pytest.raises(ValueError, match=problem):
        parse_escalation(text)


async def scan(resources, *days: date) -> list[int]:
    return [await send_due_reminders(resources.session_factory, day) for day in days]


DEADLINE_KINDS = ("DEADLINE_PROGRESS", "DEADLINE_DUE_SOON", "DEADLINE_OVERDUE", "DEADLINE_ESCALATED")


async def test_reminders_and_escalation_reach_each_audience_once(client, world, resources):
    recommendation_id = await recommendation_served_on(client, world, resources, FEBRUARY_5)
    sent = await scan(resources, date(2026, 2, 10), date(2026, 2, 11), date(2026, 2, 12), date(2026, 2, 14),
                      date(2026, 2, 24), date(2026, 2, 25), date(2026, 2, 27), date(2026, 3, 1), date(2026, 3, 2),
                      date(2026, 3, 2), date(2026, 3, 20))
    # liaison-b is B's only liaison; prosecutor-1 issued it; assessor-1 is district 1's office.
    assert sent == [0, 1, 1, 1, 0, 1, 1, 0, 1, 0, 0]

    to_agency = await messages(client, world, "liaison-b", *DEADLINE_KINDS)
    assert [node["kind"] for node in to_agency] == ["DEADLINE_PROGRESS", "DEADLINE_DUE_SOON", "DEADLINE_PROGRESS",
                                                    "DEADLINE_OVERDUE"]
    assert "50%" in to_agency[0]["message"] and "75%" in to_agency[2]["message"]
    assert "3 working days left" in to_agency[1]["message"] and "2026-02-24" in to_agency[3]["message"]
    [to_prosecutor] = await messages(client, world, "prosecutor-1", *DEADLINE_KINDS)
    [to_office] = await messages(client, world, "assessor-1", *DEADLINE_KINDS)
    assert to_prosecutor["kind"] == to_office["kind"] == "DEADLINE_ESCALATED"
    assert "3 working days overdue" in to_prosecutor["message"]
    assert "5 working days overdue" in to_office["message"]
    for user in ("liaison-a", "liaison-c", "prosecutor-2", "prosecutor-city", "admin"):
        assert await messages(client, world, user, *DEADLINE_KINDS) == [], user
    # The notice names the deadline, which each recipient may open.
    deadline = to_agency[0]["subjectId"]
    for user in ("liaison-b", "prosecutor-1", "assessor-1"):
        body = await graphql(client, "query($id: ID!) { deadline(id: $id) { subjectId dueOn } }", {"id": deadline},
                             world.tokens[user])
        assert body["data"]["deadline"] == {"subjectId": recommendation_id, "dueOn": "2026-02-24"}, user


async def test_a_reply_ends_the_reminders(client, world, resources):
    recommendation_id = await recommendation_served_on(client, world, resources, FEBRUARY_5)
    assert await scan(resources, date(2026, 2, 11)) == [1]
    assert "errors" not in await reply(client, world, recommendation_id)
    assert await scan(resources, date(2026, 2, 13), date(2026, 2, 25), date(2026, 3, 20)) == [0, 0, 0]
    assert [node["kind"] for node in await messages(client, world, "liaison-b", *DEADLINE_KINDS)] == [
        "DEADLINE_PROGRESS"]
