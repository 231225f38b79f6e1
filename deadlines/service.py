"""Deadlines: opened by the package that owns their subject, met when the act happens, read scoped.

The other packages call three functions: `open_deadline` when the start event happens (a referral
submitted, a recommendation served), `meet_deadline` when the owed act happens (acknowledged,
replied), and `deadlines_of` to show them (through a DataLoader, see deadlines.types)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from agencies.principal import Principal
from agencies.scoping import visible_to
from core.clock import check_date
from core.db import utcnow
from core.errors import NotFound, ValidationFailed
from core.loaders import grouped
from core.permissions import Actor
from deadlines.models import CalendarDay, CalendarYear, Deadline, DeadlineChange
from deadlines.rules import Rule, rule_for
from deadlines.workdays import Computation, SpecialDay, WorkingCalendar, YearNotLoaded, compute_due

# Held shared while a deadline is computed and written, exclusively while the calendar changes:
# a deadline is never computed on a calendar that a concurrent change is replacing (the change
# would then miss it when it recomputes the open deadlines).
CALENDAR_LOCK_KEY = 7_101_202_611


# Built once: every submission opens a deadline, and building a statement costs more CPU than
# PostgreSQL spends running it.
_CALENDAR_LOCKS = {exclusive: select((func.pg_advisory_xact_lock if exclusive else func.pg_advisory_xact_lock_shared)(
    CALENDAR_LOCK_KEY)) for exclusive in (False, True)}


async def lock_calendar(session: AsyncSession, *, exclusive: bool = False) -> None:
    await session.execute(_CALENDAR_LOCKS[exclusive])


@dataclass(frozen=True)
class YearSchedule:
    version: str
    days: tuple[SpecialDay, ...]


_YEAR_SCHEDULES = (
    select(CalendarYear.year, CalendarYear.revision, CalendarYear.source, CalendarDay.day, CalendarDay.kind,
           CalendarDay.name)
    .select_from(CalendarYear).outerjoin(CalendarDay, CalendarDay.year == CalendarYear.year)
    .where(CalendarYear.year.in_(bindparam("years", expanding=True))).order_by(CalendarYear.year, CalendarDay.day))


async def year_schedules(session: AsyncSession, years: Iterable[int]) -> dict[int, YearSchedule]:
    """The schedules the table holds among `years`, in one statement (a year it lacks is absent)."""
    rows = await session.execute(_YEAR_SCHEDULES, {"years": sorted(set(years))})
    versions: dict[int, str] = {}
    days: dict[int, list[SpecialDay]] = {}
    for year, revision, source, day, kind, name in rows:
        if year not in versions:
            versions[year] = CalendarYear(year=year, revision=revision, source=source).version
            days[year] = []
        if day is not None:
            days[year].append(SpecialDay(day=day, kind=kind, name=name))
    return {year: YearSchedule(version=version, days=tuple(days[year])) for year, version in versions.items()}


def add_schedules(calendar: WorkingCalendar, years: Iterable[int], schedules: dict[int, YearSchedule | None]) -> None:
    for year in years:
        schedule = schedules.get(year)
        if schedule is None:
            calendar.missing.add(year)
            continue
        calendar.versions[year] = schedule.version
        calendar.days.update((day.day, day) for day in schedule.days)


async def load_calendar(session: AsyncSession, years: Iterable[int],
                        into: WorkingCalendar | None = None) -> WorkingCalendar:
    """The calendar of `years` (added to `into` when given: years it has are not read again)."""
    calendar = into or WorkingCalendar()
    wanted = sorted(set(years) - set(calendar.versions) - calendar.missing)
    if wanted:
        add_schedules(calendar, wanted, await year_schedules(session, wanted))
    return calendar


async def compute(session: AsyncSession, rule: Rule, start_on: date, given_due_on: date | None = None,
                  calendar: WorkingCalendar | None = None) -> Computation:
    """The due date under `rule`, loading the calendar years the computation reaches."""
    calendar = await load_calendar(session, (start_on.year, start_on.year + 1), into=calendar)
    while True:
        try:
            return compute_due(rule, start_on, calendar, given_due_on)
        except YearNotLoaded as needed:  # a period that runs past the next year (none does today)
            await load_calendar(session, (needed.year,), into=calendar)


def _checked(rule: Rule, start_on: date, due_on: date | None) -> None:
    check_date(start_on, "startOn")
    if rule.is_computed and due_on is not None:
        raise ValidationFailed(f"规则 {rule.code} 的期限由计算得出，不能指定 / the {rule.code} deadline is "
                               "computed, not given", field="dueOn")
    if not rule.is_computed:
        if due_on is None:
            raise ValidationFailed(f"规则 {rule.code} 需要文书确定的日期 / the {rule.code} deadline needs the "
                                   "date the document set", field="dueOn")
        check_date(due_on, "dueOn")
        if due_on < start_on:
            raise ValidationFailed("期限不能早于起算日 / the due date cannot precede the start", field="dueOn")


_INSERT_DEADLINE = (insert(Deadline.__table__)
                    .on_conflict_do_nothing(index_elements=["subject_kind", "subject_id", "rule_code"])
                    .returning(Deadline.id))


async def open_deadline(session: AsyncSession, *, rule: str, start_on: date, subject_kind: str,
                        subject_id: uuid.UUID, agency_id: uuid.UUID | None, jurisdiction_id: uuid.UUID,
                        due_on: date | None = None, principal: Actor | None = None) -> Deadline:
    """Open the deadline of `subject` under `rule`, starting on `start_on` (a Beijing date; the
    start day itself is not counted). `due_on` only for a rule whose date a document sets
    (RECTIFICATION_STAGE). One deadline per subject and rule: opening it again with the same
    start is a no-op; with another start (a corrected service date) it is recomputed while open,
    and the change recorded (by `principal`, when given)."""
    found = rule_for(rule)
    _checked(found, start_on, due_on)
    await lock_calendar(session)
    computation = await compute(session, found, start_on, due_on)
    deadline = Deadline(id=uuid.uuid4(), subject_kind=subject_kind, subject_id=subject_id, agency_id=agency_id,
                        jurisdiction_id=jurisdiction_id, rule_code=found.code, rule_version=found.version,
                        start_on=start_on, due_on=computation.due_on, provisional=computation.provisional,
                        calendar_version=computation.calendar_version,
                        explanation=explanation_of(found, computation), met_on=None, cancelled_on=None,
                        created_at=utcnow())
    # INSERT … ON CONFLICT: one round trip on the usual path (the first opening).
    inserted = await session.scalar(_INSERT_DEADLINE, {column.key: getattr(deadline, column.key)
                                                       for column in Deadline.__table__.c
                                                       if getattr(deadline, column.key) is not None})
    if inserted is not None:
        make_transient_to_detached(deadline)  # the row exists: later changes to it are UPDATEs
        session.add(deadline)
        return deadline
    existing = await session.scalar(
        select(Deadline).where(Deadline.subject_kind == subject_kind, Deadline.subject_id == subject_id,
                               Deadline.rule_code == found.code).with_for_update())
    if not existing.is_open or (existing.start_on == start_on and (due_on is None or existing.due_on == due_on)):
        return existing
    if existing.start_on != start_on:
        reason = (f"起算日由 {existing.start_on} 更正为 {start_on} / start corrected from {existing.start_on} "
                  f"to {start_on}")
    else:
        reason = f"文书确定的日期由 {existing.due_on} 改为 {due_on} / the date set changed from {existing.due_on} to {due_on}"
    existing.start_on = start_on
    if due_on is not None or existing.rule_version != found.version:  # recomputed under its own rule
        computation = await compute(session, rule_of(existing), start_on, due_on)
    apply_computation(session, existing, computation, reason=reason, principal=principal)
    await session.flush()
    return existing


def explanation_of(rule: Rule, computation: Computation) -> dict:
    return {"rule": rule.snapshot(), **computation.as_json()}


def rule_of(deadline: Deadline) -> Rule:
    """The rule the deadline was opened under (its version, not necessarily today's)."""
    return Rule.from_snapshot(deadline.explanation["rule"])


def apply_computation(session: AsyncSession, deadline: Deadline, computation: Computation, *, reason: str,
                      principal: Actor | None) -> bool:
    """Give an open deadline a new computation; record the change when its due date, its
    provisional mark or the days its proof lists changed. True when it changed."""
    before = dict(deadline.explanation)
    after = explanation_of(rule_of(deadline), computation)
    unchanged = {key: value for key, value in after.items() if key != "calendarVersions"} == \
                {key: value for key, value in before.items() if key != "calendarVersions"}
    if unchanged:
        return False
    change = DeadlineChange(deadline_id=deadline.id, reason=reason, before_due_on=deadline.due_on,
                            after_due_on=computation.due_on, before_provisional=deadline.provisional,
                            after_provisional=computation.provisional,
                            before_calendar_version=deadline.calendar_version,
                            after_calendar_version=computation.calendar_version)
    if principal is not None:
        change.set_actor(principal)
    else:
        change.actor_name = "system"
    session.add(change)
    deadline.due_on = computation.due_on
    deadline.provisional = computation.provisional
    deadline.calendar_version = computation.calendar_version
    deadline.explanation = after
    return True


def _subject(subject_kind: str, subject_id: uuid.UUID, rule: str | None):
    condition = and_(Deadline.subject_kind == subject_kind, Deadline.subject_id == subject_id,
                     Deadline.met_on.is_(None), Deadline.cancelled_on.is_(None))
    if rule is not None:
        condition = and_(condition, Deadline.rule_code == rule_for(rule).code)
    return condition


async def meet_deadline(session: AsyncSession, *, subject_kind: str, subject_id: uuid.UUID, rule: str | None = None,
                        met_on: date) -> None:
    """The owed act happened on `met_on` (a Beijing date): the subject's open deadlines under
    `rule` (all of them when None) are met. Idempotent: a deadline met already keeps its date."""
    check_date(met_on, "metOn")
    await session.execute(update(Deadline).where(_subject(subject_kind, subject_id, rule)).values(met_on=met_on))


async def cancel_deadlines(session: AsyncSession, *, subject_kind: str, subject_id: uuid.UUID,
                           rule: str | None = None, cancelled_on: date) -> None:
    """The subject went away (a referral withdrawn) before its deadlines were met: nothing is
    owed any more, and none of them can become overdue."""
    await session.execute(update(Deadline).where(_subject(subject_kind, subject_id, rule))
                          .values(cancelled_on=cancelled_on))


def _visible(principal: Principal):
    return visible_to(principal, agency_column=Deadline.agency_id, jurisdiction_column=Deadline.jurisdiction_id)


async def deadlines_of(session: AsyncSession, *, principal: Principal, subject_kind: str,
                       subject_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Deadline]]:
    """The deadlines of the subjects among `subject_ids` the principal may see, soonest first."""
    rows = await session.scalars(
        select(Deadline).where(Deadline.subject_kind == subject_kind, Deadline.subject_id.in_(subject_ids),
                               _visible(principal))
        .order_by(Deadline.due_on, Deadline.rule_code))
    return grouped(rows, subject_ids, key=lambda row: row.subject_id)


async def get_deadline(session: AsyncSession, *, principal: Principal, deadline_id: str) -> Deadline:
    try:
        parsed = uuid.UUID(str(deadline_id))
    except ValueError:
        parsed = None
    deadline = None
    if parsed is not None:
        deadline = await session.scalar(select(Deadline).where(Deadline.id == parsed, _visible(principal)))
    if deadline is None:
        raise NotFound("期限不存在 / deadline not found")
    return deadline


async def changes_of(session: AsyncSession, *, principal: Principal, deadline_ids: list[uuid.UUID]
                     ) -> dict[uuid.UUID, list[DeadlineChange]]:
    """The recorded changes of the visible deadlines among `deadline_ids`, oldest first."""
    rows = await session.scalars(
        select(DeadlineChange).join(Deadline, Deadline.id == DeadlineChange.deadline_id)
        .where(DeadlineChange.deadline_id.in_(deadline_ids), _visible(principal))
        .order_by(DeadlineChange.changed_at, DeadlineChange.id))
    return grouped(rows, deadline_ids, key=lambda row: row.deadline_id)
