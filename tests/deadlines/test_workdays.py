"""Due dates on the official calendar, without a database: the rules of rules.toml on the days
chinese-calendar has, checked by hand against the State Council's notices
(国办发明电〔2024〕12号 for 2025, 国办发明电〔2025〕7号 for 2026)."""

from __future__ import annotations

from datetime import date

import chinese_calendar
import pytest

from deadlines.rules import all_rules, parse_rules, rule_for
from deadlines.workdays import (
    DayKind,
    SpecialDay,
    WorkingCalendar,
    add_months,
    compute_due,
    working_days_left,
)


def package_calendar(*years: int, missing: tuple[int, ...] = ()) -> WorkingCalendar:
    calendar = WorkingCalendar(missing=set(missing))
    names = {holiday.value: f"{holiday.chinese} {holiday.value}" for holiday in chinese_calendar.Holiday}
    for kind, days in ((DayKind.HOLIDAY, chinese_calendar.holidays),
                       (DayKind.ADJUSTED_WORKDAY, chinese_calendar.workdays)):
        for day, name in days.items():
            if day.year in years:
                calendar.days[day] = SpecialDay(day, kind, names[name])
    calendar.versions.update({year: f"{year}.1 (test)" for year in years})
    return calendar


CALENDAR = package_calendar(2025, 2026, missing=(2027, 2028))


def test_the_package_has_the_state_councils_2025_and_2026_schedules():
    # Checked by hand: rest days and the weekend days worked instead.
    assert not chinese_calendar.is_workday(date(2025, 1, 28)) and not chinese_calendar.is_workday(date(2025, 2, 4))
    assert chinese_calendar.is_workday(date(2025, 1, 26)) and chinese_calendar.is_workday(date(2025, 2, 8))
    assert not chinese_calendar.is_workday(date(2025, 10, 8))
    assert chinese_calendar.is_workday(date(2025, 9, 28)) and chinese_calendar.is_workday(date(2025, 10, 11))
    assert not chinese_calendar.is_workday(date(2026, 2, 23)) and chinese_calendar.is_workday(date(2026, 2, 28))
    assert chinese_calendar.is_workday(date(2026, 9, 20)) and chinese_calendar.is_workday(date(2026, 10, 10))
    assert not chinese_calendar.is_workday(date(2026, 10, 7))


@pytest.mark.parametrize(("start", "due", "skipped", "counted"), [
    # Submitted Friday 24 Jan 2025: Sun 26 Jan worked (1), Mon 27 (2), 28 Jan-4 Feb Spring Festival,
    # 5-7 Feb (3-5), Sat 8 Feb worked (6), Sun 9 rest, Mon 10 Feb (7).
    (date(2025, 1, 24), date(2025, 2, 10), 10, [date(2025, 1, 26), date(2025, 2, 8)]),
    # Submitted Friday 26 Sep 2025: Sun 28 Sep worked (1), 29-30 Sep (2-3), 1-8 Oct National Day and
    # Mid-autumn, 9-10 Oct (4-5), Sat 11 Oct worked (6), Sun 12 rest, Mon 13 Oct (7).
    (date(2025, 9, 26), date(2025, 10, 13), 10, [date(2025, 9, 28), date(2025, 10, 11)]),
    # Submitted Thursday 12 Feb 2026: 13 Feb (1), Sat 14 Feb worked (2), 15-23 Feb Spring Festival,
    # 24-27 Feb (3-6), Sat 28 Feb worked (7).
    (date(2026, 2, 12), date(2026, 2, 28), 9, [date(2026, 2, 14), date(2026, 2, 28)]),
    # Submitted Friday 18 Sep 2026: Sun 20 Sep worked (1), 21-24 Sep (2-5), 25-27 Sep Mid-autumn,
    # Mon 28 Sep (6), Tue 29 Sep (7).
    (date(2026, 9, 18), date(2026, 9, 29), 4, [date(2026, 9, 20)]),
    # Submitted Wednesday 30 Sep 2026: 1-7 Oct rest, 8-9 Oct (1-2), Sat 10 Oct worked (3), 11 Oct rest,
    # 12-15 Oct (4-7).
    (date(2026, 9, 30), date(2026, 10, 15), 8, [date(2026, 10, 10)]),
])
def test_seven_working_days_across_the_long_holidays(start, due, skipped, counted):
    result = compute_due(rule_for("REFERRAL_ACKNOWLEDGEMENT"), start, CALENDAR)
    assert result.due_on == due
    assert len(result.rest_days_skipped) == skipped
    assert [day.day for day in result.adjusted_workdays_counted] == counted
    assert not result.provisional


def test_the_explanation_names_each_day():
    result = compute_due(rule_for("REFERRAL_ACKNOWLEDGEMENT"), date(2025, 1, 24), CALENDAR)
    assert result.rest_days_skipped[0].day == date(2025, 1, 25)
    assert result.rest_days_skipped[0].name == "星期六 Saturday"
    assert result.rest_days_skipped[1].name == "春节 Spring Festival"
    assert result.adjusted_workdays_counted[0].name == "春节 Spring Festival"
    assert result.calendar_versions == ("2025.1 (test)",)


@pytest.mark.parametrize(("rule", "start", "nominal", "due"), [
    # Two months from 2 Dec 2025: 2 Feb 2026 (Monday), a working day.
    ("RECOMMENDATION_REPLY", date(2025, 12, 2), date(2026, 2, 2), date(2026, 2, 2)),
    # Two months from 1 Aug 2026: 1 Oct 2026, National Day: moves to Thursday 8 Oct.
    ("RECOMMENDATION_REPLY", date(2026, 8, 1), date(2026, 10, 1), date(2026, 10, 8)),
    # From 31 Dec 2025: February has no 31st, so 28 Feb 2026, a Saturday worked: it stays.
    ("RECOMMENDATION_REPLY", date(2025, 12, 31), date(2026, 2, 28), date(2026, 2, 28)),
    # 15 days from 14 Jan 2025: 29 Jan, Spring Festival: moves to Wednesday 5 Feb.
    ("RECOMMENDATION_REPLY_URGENT", date(2025, 1, 14), date(2025, 1, 29), date(2025, 2, 5)),
    # 15 days from 26 Sep 2025 ends on Saturday 11 Oct, worked: it stays.
    ("RECOMMENDATION_REPLY_URGENT", date(2025, 9, 26), date(2025, 10, 11), date(2025, 10, 11)),
    # 30 days from 1 Sep 2026: 1 Oct 2026: moves past the holiday to Thursday 8 Oct.
    ("CIVIL_ANNOUNCEMENT", date(2026, 9, 1), date(2026, 10, 1), date(2026, 10, 8)),
    # 30 days from 7 Jan 2025: Thursday 6 Feb 2025, a working day after the holiday.
    ("CIVIL_ANNOUNCEMENT", date(2025, 1, 7), date(2025, 2, 6), date(2025, 2, 6)),
])
def test_calendar_periods_end_on_the_next_working_day(rule, start, nominal, due):
    result = compute_due(rule_for(rule), start, CALENDAR)
    assert (result.nominal_end, result.due_on) == (nominal, due)
    assert [day.day for day in result.rest_days_skipped] == [
        date.fromordinal(ordinal) for ordinal in range(nominal.toordinal(), due.toordinal())]


def test_a_year_the_calendar_lacks_makes_the_deadline_provisional():
    result = compute_due(rule_for("REFERRAL_ACKNOWLEDGEMENT"), date(2026, 12, 28), CALENDAR)
    # 29-31 Dec 2026 (1-3), then 2027 counted Monday to Friday: 1 Jan (4), 4-6 Jan (5-7).
    assert result.due_on == date(2027, 1, 6)
    assert result.provisional and result.provisional_years == (2027,)
    assert "2027 暂缺" in result.calendar_version
    within_2026 = compute_due(rule_for("REFERRAL_ACKNOWLEDGEMENT"), date(2026, 12, 1), CALENDAR)
    assert not within_2026.provisional


def test_a_given_date_is_kept_as_the_plan_set_it():
    result = compute_due(rule_for("RECTIFICATION_STAGE"), date(2026, 9, 1), CALENDAR, date(2026, 10, 3))
    assert result.due_on == date(2026, 10, 3) and not result.provisional


def test_months_end_on_the_last_day_when_the_month_is_shorter():
    assert add_months(date(2026, 12, 31), 2) == date(2027, 2, 28)
    assert add_months(date(2027, 12, 31), 2) == date(2028, 2, 29)
    assert add_months(date(2026, 11, 15), 2) == date(2027, 1, 15)


def test_working_days_left_counts_forward_and_back():
    due = date(2025, 2, 10)
    assert working_days_left(CALENDAR, date(2025, 1, 27), due) == 5  # 5-8 Feb, 10 Feb
    assert working_days_left(CALENDAR, due, due) == 0
    assert working_days_left(CALENDAR, date(2025, 2, 12), due) == -2


def test_every_rule_has_a_source_and_the_table_is_checked():
    assert all(rule.legal_source and rule.version for rule in all_rules().values())
    assert rule_for("RECOMMENDATION_REPLY").legal_source.startswith("法释〔2018〕6号 第二十一条 (2020年修正)")
    text = (__import__("deadlines.rules").rules.RULES_FILE.read_text(encoding="utf-8")
            .replace('period = 7\nunit = "WORKING_DAYS"', 'unit = "WORKING_DAYS"'))
    with pytest.raises(ValueError, match="REFERRAL_ACKNOWLEDGEMENT"):
        parse_rules(text)
