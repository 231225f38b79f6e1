"""GraphQL types of deadlines, and the helpers other packages resolve their Deadline fields with.

A package whose type has a deadline exposes it in one line, batched across a list by a DataLoader:

    @strawberry.field
    async def reply_deadline(self, info: Info) -> Deadline | None:
        return await deadline_field(info, subject_kind="RECOMMENDATION", subject_id=self.row.id,
                                    rule=("RECOMMENDATION_REPLY", "RECOMMENDATION_REPLY_URGENT"))
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

import strawberry
from strawberry.types import Info

from core import clock
from core.loaders import loader
from deadlines import schedule, service
from deadlines.models import CalendarYear as CalendarYearModel
from deadlines.models import Deadline as DeadlineModel
from deadlines.models import DeadlineChange as DeadlineChangeModel
from deadlines.service import rule_of
from deadlines.workdays import DayKind, WorkingCalendar, working_days_left, years_spanned


def deadlines_loader(info: Info, subject_kind: str):
    """The deadlines of subjects of one kind, as far as the caller may see them: one query per batch."""
    return loader(info.context, f"deadlines:{subject_kind}", lambda ids: service.deadlines_of(
        info.context.session, principal=info.context.principal, subject_kind=subject_kind, subject_ids=ids),
        default=[])


def deadline_changes_loader(info: Info):
    return loader(info.context, "deadline_changes", lambda ids: service.changes_of(
        info.context.session, principal=info.context.principal, deadline_ids=ids), default=[])


async def request_calendar(info: Info, years: list[int]) -> WorkingCalendar:
    """The working calendar of `years`: each year read once per request, and the years that the
    deadlines of a page ask for at the same time read in one statement."""
    schedules = loader(info.context, "calendar_years", lambda wanted: service.year_schedules(
        info.context.session, wanted))
    calendar = WorkingCalendar()
    service.add_schedules(calendar, years, dict(zip(years, await schedules.load_many(years), strict=True)))
    return calendar


async def deadline_field(info: Info, *, subject_kind: str, subject_id: uuid.UUID,
                         rule: str | tuple[str, ...] | None = None) -> Deadline | None:
    """The subject's deadline under `rule` (the first of several rules found; any rule when None)
    for a GraphQL field, or None when there is none or the caller may not see it."""
    rules = (rule,) if isinstance(rule, str) else rule
    for row in await deadlines_loader(info, subject_kind).load(subject_id):
        if rules is None or row.rule_code in rules:
            return Deadline.from_model(row)
    return None


async def deadlines_field(info: Info, *, subject_kind: str, subject_id: uuid.UUID) -> list[Deadline]:
    """Every deadline of the subject the caller may see, soonest first."""
    return [Deadline.from_model(row) for row in await deadlines_loader(info, subject_kind).load(subject_id)]


@strawberry.type(description="A day named in a deadline's proof: a rest day skipped or an adjusted working day "
                             "(调休) counted.")
class CalendarDayNote:
    day: date = strawberry.field(name="date")
    name: str


@strawberry.type(description="Why a deadline falls when it does: everything its proof sheet prints.")
class DeadlineExplanation:
    start_event: str = strawberry.field(description="What starts the period (起算事件), Chinese / English.")
    start_on: date = strawberry.field(description="The start day; it is not counted (民事诉讼法 第八十五条).")
    rule: str
    rule_name: str
    rule_version: str
    period: str = strawberry.field(description="The period in words, e.g. 7个工作日 / 7 working days.")
    legal_source: str
    legal_source_en: str
    rest_day_rule: str = strawberry.field(description="What happens when the period ends on a rest day, and why.")
    nominal_end: date = strawberry.field(description="Where the period itself ends, before a rest day moves it.")
    rest_days_skipped: list[CalendarDayNote]
    adjusted_workdays_counted: list[CalendarDayNote]
    calendar_version: str = strawberry.field(description="The version of each calendar year relied on.")
    provisional_years: list[int] = strawberry.field(
        description="Years whose official schedule the calendar lacked: counted Monday to Friday.")
    due_on: date
    text: str = strawberry.field(description="The explanation in one paragraph, Chinese then English.")


@strawberry.type(description="A change of a deadline's due date after it was opened, and why.")
class DeadlineChange:
    changed_at: datetime
    actor_name: str
    reason: str
    before_due_on: date
    after_due_on: date
    before_provisional: bool
    after_provisional: bool
    before_calendar_version: str
    after_calendar_version: str

    @classmethod
    def from_model(cls, row: DeadlineChangeModel) -> DeadlineChange:
        return cls(changed_at=row.changed_at, actor_name=row.actor_name, reason=row.reason,
                   before_due_on=row.before_due_on, after_due_on=row.after_due_on,
                   before_provisional=row.before_provisional, after_provisional=row.after_provisional,
                   before_calendar_version=row.before_calendar_version,
                   after_calendar_version=row.after_calendar_version)


def _days(entries: list[dict]) -> list[CalendarDayNote]:
    return [CalendarDayNote(day=date.fromisoformat(entry["date"]), name=entry["name"]) for entry in entries]


def explain(row: DeadlineModel) -> DeadlineExplanation:
    rule = rule_of(row)
    stored = row.explanation
    skipped, counted = _days(stored["restDaysSkipped"]), _days(stored["adjustedWorkdaysCounted"])
    provisional = (f"{'、'.join(map(str, stored['provisionalYears']))}年工作日安排尚未公布，暂按周一至周五计算 / "
                   f"the official schedule of {', '.join(map(str, stored['provisionalYears']))} is not published "
                   "yet: counted Monday to Friday. ") if stored["provisionalYears"] else ""
    text = (f"{rule.start_event_zh}为{row.start_on}（当日不计入）；依{rule.legal_source}，期间为{rule.period_text}；"
            f"跳过休息日{len(skipped)}天，计入调休工作日{len(counted)}天；期间届满日为{row.due_on}。"
            f"工作日历版本：{row.calendar_version}。{provisional}"
            f"Start: {rule.start_event_en}, {row.start_on} (not counted). Rule {rule.code} v{row.rule_version}: "
            f"{rule.legal_source_en}. {len(skipped)} rest days skipped, {len(counted)} adjusted working days "
            f"counted. Due on {row.due_on}. Calendar: {row.calendar_version}.")
    return DeadlineExplanation(
        start_event=f"{rule.start_event_zh} / {rule.start_event_en}", start_on=row.start_on, rule=rule.code,
        rule_name=f"{rule.name_zh} / {rule.name_en}", rule_version=row.rule_version, period=rule.period_text,
        legal_source=rule.legal_source, legal_source_en=rule.legal_source_en, rest_day_rule=rule.rest_day_source,
        nominal_end=date.fromisoformat(stored["nominalEnd"]), rest_days_skipped=skipped,
        adjusted_workdays_counted=counted, calendar_version=row.calendar_version,
        provisional_years=list(stored["provisionalYears"]), due_on=row.due_on, text=text)


@strawberry.type(description="A legal deadline (法定期限) on the official working calendar, with its proof.")
class Deadline:
    id: strawberry.ID
    subject_kind: str = strawberry.field(description="What the deadline is on: REFERRAL, RECOMMENDATION, CASE, "
                                                     "RECTIFICATION_STAGE.")
    subject_id: strawberry.ID
    rule: str = strawberry.field(description="The rule's code, e.g. REFERRAL_ACKNOWLEDGEMENT.")
    rule_version: str
    legal_source: str
    start_on: date
    due_on: date
    provisional: bool = strawberry.field(
        description="The period reaches a year whose official schedule the calendar lacks: the due date "
                    "counts that year Monday to Friday and is recomputed when the schedule is loaded.")
    met_on: date | None = strawberry.field(description="When the owed act happened (Beijing date).")
    cancelled_on: date | None = strawberry.field(
        description="When the subject went away (e.g. a withdrawn referral): nothing is owed since.")
    proof_url: str = strawberry.field(description="The printable one-page proof sheet (HTML).")
    row: strawberry.Private[DeadlineModel]

    @classmethod
    def from_model(cls, row: DeadlineModel) -> Deadline:
        return cls(id=strawberry.ID(str(row.id)), subject_kind=row.subject_kind,
                   subject_id=strawberry.ID(str(row.subject_id)), rule=row.rule_code, rule_version=row.rule_version,
                   legal_source=rule_of(row).legal_source, start_on=row.start_on, due_on=row.due_on,
                   provisional=row.provisional, met_on=row.met_on, cancelled_on=row.cancelled_on,
                   proof_url=f"/deadlines/{row.id}/proof", row=row)

    @strawberry.field(description="Open and past its due date (today in Beijing).")
    def is_overdue(self) -> bool:
        return self.row.is_open and clock.today() > self.row.due_on

    @strawberry.field(description="Met after its due date.")
    def met_late(self) -> bool | None:
        return None if self.row.met_on is None else self.row.met_on > self.row.due_on

    @strawberry.field(description="Working days from today (Beijing) to the due date, 0 on it, negative once past "
                                  "it (the working days elapsed since); null once met or cancelled.")
    async def working_days_left(self, info: Info) -> int | None:
        if not self.row.is_open:
            return None
        today = clock.today()
        calendar = await request_calendar(info, years_spanned(today, self.row.due_on))
        return working_days_left(calendar, today, self.row.due_on)

    @strawberry.field
    def explanation(self) -> DeadlineExplanation:
        return explain(self.row)

    @strawberry.field(description="Every change of the due date since the deadline was opened, oldest first.")
    async def changes(self, info: Info) -> list[DeadlineChange]:
        return [DeadlineChange.from_model(row) for row in await deadline_changes_loader(info).load(self.row.id)]


DayKindType = strawberry.enum(DayKind, description="A holiday (法定节假日, rest) or a weekend day worked (调休上班).")


@strawberry.type(description="A day of the working calendar that is not what its weekday says.")
class CalendarDay:
    day: date = strawberry.field(name="date")
    kind: DayKindType
    name: str


@strawberry.type(description="A year of the official working calendar (the State Council's schedule).")
class CalendarYear:
    year: int
    revision: int
    version: str = strawberry.field(description="How proofs cite it: year.revision (source).")
    source: str
    reason: str | None
    changed_at: datetime

    @classmethod
    def from_model(cls, row: CalendarYearModel) -> CalendarYear:
        return cls(year=row.year, revision=row.revision, version=row.version, source=row.source, reason=row.reason,
                   changed_at=row.changed_at)

    @strawberry.field(description="Its holidays and adjusted working days, in date order.")
    async def days(self, info: Info) -> list[CalendarDay]:
        rows = await loader(info.context, "calendar_days", lambda years: schedule.days_of_years(
            info.context.session, years), default=[]).load(self.year)
        return [CalendarDay(day=row.day, kind=row.kind, name=row.name) for row in rows]


@strawberry.input(description="A day of a calendar change; the name defaults to 法定节假日 or 调休上班.")
class CalendarDayInput:
    day: date = strawberry.field(name="date")
    name: str | None = None

    def to_service(self) -> schedule.DayEntry:
        return schedule.DayEntry(day=self.day, name=self.name)


@strawberry.type(description="A calendar change and what it did to the open deadlines.")
class CalendarChange:
    calendar_year: CalendarYear
    changed: bool = strawberry.field(description="False when the calendar already had exactly these days.")
    changed_deadlines: int = strawberry.field(description="Open deadlines whose due date or proof changed.")
