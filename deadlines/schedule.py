"""The working calendar's administration: a year loaded from chinese-calendar or set by an
administrator (the State Council publishes next year's schedule every November, and the package
follows weeks later), and every open deadline that the change touches recomputed, each with its
change recorded (before, after, why)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import chinese_calendar
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from agencies.models import Role
from core.db import utcnow
from core.errors import ValidationFailed
from core.loaders import grouped
from core.permissions import Actor, require
from core.text import clean_text
from deadlines.models import CalendarDay, CalendarYear, Deadline
from deadlines.rules import Unit
from deadlines.service import apply_computation, compute, load_calendar, lock_calendar, rule_of
from deadlines.workdays import DayKind, WorkingCalendar

EARLIEST_YEAR, LATEST_YEAR = 1949, 2999
DEFAULT_NAMES = {DayKind.HOLIDAY: "法定节假日 Public holiday", DayKind.ADJUSTED_WORKDAY: "调休上班 Adjusted working day"}


@dataclass(frozen=True)
class DayEntry:
    day: date
    name: str | None = None


@dataclass(frozen=True)
class CalendarChange:
    year: CalendarYear
    changed: bool  # False: the table already had exactly these days
    changed_deadlines: int


def package_source() -> str:
    return f"chinese-calendar {chinese_calendar.__version__}"


def package_years() -> list[int]:
    return sorted({day.year for day in chinese_calendar.holidays})


def package_days(year: int) -> tuple[list[DayEntry], list[DayEntry]] | None:
    """The holidays and adjusted workdays chinese-calendar has for `year`, or None without them."""
    if year not in package_years():
        return None
    names = {holiday.value: f"{holiday.chinese} {holiday.value}" for holiday in chinese_calendar.Holiday}

    def entries(days: dict) -> list[DayEntry]:
        return [DayEntry(day, names.get(name, name)) for day, name in sorted(days.items()) if day.year == year]

    return entries(chinese_calendar.holidays), entries(chinese_calendar.workdays)


def _checked_days(year: int, holidays: list[DayEntry], workdays: list[DayEntry]) -> list[CalendarDay]:
    rows: dict[date, CalendarDay] = {}
    for field, kind, entries in (("holidays", DayKind.HOLIDAY, holidays),
                                 ("workdays", DayKind.ADJUSTED_WORKDAY, workdays)):
        for entry in entries:
            if entry.day.year != year:
                raise ValidationFailed(f"{entry.day} 不在 {year} 年 / {entry.day} is not in {year}", field=field)
            if kind is DayKind.ADJUSTED_WORKDAY and entry.day.weekday() < 5:
                raise ValidationFailed(f"{entry.day} 本是工作日，不是调休上班日 / {entry.day} is a weekday, a working "
                                       "day already", field=field)
            if entry.day in rows and rows[entry.day].kind is not kind:
                raise ValidationFailed(f"{entry.day} 不能既是假日又是上班日 / {entry.day} cannot be both a holiday "
                                       "and a working day", field=field)
            name = clean_text(entry.name, field, 100, required=False) or DEFAULT_NAMES[kind]
            rows[entry.day] = CalendarDay(day=entry.day, year=year, kind=kind, name=name)
    return sorted(rows.values(), key=lambda row: row.day)


async def set_calendar_days(session: AsyncSession, *, principal: Actor, year: int, holidays: list[DayEntry],
                            workdays: list[DayEntry], reason: str, source: str | None = None) -> CalendarChange:
    """Make `holidays` and `workdays` the whole of `year`'s special days (administrators), then
    recompute the open deadlines whose period touches the year. Setting the days the table
    already has changes nothing (no new revision)."""
    require(principal, Role.ADMIN)
    if not EARLIEST_YEAR <= year <= LATEST_YEAR:
        raise ValidationFailed(f"年份应在 {EARLIEST_YEAR} 到 {LATEST_YEAR} 之间 / year must lie between "
                               f"{EARLIEST_YEAR} and {LATEST_YEAR}", field="year")
    reason = clean_text(reason, "reason", 2000, required=True)
    days = _checked_days(year, holidays, workdays)
    await lock_calendar(session, exclusive=True)
    current = await session.get(CalendarYear, year, with_for_update=True)
    existing = list(await session.scalars(select(CalendarDay).where(CalendarDay.year == year)
                                          .order_by(CalendarDay.day)))
    if current is not None and [(d.day, d.kind, d.name) for d in existing] == [(d.day, d.kind, d.name) for d in days]:
        return CalendarChange(year=current, changed=False, changed_deadlines=0)
    if current is None:
        current = CalendarYear(year=year, revision=0)
        session.add(current)
    current.revision += 1
    current.source = (source or principal.username)[:100]
    current.reason = reason
    current.changed_at = utcnow()
    await session.flush()
    await session.execute(delete(CalendarDay).where(CalendarDay.year == year))
    session.add_all(days)
    await session.flush()
    why = (f"{year} 年工作日历改为 {current.version}：{reason} / the {year} calendar became {current.version}: "
           f"{reason}")
    changed = await recompute_open_deadlines(session, principal=principal, year=year, reason=why)
    return CalendarChange(year=current, changed=True, changed_deadlines=changed)


async def recompute_open_deadlines(session: AsyncSession, *, principal: Actor, year: int, reason: str) -> int:
    """Recompute every open, computed deadline whose period (start excluded, due date included)
    touches `year`: only a day in that span can move a due date. Returns how many changed."""
    rows = list(await session.scalars(
        select(Deadline).where(Deadline.met_on.is_(None), Deadline.cancelled_on.is_(None),
                               Deadline.start_on < date(year + 1, 1, 1), Deadline.due_on >= date(year, 1, 1))
        .order_by(Deadline.id).with_for_update()))
    calendar = WorkingCalendar()
    changed = 0
    for deadline in rows:
        rule = rule_of(deadline)
        if rule.unit is Unit.GIVEN:
            continue
        await load_calendar(session, (deadline.start_on.year, deadline.due_on.year + 1), into=calendar)
        computation = await compute(session, rule, deadline.start_on, calendar=calendar)
        changed += apply_computation(session, deadline, computation, reason=reason, principal=principal)
    await session.flush()
    return changed


async def load_from_package(session: AsyncSession, *, principal: Actor, years: list[int] | None = None
                            ) -> dict[int, CalendarChange | None]:
    """Copy `years` from chinese-calendar into the table, replacing what it has for them; with
    None, every year the package has and the table lacks (a year an administrator set stays as
    set). A year the package lacks maps to None."""
    source = package_source()
    results: dict[int, CalendarChange | None] = {}
    if years is None:
        held = set(await session.scalars(select(CalendarYear.year)))
        years = [year for year in package_years() if year not in held]
    for year in years:
        found = package_days(year)
        if found is None:
            results[year] = None
            continue
        holidays, workdays = found
        results[year] = await set_calendar_days(
            session, principal=principal, year=year, holidays=holidays, workdays=workdays, source=source,
            reason=f"从 {source} 导入 / loaded from {source}")
    return results


async def calendar_years(session: AsyncSession, *, principal: Actor) -> list[CalendarYear]:
    """Every signed-in principal may read the calendar: it is public law, not anyone's data."""
    require(principal)
    return list(await session.scalars(select(CalendarYear).order_by(CalendarYear.year)))


async def days_of_years(session: AsyncSession, years: list[int]) -> dict[int, list[CalendarDay]]:
    rows = await session.scalars(select(CalendarDay).where(CalendarDay.year.in_(years)).order_by(CalendarDay.day))
    return grouped(rows, years, key=lambda row: row.year)
