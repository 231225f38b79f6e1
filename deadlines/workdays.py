"""Working days and due dates, computed from a calendar held in memory (no database here).

China's working week is Monday to Friday, except where the State Council's yearly schedule says
otherwise: public holidays (法定节假日, with the days moved next to them) are rest days, and some
weekend days are adjusted working days (调休上班) that count like any Monday. A year the calendar
does not have is counted as a plain Monday-to-Friday year, and every result that looked at such a
year says so (`provisional`): a date computed without the official schedule is not passed off as
certain."""

from __future__ import annotations

import calendar as stdlib_calendar
import enum
from dataclasses import dataclass, field
from datetime import date, timedelta

from deadlines.rules import Rule, Unit

WEEKDAY_NAMES = ("星期一 Monday", "星期二 Tuesday", "星期三 Wednesday", "星期四 Thursday", "星期五 Friday",
                 "星期六 Saturday", "星期日 Sunday")


class DayKind(str, enum.Enum):
    HOLIDAY = "HOLIDAY"  # a rest day of a public holiday period (weekend days of the period included)
    ADJUSTED_WORKDAY = "ADJUSTED_WORKDAY"  # a weekend day worked instead (调休上班)


@dataclass(frozen=True)
class SpecialDay:
    day: date
    kind: DayKind
    name: str  # e.g. "春节 Spring Festival"


class YearNotLoaded(Exception):
    """The computation reached a year the caller did not load (not: a year the table lacks)."""

    def __init__(self, year: int):
        super().__init__(year)
        self.year = year


@dataclass
class WorkingCalendar:
    """The calendar of the years loaded: `versions` has each loaded year the table holds (its
    version label); `missing` the loaded years it lacks; `days` the special days of those years."""

    versions: dict[int, str] = field(default_factory=dict)
    missing: set[int] = field(default_factory=set)
    days: dict[date, SpecialDay] = field(default_factory=dict)

    def _check_loaded(self, day: date) -> None:
        if day.year not in self.versions and day.year not in self.missing:
            raise YearNotLoaded(day.year)

    def knows(self, day: date) -> bool:
        self._check_loaded(day)
        return day.year in self.versions

    def special(self, day: date) -> SpecialDay | None:
        self._check_loaded(day)
        return self.days.get(day)

    def is_working_day(self, day: date) -> bool:
        special = self.special(day)
        if special is not None:
            return special.kind is DayKind.ADJUSTED_WORKDAY
        return day.weekday() < 5

    def rest_day_name(self, day: date) -> str:
        special = self.special(day)
        return special.name if special is not None else WEEKDAY_NAMES[day.weekday()]


@dataclass(frozen=True)
class NamedDay:
    day: date
    name: str

    def as_json(self) -> dict:
        return {"date": self.day.isoformat(), "name": self.name}


@dataclass(frozen=True)
class Computation:
    """A due date and everything a proof of it needs."""

    due_on: date
    nominal_end: date  # where the period itself ends, before a rest day moves it
    provisional: bool
    provisional_years: tuple[int, ...]
    rest_days_skipped: tuple[NamedDay, ...]
    adjusted_workdays_counted: tuple[NamedDay, ...]
    calendar_versions: tuple[str, ...]

    @property
    def calendar_version(self) -> str:
        """One label for the calendar used: each year's version, and the years it lacked."""
        parts = list(self.calendar_versions)
        parts += [f"{year} 暂缺 / not yet published" for year in self.provisional_years]
        return "; ".join(parts) if parts else "—"

    def as_json(self) -> dict:
        return {"dueOn": self.due_on.isoformat(), "nominalEnd": self.nominal_end.isoformat(),
                "provisional": self.provisional, "provisionalYears": list(self.provisional_years),
                "restDaysSkipped": [day.as_json() for day in self.rest_days_skipped],
                "adjustedWorkdaysCounted": [day.as_json() for day in self.adjusted_workdays_counted],
                "calendarVersions": list(self.calendar_versions)}


def add_months(day: date, months: int) -> date:
    """The same day of the month `months` later, or the last day of that month when it is shorter
    (31 January + 1 month = 28 or 29 February)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, stdlib_calendar.monthrange(year, month)[1]))


class _Examined:
    """The days a computation looked at, to say which calendar years it relied on."""

    def __init__(self, calendar: WorkingCalendar):
        self.calendar = calendar
        self.known: set[int] = set()
        self.unknown: set[int] = set()

    def working(self, day: date) -> bool:
        (self.known if self.calendar.knows(day) else self.unknown).add(day.year)
        return self.calendar.is_working_day(day)


def compute_due(rule: Rule, start_on: date, calendar: WorkingCalendar, given_due_on: date | None = None
                ) -> Computation:
    """The due date of a period under `rule` starting on `start_on` (the start day not counted).

    WORKING_DAYS: the period-th working day after the start. DAYS and MONTHS: the period's last
    day, moved to the next working day when it is a rest day and the rule says so. GIVEN: the date
    the document set, as it is."""
    examined = _Examined(calendar)
    skipped: list[NamedDay] = []
    counted: list[NamedDay] = []

    def note(day: date, working: bool) -> None:
        if not working:
            skipped.append(NamedDay(day, calendar.rest_day_name(day)))
        elif (special := calendar.special(day)) is not None and special.kind is DayKind.ADJUSTED_WORKDAY:
            counted.append(NamedDay(day, special.name))

    if rule.unit is Unit.GIVEN:
        if given_due_on is None:
            raise ValueError(f"rule {rule.code} needs the due date the document set")
        return Computation(due_on=given_due_on, nominal_end=given_due_on, provisional=False, provisional_years=(),
                           rest_days_skipped=(), adjusted_workdays_counted=(), calendar_versions=())
    if rule.unit is Unit.WORKING_DAYS:
        day, found = start_on, 0
        while found < rule.period:
            day += timedelta(days=1)
            working = examined.working(day)
            note(day, working)
            found += working
        nominal_end = due_on = day
    else:
        if rule.unit is Unit.DAYS:
            nominal_end = start_on + timedelta(days=rule.period)
        else:
            nominal_end = add_months(start_on, rule.period)
        due_on = nominal_end
        while not examined.working(due_on) and rule.extends_past_rest_day:
            note(due_on, False)
            due_on += timedelta(days=1)
        if examined.working(due_on):
            note(due_on, True)
    return Computation(
        due_on=due_on, nominal_end=nominal_end, provisional=bool(examined.unknown),
        provisional_years=tuple(sorted(examined.unknown)), rest_days_skipped=tuple(skipped),
        adjusted_workdays_counted=tuple(counted),
        calendar_versions=tuple(calendar.versions[year] for year in sorted(examined.known)))


def working_days_between(calendar: WorkingCalendar, after: date, through: date) -> int:
    """Working days in (after, through]."""
    count, day = 0, after
    while day < through:
        day += timedelta(days=1)
        count += calendar.is_working_day(day)
    return count


def working_days_left(calendar: WorkingCalendar, today: date, due_on: date) -> int:
    """Working days from today to the due date (0 on the due date itself), negative once past it:
    the working days elapsed since (a Saturday after a Friday deadline is 0, and overdue)."""
    if today <= due_on:
        return working_days_between(calendar, today, due_on)
    return -working_days_between(calendar, due_on, today)


def years_spanned(first: date, last: date) -> list[int]:
    return list(range(min(first, last).year, max(first, last).year + 1))
