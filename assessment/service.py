"""Rules of the assessment: which agencies a caller may see scored, the rubric's versions, closing
and reopening a period, objections, the weekly board.

Scope: an administrator sees every agency; assessors and prosecutors the agencies of their
jurisdiction and below (agencies.scoping's `visible_jurisdiction_ids`); an agency liaison its own
agency only (ranked among the agencies of its jurisdiction, whose rows never reach it). A period is one jurisdiction's quarter or year: closed, its results are read from the
rows frozen at the close; open, they are computed from the records (assessment.scoring)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import ColumnElement, false, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from agencies.models import Agency, Jurisdiction, Role
from agencies.principal import Principal
from assessment import board, scoring
from assessment.models import (
    AssessmentObjection,
    AssessmentPeriod,
    AssessmentPeriodChange,
    AssessmentResult,
    AssessmentRubric,
    ObjectionStatus,
    PeriodAction,
    PeriodStatus,
)
from assessment.rubric import RUBRIC_FILE, IndicatorCode, Rubric, default_rubric, parse_rubric
from assessment.scoring import AgencyResult, IndicatorResult, Record, Window
from core import clock
from core.db import utcnow
from core.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from core.permissions import require
from core.state_machine import StateMachine, Transition, apply_transition, record_creation
from core.text import clean_text
from deadlines.rules import Rule, Unit
from deadlines.service import compute

PERIOD_MACHINE = StateMachine(
    name_zh="考核期", name_en="assessment period", states=PeriodStatus, actions=PeriodAction,
    history=AssessmentPeriodChange,
    transitions=(
        Transition(PeriodAction.CLOSE, None, PeriodStatus.CLOSED, frozenset({Role.ASSESSOR, Role.ADMIN})),
        Transition(PeriodAction.CLOSE, PeriodStatus.OPEN, PeriodStatus.CLOSED, frozenset({Role.ASSESSOR, Role.ADMIN})),
        Transition(PeriodAction.REOPEN, PeriodStatus.CLOSED, PeriodStatus.OPEN, frozenset({Role.ADMIN}),
                   reason_required=True),
    ))
READERS = (Role.ADMIN, Role.ASSESSOR, Role.PROSECUTOR, Role.AGENCY_LIAISON)
BOARD_READERS = (Role.ADMIN, Role.ASSESSOR, Role.PROSECUTOR)
MAX_BOARD_WEEKS = 106
MAX_GROUNDS = 5000
FIRST_YEAR, LAST_YEAR = 2000, 2100


# The rubric ---------------------------------------------------------------------------------------

def rubric_of(row: AssessmentRubric) -> Rubric:
    return parse_rubric(row.document)


async def current_rubric(session: AsyncSession) -> AssessmentRubric:
    row = await session.scalar(select(AssessmentRubric).order_by(AssessmentRubric.created_at.desc()).limit(1))
    if row is None:
        raise NotFound("尚未载入考核细则（python -m app.manage load-rubric）/ no assessment rubric has been loaded "
                       "(python -m app.manage load-rubric)")
    return row


async def list_rubrics(session: AsyncSession, *, principal: Principal) -> list[AssessmentRubric]:
    require(principal, *READERS)  # the rubric is the published rule every agency is scored by
    return list(await session.scalars(select(AssessmentRubric).order_by(AssessmentRubric.created_at.desc())))


async def _add_rubric(session: AsyncSession, principal: Principal, rubric: Rubric, source: str,
                      note: str | None) -> AssessmentRubric:
    row = AssessmentRubric(version=rubric.version, document=rubric.as_document(), source=source, note=note)
    row.set_actor(principal)
    session.add(row)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as error:
        raise Conflict(f"考核细则版本 {rubric.version} 已存在 / rubric version {rubric.version} already exists",
                       field="version") from error
    return row


async def load_rubric_file(session: AsyncSession, *, principal: Principal, path=RUBRIC_FILE,
                           only_if_none: bool = False) -> tuple[AssessmentRubric | None, bool]:
    """Load the rubric file as a version: (the row, whether it was added). The same version with the
    same content is already there (nothing changes); with other content it is a CONFLICT (raise the
    version in the file). `only_if_none`: do nothing when any version exists (prepare's way)."""
    require(principal, Role.ADMIN)
    if only_if_none and await session.scalar(select(AssessmentRubric.id).limit(1)) is not None:
        return None, False
    rubric = default_rubric(path)
    existing = await session.scalar(select(AssessmentRubric).where(AssessmentRubric.version == rubric.version))
    if existing is not None:
        if existing.document != rubric.as_document():
            raise Conflict(f"考核细则版本 {rubric.version} 已存在且内容不同 / rubric version {rubric.version} exists "
                           "with other content: raise the version", field="version")
        return existing, False
    return await _add_rubric(session, principal, rubric, source=path.name, note=None), True


async def create_rubric_version(session: AsyncSession, *, principal: Principal, document: dict,
                                targets_by_agency: dict[str, int], note: str | None) -> AssessmentRubric:
    """An administrator's new version (a version is never edited). Targets are given by agency id
    and kept by the agency's credit code, as the file keeps them."""
    require(principal, Role.ADMIN, users_only=True)
    targets: dict[str, int] = {}
    for index, (agency_id, target) in enumerate(targets_by_agency.items()):
        field = f"referralTargets.{index}.agencyId"
        parsed = _parse_id(agency_id)
        agency = await session.get(Agency, parsed) if parsed else None
        if agency is None:
            raise ValidationFailed(f"机关 {agency_id} 不存在 / no agency {agency_id}", field=field)
        targets[agency.uscc] = target
    rubric = parse_rubric({**document, "referral_targets": targets})
    return await _add_rubric(session, principal, rubric, source="administrator",
                             note=clean_text(note, "note", 2000, required=False))


# Scope ----------------------------------------------------------------------------------------------

def _parse_id(value) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        return None


async def _own_jurisdiction(session: AsyncSession, principal: Principal) -> uuid.UUID | None:
    return await session.scalar(select(Agency.jurisdiction_id).where(Agency.id == principal.agency_id))


async def scope_jurisdictions(session: AsyncSession, principal: Principal,
                              jurisdiction_code: str | None = None) -> list[uuid.UUID]:
    """The jurisdictions whose agencies the caller sees scored (a liaison: its agency's, for the
    ranking), narrowed to `jurisdiction_code` and below; NOT_FOUND for a code outside the scope."""
    require(principal, *READERS)
    if principal.role is Role.AGENCY_LIAISON:
        own = await _own_jurisdiction(session, principal)
        scope = [own] if own else []
    elif principal.role is Role.ADMIN:
        scope = list(await session.scalars(select(Jurisdiction.id)))
    else:
        scope = list(principal.visible_jurisdiction_ids)
    if jurisdiction_code is None:
        return sorted(scope)
    root = await session.scalar(select(Jurisdiction).where(Jurisdiction.code == jurisdiction_code))
    if root is None or root.id not in scope:
        raise NotFound(f"行政区划 {jurisdiction_code} 不存在 / no jurisdiction {jurisdiction_code}",
                       field="jurisdictionCode")
    subtree = set(await session.scalars(select(Jurisdiction.id).where(
        Jurisdiction.code.like(jurisdiction_code.rstrip("0") + "%"))))
    return sorted(subtree & set(scope))


def checked_window(year: int, quarter: int | None) -> Window:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValidationFailed(f"year 应在 {FIRST_YEAR} 到 {LAST_YEAR} 之间 / year must lie between {FIRST_YEAR} and "
                               f"{LAST_YEAR}", field="year")
    if quarter is not None and not 1 <= quarter <= 4:
        raise ValidationFailed("quarter 应为 1 到 4 / quarter must be 1 to 4", field="quarter")
    return scoring.window(year, quarter or 0, clock.today())


# Scores ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Assessment:
    period: Window
    results: list[AgencyResult]
    # The frozen result row of each agency read from a closed period (its explanation is stored there).
    frozen_rows: dict[uuid.UUID, uuid.UUID]


async def _closed_periods(session: AsyncSession, period: Window, jurisdictions: list[uuid.UUID]
                          ) -> list[AssessmentPeriod]:
    return list(await session.scalars(select(AssessmentPeriod).where(
        AssessmentPeriod.jurisdiction_id.in_(jurisdictions), AssessmentPeriod.year == period.year,
        AssessmentPeriod.quarter == period.quarter, AssessmentPeriod.status == PeriodStatus.CLOSED)))


def _frozen(row: AssessmentResult, version: str) -> AgencyResult:
    return AgencyResult(agency_id=row.agency_id, jurisdiction_id=row.jurisdiction_id, total=row.total, rank=row.rank,
                        indicators=tuple(IndicatorResult.from_json(item) for item in row.indicators),
                        rubric_version=version, frozen=True)


async def assessment(session: AsyncSession, *, principal: Principal, year: int, quarter: int | None,
                     jurisdiction_code: str | None = None) -> Assessment:
    """Every agency the caller sees, with total, rank and indicators: frozen where its
    jurisdiction's period is closed, computed from the records where it is open."""
    period = checked_window(year, quarter)
    jurisdictions = await scope_jurisdictions(session, principal, jurisdiction_code)
    closed = await _closed_periods(session, period, jurisdictions)
    closed_ids = {row.jurisdiction_id for row in closed}
    results: list[AgencyResult] = []
    frozen_rows: dict[uuid.UUID, uuid.UUID] = {}
    if closed:
        versions = dict((await session.execute(select(AssessmentRubric.id, AssessmentRubric.version).where(
            AssessmentRubric.id.in_({row.rubric_id for row in closed})))).all())
        version_of = {row.id: versions[row.rubric_id] for row in closed}
        query = select(AssessmentResult).where(AssessmentResult.closing_id.in_([row.closing_id for row in closed]))
        if principal.role is Role.AGENCY_LIAISON:
            query = query.where(AssessmentResult.agency_id == principal.agency_id)
        for row in await session.scalars(query):
            results.append(_frozen(row, version_of[row.period_id]))
            frozen_rows[row.agency_id] = row.id
    live = [jurisdiction for jurisdiction in jurisdictions if jurisdiction not in closed_ids]
    if live:
        rubric = rubric_of(await current_rubric(session))
        computed = await scoring.compute_scores(session, rubric=rubric, period=period, jurisdictions=live)
        if principal.role is Role.AGENCY_LIAISON:
            computed = [row for row in computed if row.agency_id == principal.agency_id]
        results += computed
    results.sort(key=lambda row: (str(row.jurisdiction_id), row.rank, str(row.agency_id)))
    return Assessment(period=period, results=results, frozen_rows=frozen_rows)


@dataclass(frozen=True)
class ExplanationKey:
    """What an indicator needs to list its records later (a DataLoader key)."""

    year: int
    quarter: int
    agency_id: uuid.UUID
    jurisdiction_id: uuid.UUID
    code: IndicatorCode
    frozen_row_id: uuid.UUID | None


async def load_explanations(session: AsyncSession, keys: list[ExplanationKey]) -> dict[ExplanationKey, list[Record]]:
    """The records of many indicators: those of closed periods from their frozen rows, the others
    with one query per period and indicator. The keys come from a scoped result, so they are in
    the caller's scope already."""
    found: dict[ExplanationKey, list[Record]] = {}
    frozen = [key for key in keys if key.frozen_row_id]
    if frozen:
        rows = {row.id: row for row in await session.scalars(select(AssessmentResult).where(
            AssessmentResult.id.in_({key.frozen_row_id for key in frozen})))}
        for key in frozen:
            row = rows[key.frozen_row_id]
            found[key] = [Record.from_json(row.agency_id, item) for item in row.records.get(key.code.value, [])]
    groups: dict[tuple[int, int, IndicatorCode], list[ExplanationKey]] = {}
    for key in keys:
        if not key.frozen_row_id:
            groups.setdefault((key.year, key.quarter, key.code), []).append(key)
    for (year, quarter, code), group in groups.items():
        records = await scoring.compute_records(
            session, period=scoring.window(year, quarter, clock.today()), code=code,
            jurisdictions=sorted({key.jurisdiction_id for key in group}),
            agency_ids=sorted({key.agency_id for key in group}))
        for key in group:
            found[key] = [record for record in records if record.agency_id == key.agency_id]
    return found


async def explanation(session: AsyncSession, *, principal: Principal, year: int, quarter: int | None,
                      agency_id: str, code: IndicatorCode) -> list[Record]:
    """The records behind one indicator of one agency: NOT_FOUND for an agency outside the scope."""
    period = checked_window(year, quarter)
    parsed = _parse_id(agency_id)
    agency = await session.get(Agency, parsed) if parsed else None
    jurisdictions = await scope_jurisdictions(session, principal)
    if agency is None or agency.jurisdiction_id not in jurisdictions or (
            principal.role is Role.AGENCY_LIAISON and agency.id != principal.agency_id):
        raise NotFound("机关不存在 / no such agency", field="agencyId")
    closed = await _closed_periods(session, period, [agency.jurisdiction_id])
    frozen_row_id = None
    if closed:
        frozen_row_id = await session.scalar(select(AssessmentResult.id).where(
            AssessmentResult.closing_id == closed[0].closing_id, AssessmentResult.agency_id == agency.id))
        if frozen_row_id is None:  # an agency created after the close has no result in that period
            return []
    key = ExplanationKey(year=period.year, quarter=period.quarter, agency_id=agency.id,
                         jurisdiction_id=agency.jurisdiction_id, code=code, frozen_row_id=frozen_row_id)
    return (await load_explanations(session, [key]))[key]


# Periods --------------------------------------------------------------------------------------------

async def _target_jurisdictions(session: AsyncSession, principal: Principal, jurisdiction_code: str | None
                                ) -> list[uuid.UUID]:
    if jurisdiction_code is None:
        if principal.jurisdiction_id is None:
            raise ValidationFailed("请指定行政区划 / name the jurisdiction", field="jurisdictionCode")
        code = await session.scalar(select(Jurisdiction.code).where(Jurisdiction.id == principal.jurisdiction_id))
        return await scope_jurisdictions(session, principal, code)
    return await scope_jurisdictions(session, principal, jurisdiction_code)


async def close_period(session: AsyncSession, *, principal: Principal, year: int, quarter: int | None,
                       jurisdiction_code: str | None = None) -> list[AssessmentPeriod]:
    """Freeze the period of a jurisdiction and of those below it: each agency's result, the records
    behind every indicator and the rubric version are stored, and from then on read instead of
    computed. Only once the period has ended; CONFLICT when any of them is closed already."""
    require(principal, *PERIOD_MACHINE.roles_for(PeriodAction.CLOSE), users_only=True)
    period = checked_window(year, quarter)
    today = clock.today()
    if period.end >= today:
        raise InvalidTransition(f"考核期至 {period.end} 结束，尚不能关闭 / the period runs until {period.end} and "
                                "cannot be closed before it has ended", field="quarter")
    jurisdictions = await _target_jurisdictions(session, principal, jurisdiction_code)
    existing = {row.jurisdiction_id: row for row in await session.scalars(
        select(AssessmentPeriod).where(AssessmentPeriod.jurisdiction_id.in_(jurisdictions),
                                       AssessmentPeriod.year == period.year,
                                       AssessmentPeriod.quarter == period.quarter).with_for_update())}
    if any(row.status is PeriodStatus.CLOSED for row in existing.values()):
        raise Conflict("该考核期已关闭 / the period is closed already (reopen it first)")
    rubric_row = await current_rubric(session)
    rubric = rubric_of(rubric_row)
    window_rule = Rule(code="ASSESSMENT_OBJECTION", version=rubric.version, name_zh="考核结果异议期",
                       name_en="Objections to an assessment", unit=Unit.WORKING_DAYS,
                       period=rubric.objection_window_working_days, start_event_zh="考核期关闭之日",
                       start_event_en="the day the period was closed", legal_source=rubric.name_zh,
                       legal_source_en=rubric.name_en, extends_past_rest_day=True, rest_day_source="")
    objections_due_on = (await compute(session, window_rule, today)).due_on
    results = await scoring.compute_scores(session, rubric=rubric, period=period, jurisdictions=jurisdictions)
    records: dict[uuid.UUID, dict[str, list[dict]]] = {row.agency_id: {} for row in results}
    for code in scoring.ALL_CODES:
        for record in await scoring.compute_records(session, period=period, jurisdictions=jurisdictions, code=code):
            records[record.agency_id].setdefault(code.value, []).append(record.as_json())
    periods = []
    for jurisdiction_id in jurisdictions:
        row = existing.get(jurisdiction_id)
        if row is None:
            # The id now: the history row written with the creation points at it.
            row = AssessmentPeriod(id=uuid.uuid4(), jurisdiction_id=jurisdiction_id, year=period.year,
                                   quarter=period.quarter)
            session.add(row)
            history = record_creation(session, principal=principal, machine=PERIOD_MACHINE, row=row,
                                      action=PeriodAction.CLOSE)
            try:
                async with session.begin_nested():
                    await session.flush()
            except IntegrityError as error:  # closed at the same moment by someone else
                raise Conflict("该考核期已关闭 / the period is closed already") from error
        else:
            history = await apply_transition(session, principal=principal, machine=PERIOD_MACHINE, row=row,
                                             action=PeriodAction.CLOSE)
        row.rubric_id, row.closed_on, row.objections_due_on, row.closing_id = (
            rubric_row.id, today, objections_due_on, history.id)
        for result in results:
            if result.jurisdiction_id == jurisdiction_id:
                session.add(AssessmentResult(
                    closing_id=history.id, period_id=row.id, agency_id=result.agency_id,
                    jurisdiction_id=jurisdiction_id, total=result.total, rank=result.rank,
                    indicators=[item.as_json() for item in result.indicators], records=records[result.agency_id]))
        periods.append(row)
    await session.flush()
    return periods


async def reopen_period(session: AsyncSession, *, principal: Principal, year: int, quarter: int | None,
                        jurisdiction_code: str, reason: str) -> list[AssessmentPeriod]:
    """An administrator reopens the closed periods of a jurisdiction and below, saying why (the
    period's history keeps who, when and why; the frozen rows and objections stay on file)."""
    require(principal, *PERIOD_MACHINE.roles_for(PeriodAction.REOPEN), users_only=True)
    period = checked_window(year, quarter)
    jurisdictions = await scope_jurisdictions(session, principal, jurisdiction_code)
    closed = await _closed_periods(session, period, jurisdictions)
    if not closed:
        raise InvalidTransition("该考核期未关闭 / the period is not closed", status=PeriodStatus.OPEN.value,
                                action=PeriodAction.REOPEN.value)
    for row in closed:
        await apply_transition(session, principal=principal, machine=PERIOD_MACHINE, row=row,
                               action=PeriodAction.REOPEN, reason=reason)
    return closed


async def list_periods(session: AsyncSession, *, principal: Principal, year: int,
                       quarter: int | None) -> list[AssessmentPeriod]:
    period = checked_window(year, quarter)
    jurisdictions = await scope_jurisdictions(session, principal)
    return list(await session.scalars(select(AssessmentPeriod).where(
        AssessmentPeriod.jurisdiction_id.in_(jurisdictions), AssessmentPeriod.year == period.year,
        AssessmentPeriod.quarter == period.quarter)))


async def period_histories(session: AsyncSession, period_ids: list[uuid.UUID]
                           ) -> dict[uuid.UUID, list[AssessmentPeriodChange]]:
    rows = await session.scalars(select(AssessmentPeriodChange).where(
        AssessmentPeriodChange.period_id.in_(period_ids)).order_by(AssessmentPeriodChange.changed_at))
    found: dict[uuid.UUID, list[AssessmentPeriodChange]] = {key: [] for key in period_ids}
    for row in rows:
        found[row.period_id].append(row)
    return found


# Objections -----------------------------------------------------------------------------------------

def _objections_visible(principal: Principal) -> ColumnElement[bool]:
    """The objecting agency and the assessors of its jurisdiction (and administrators); not the
    prosecutors, whose recommendations the objection may well be about."""
    if principal.role is Role.ADMIN:
        return true()
    if principal.role is Role.AGENCY_LIAISON:
        return AssessmentObjection.agency_id == principal.agency_id
    if principal.role is Role.ASSESSOR and principal.visible_jurisdiction_ids:
        return AssessmentObjection.jurisdiction_id.in_(principal.visible_jurisdiction_ids)
    return false()


def _indicator(code: str) -> IndicatorCode:
    try:
        return IndicatorCode(code)
    except ValueError:
        raise ValidationFailed(f"未知的考核指标 {code} / unknown indicator {code}", field="indicatorCode") from None


async def file_objection(session: AsyncSession, *, principal: Principal, year: int, quarter: int | None,
                         indicator_code: str, grounds: str) -> AssessmentObjection:
    """An agency objects to one of its own indicators of a closed period, within the window."""
    require(principal, Role.AGENCY_LIAISON, users_only=True)
    period = checked_window(year, quarter)
    code = _indicator(indicator_code)
    text = clean_text(grounds, "grounds", MAX_GROUNDS, required=True)
    own = await _own_jurisdiction(session, principal)
    row = await session.scalar(select(AssessmentPeriod).where(
        AssessmentPeriod.jurisdiction_id == own, AssessmentPeriod.year == period.year,
        AssessmentPeriod.quarter == period.quarter))
    if row is None or row.status is not PeriodStatus.CLOSED:
        raise InvalidTransition("考核期尚未关闭，结果未定，不能提出异议 / the period is not closed: there is no "
                                "result to object to yet", status=PeriodStatus.OPEN.value, action="object")
    today = clock.today()
    if today > row.objections_due_on:
        raise InvalidTransition(f"异议期已于 {row.objections_due_on} 届满 / objections were taken until "
                                f"{row.objections_due_on}", status=PeriodStatus.CLOSED.value, action="object")
    objection = AssessmentObjection(period_id=row.id, agency_id=principal.agency_id, jurisdiction_id=own,
                                    indicator_code=code.value, status=ObjectionStatus.FILED, grounds=text,
                                    filed_on=today)
    objection.set_actor(principal)
    session.add(objection)
    await session.flush()
    return objection


async def answer_objection(session: AsyncSession, *, principal: Principal, objection_id: str,
                           answer: str) -> AssessmentObjection:
    require(principal, Role.ASSESSOR, users_only=True)
    text = clean_text(answer, "answer", MAX_GROUNDS, required=True)
    parsed = _parse_id(objection_id)
    objection = None if parsed is None else await session.scalar(
        select(AssessmentObjection).where(AssessmentObjection.id == parsed, _objections_visible(principal))
        .with_for_update())
    if objection is None:
        raise NotFound("异议不存在 / no such objection", field="objectionId")
    if objection.status is ObjectionStatus.ANSWERED:
        raise InvalidTransition("该异议已答复 / the objection has been answered already",
                                status=objection.status.value, action="answer")
    objection.status, objection.answer, objection.answered_on = ObjectionStatus.ANSWERED, text, clock.today()
    objection.answered_at, objection.answered_by_name = utcnow(), principal.username
    await session.flush()
    return objection


async def list_objections(session: AsyncSession, *, principal: Principal, year: int,
                          quarter: int | None) -> list[AssessmentObjection]:
    require(principal, *READERS)
    period = checked_window(year, quarter)
    return list(await session.scalars(
        select(AssessmentObjection).join(AssessmentPeriod, AssessmentPeriod.id == AssessmentObjection.period_id)
        .where(_objections_visible(principal), AssessmentPeriod.year == period.year,
               AssessmentPeriod.quarter == period.quarter)
        .order_by(AssessmentObjection.filed_at, AssessmentObjection.id)))


# The weekly board -----------------------------------------------------------------------------------

async def weekly_board(session: AsyncSession, *, principal: Principal, jurisdiction_code: str, first_day: date,
                       last_day: date) -> list[board.BoardWeek]:
    """The ISO weeks from the one holding `first_day` to the one holding `last_day`."""
    require(principal, *BOARD_READERS)
    clock.check_date(first_day, "from")
    clock.check_date(last_day, "to")
    first_monday = first_day - timedelta(days=first_day.weekday())
    last_sunday = last_day + timedelta(days=6 - last_day.weekday())
    if last_sunday < first_monday:
        raise ValidationFailed("to 不能早于 from / to must not be before from", field="to")
    if (last_sunday - first_monday).days // 7 + 1 > MAX_BOARD_WEEKS:
        raise ValidationFailed(f"最多 {MAX_BOARD_WEEKS} 周 / at most {MAX_BOARD_WEEKS} weeks", field="to")
    jurisdictions = await scope_jurisdictions(session, principal, jurisdiction_code)
    return await board.weekly_board(session, jurisdictions=jurisdictions, first_monday=first_monday,
                                    last_sunday=last_sunday, today=clock.today())


# Exports --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ExportRow:
    agency: Agency
    result: AgencyResult
    records: dict[IndicatorCode, list[Record]]


async def export(session: AsyncSession, *, principal: Principal, year: int, quarter: int | None) -> list[ExportRow]:
    """Everything `assessment` returns, with every indicator's records, for a file."""
    found = await assessment(session, principal=principal, year=year, quarter=quarter)
    keys = {(result.agency_id, code): ExplanationKey(
        year=found.period.year, quarter=found.period.quarter, agency_id=result.agency_id,
        jurisdiction_id=result.jurisdiction_id, code=code, frozen_row_id=found.frozen_rows.get(result.agency_id))
        for result in found.results for code in scoring.ALL_CODES}
    records = await load_explanations(session, list(keys.values()))
    agencies = {row.id: row for row in await session.scalars(select(Agency).where(
        Agency.id.in_([result.agency_id for result in found.results])))}
    return [ExportRow(agency=agencies[result.agency_id], result=result,
                      records={code: records[keys[(result.agency_id, code)]] for code in scoring.ALL_CODES})
            for result in found.results]
