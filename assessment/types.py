"""GraphQL types of the assessment."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

import strawberry
from strawberry.types import Info

from agencies.loaders import agency_loader, jurisdiction_loader
from agencies.types import Agency, Jurisdiction
from assessment import models, service
from assessment.board import BoardWeek
from assessment.rubric import IndicatorCode
from assessment.scoring import AgencyResult, IndicatorResult, Record
from assessment.service import ExplanationKey
from core.loaders import loader

AssessmentIndicatorCode = strawberry.enum(IndicatorCode, name="AssessmentIndicatorCode")
AssessmentPeriodStatus = strawberry.enum(models.PeriodStatus, name="AssessmentPeriodStatus")
AssessmentObjectionStatus = strawberry.enum(models.ObjectionStatus, name="AssessmentObjectionStatus")

_LATE_ZH = "逾期 {n} 个工作日"
_DETAIL = {
    "UNREPLIED": "截至考核时点未回复 / not answered by the end of the period",
    "RECTIFIED": "检查认定整改到位 / a check found it RECTIFIED",
    "NOT_VERIFIED": "未经检查认定整改到位（回复不等于整改）/ not found RECTIFIED by a check (a reply is not a rectification)",
    "URGENT": "紧急情形，十五日内回复 / urgent: fifteen days to answer",
    "PROVISIONAL": "按暂定日历计算 / computed on a provisional calendar",
}


def _note(record: Record) -> str:
    parts = []
    if record.on_time is not None and record.working_days_late is not None:
        if record.on_time:
            parts.append("按期 / on time")
        else:
            n = record.working_days_late
            parts.append(f"{_LATE_ZH.format(n=n)} / late by {n} working day{'s' if n != 1 else ''}")
    for word in (record.related, record.detail):
        if word in _DETAIL:
            parts.append(_DETAIL[word])
    return "；".join(parts)


@strawberry.type(description="One record behind an indicator, as it counted: its number, its dates, and whether "
                             "it was on time (or late by how many working days).")
class AssessmentRecord:
    reference: str = strawberry.field(description="The record's number: the enforcement case's, the referral's "
                                                  "registration number, the recommendation's.")
    related: str | None = strawberry.field(description="A second number or kind: the case filed, the enforcement "
                                                       "kind, URGENT.")
    started_on: date | None = strawberry.field(description="When the duty began: decision, submission, service.")
    due_on: date | None
    done_on: date | None = strawberry.field(description="When it was done: entered, filed, replied, found "
                                                        "RECTIFIED, brought to suit.")
    on_time: bool | None = strawberry.field(description="Whether it counted in the agency's favour (null where the "
                                                        "indicator has no deadline).")
    working_days_late: int | None
    note: str

    @classmethod
    def from_record(cls, record: Record) -> AssessmentRecord:
        return cls(reference=record.reference, related=record.related, started_on=record.started_on,
                   due_on=record.due_on, done_on=record.done_on, on_time=record.on_time,
                   working_days_late=record.working_days_late, note=_note(record))


def explanation_loader(info: Info):
    return loader(info.context, "assessment_explanations",
                  lambda keys: service.load_explanations(info.context.session, keys), default=[])


@strawberry.type
class AssessmentIndicator:
    key: strawberry.Private[ExplanationKey]
    code: AssessmentIndicatorCode
    kind: str = strawberry.field(description="SCORED (weight = its share of 100) or DEDUCTION (weight = points per "
                                             "record, score negative).")
    value: Decimal | None = strawberry.field(description="A share from 0 to 1 (null when nothing was owed), or a "
                                                         "deduction's count.")
    score: Decimal
    weight: int
    count: int = strawberry.field(description="How many records lie behind it.")
    summary: str = strawberry.field(description="The explanation in one line (counts and working days).")

    @strawberry.field(description="The records behind the indicator (read only when asked for).")
    async def explanation(self, info: Info) -> list[AssessmentRecord]:
        return [AssessmentRecord.from_record(record) for record in await explanation_loader(info).load(self.key)]

    @classmethod
    def from_result(cls, item: IndicatorResult, key: ExplanationKey) -> AssessmentIndicator:
        return cls(key=key, code=item.code, kind=item.kind, value=item.value, score=item.score, weight=item.weight,
                   count=item.count, summary=item.summary)


@strawberry.type
class AgencyAssessment:
    result: strawberry.Private[AgencyResult]
    frozen_row_id: strawberry.Private[uuid.UUID | None]
    year: strawberry.Private[int]
    quarter: strawberry.Private[int]

    @strawberry.field
    def agency_id(self) -> strawberry.ID:
        return strawberry.ID(str(self.result.agency_id))

    @strawberry.field
    async def agency(self, info: Info) -> Agency | None:
        row = await agency_loader(info).load(self.result.agency_id)
        return Agency.from_model(row) if row else None

    @strawberry.field(description="The total: the indicators' scores less the deductions, never below the floor.")
    def score(self) -> Decimal:
        return self.result.total

    @strawberry.field(description="Rank among the agencies of the same jurisdiction (equal totals share a rank).")
    def rank(self) -> int:
        return self.result.rank

    @strawberry.field(description="True when read from a closed period's frozen results.")
    def frozen(self) -> bool:
        return self.result.frozen

    @strawberry.field
    def rubric_version(self) -> str:
        return self.result.rubric_version

    @strawberry.field
    def indicators(self) -> list[AssessmentIndicator]:
        return [AssessmentIndicator.from_result(item, ExplanationKey(
            year=self.year, quarter=self.quarter, agency_id=self.result.agency_id,
            jurisdiction_id=self.result.jurisdiction_id, code=item.code, frozen_row_id=self.frozen_row_id))
            for item in self.result.indicators]


@strawberry.type
class Assessment:
    year: int
    quarter: int | None
    start_on: date
    end_on: date
    as_of: date = strawberry.field(description="The day the records are counted up to: the period's end, or today "
                                               "while it runs.")
    agencies: list[AgencyAssessment]

    @classmethod
    def from_service(cls, found: service.Assessment) -> Assessment:
        period = found.period
        return cls(year=period.year, quarter=period.quarter or None, start_on=period.start, end_on=period.end,
                   as_of=period.as_of, agencies=[
                       AgencyAssessment(result=result, frozen_row_id=found.frozen_rows.get(result.agency_id),
                                        year=period.year, quarter=period.quarter) for result in found.results])


@strawberry.type
class AssessmentPeriodChange:
    action: str
    from_status: AssessmentPeriodStatus | None
    to_status: AssessmentPeriodStatus
    actor_name: str
    reason: str | None
    changed_at: datetime


def period_history_loader(info: Info):
    return loader(info.context, "assessment_period_history",
                  lambda ids: service.period_histories(info.context.session, ids), default=[])


@strawberry.type
class AssessmentPeriod:
    row: strawberry.Private[models.AssessmentPeriod]
    id: strawberry.ID
    year: int
    quarter: int | None
    status: AssessmentPeriodStatus
    closed_on: date | None
    objections_due_on: date | None

    @strawberry.field
    async def jurisdiction(self, info: Info) -> Jurisdiction:
        return Jurisdiction.from_model(await jurisdiction_loader(info).load(self.row.jurisdiction_id))

    @strawberry.field(description="Every close and reopen: who, when, why.")
    async def history(self, info: Info) -> list[AssessmentPeriodChange]:
        return [AssessmentPeriodChange(action=row.action, from_status=row.from_status, to_status=row.to_status,
                                       actor_name=row.actor_name, reason=row.reason, changed_at=row.changed_at)
                for row in await period_history_loader(info).load(self.row.id)]

    @classmethod
    def from_model(cls, row: models.AssessmentPeriod) -> AssessmentPeriod:
        return cls(row=row, id=strawberry.ID(str(row.id)), year=row.year, quarter=row.quarter or None,
                   status=row.status, closed_on=row.closed_on, objections_due_on=row.objections_due_on)


@strawberry.type
class AssessmentObjection:
    row: strawberry.Private[models.AssessmentObjection]
    id: strawberry.ID
    indicator_code: AssessmentIndicatorCode
    status: AssessmentObjectionStatus
    grounds: str
    filed_on: date
    filed_by_name: str
    answer: str | None
    answered_on: date | None
    answered_by_name: str | None

    @strawberry.field
    def agency_id(self) -> strawberry.ID:
        return strawberry.ID(str(self.row.agency_id))

    @classmethod
    def from_model(cls, row: models.AssessmentObjection) -> AssessmentObjection:
        return cls(row=row, id=strawberry.ID(str(row.id)), indicator_code=IndicatorCode(row.indicator_code),
                   status=row.status, grounds=row.grounds, filed_on=row.filed_on, filed_by_name=row.actor_name,
                   answer=row.answer, answered_on=row.answered_on, answered_by_name=row.answered_by_name)


@strawberry.type
class AssessmentRubricItem:
    code: AssessmentIndicatorCode
    points: int = strawberry.field(description="The weight, or a deduction's points per record.")
    name_zh: str
    name_en: str


@strawberry.type
class AssessmentRubricTarget:
    uscc: str
    target: int


@strawberry.type
class AssessmentRubric:
    id: strawberry.ID
    version: str
    name_zh: str
    name_en: str
    floor: int
    objection_window_working_days: int
    referral_target_per_quarter: int
    indicators: list[AssessmentRubricItem]
    deductions: list[AssessmentRubricItem]
    referral_targets: list[AssessmentRubricTarget] = strawberry.field(description="Per-quarter targets of "
                                                                                  "particular agencies.")
    source: str
    note: str | None
    created_by_name: str
    created_at: datetime

    @classmethod
    def from_model(cls, row: models.AssessmentRubric) -> AssessmentRubric:
        rubric = service.rubric_of(row)

        def items(entries) -> list[AssessmentRubricItem]:
            return [AssessmentRubricItem(code=item.code, points=item.points, name_zh=item.name_zh,
                                         name_en=item.name_en) for item in entries]

        return cls(id=strawberry.ID(str(row.id)), version=rubric.version, name_zh=rubric.name_zh,
                   name_en=rubric.name_en, floor=rubric.floor,
                   objection_window_working_days=rubric.objection_window_working_days,
                   referral_target_per_quarter=rubric.referral_target_per_quarter,
                   indicators=items(rubric.indicators), deductions=items(rubric.deductions),
                   referral_targets=[AssessmentRubricTarget(uscc=uscc, target=target)
                                     for uscc, target in sorted(rubric.referral_targets.items())],
                   source=row.source, note=row.note, created_by_name=row.actor_name, created_at=row.created_at)


@strawberry.input
class RubricItemInput:
    code: AssessmentIndicatorCode
    points: int
    name_zh: str
    name_en: str


@strawberry.input
class RubricTargetInput:
    agency_id: strawberry.ID
    target: int


@strawberry.input(description="A new version of the rubric (the current one is never edited).")
class CreateAssessmentRubricInput:
    version: str
    name_zh: str
    name_en: str
    indicators: list[RubricItemInput] = strawberry.field(description="Each scored indicator once, weights adding "
                                                                     "up to 100.")
    deductions: list[RubricItemInput]
    referral_target_per_quarter: int
    objection_window_working_days: int
    floor: int = 0
    referral_targets: list[RubricTargetInput] | None = None
    note: str | None = None

    def document(self) -> dict:
        return {"version": self.version, "name_zh": self.name_zh, "name_en": self.name_en, "floor": self.floor,
                "objection_window_working_days": self.objection_window_working_days,
                "referral_target_per_quarter": self.referral_target_per_quarter,
                "indicator": [{"code": item.code.value, "weight": item.points, "name_zh": item.name_zh,
                               "name_en": item.name_en} for item in self.indicators],
                "deduction": [{"code": item.code.value, "points": item.points, "name_zh": item.name_zh,
                               "name_en": item.name_en} for item in self.deductions]}

    def targets(self) -> dict[str, int]:
        return {str(item.agency_id): item.target for item in self.referral_targets or ()}


@strawberry.type(description="One ISO week of a jurisdiction's board. Rates are shares from 0 to 1, null when "
                             "there was nothing to count.")
class AssessmentBoardWeek:
    week_start: date
    iso_year: int
    iso_week: int
    referrals_received: int
    referrals_filed: int
    filing_rate: Decimal | None
    recommendations_issued: int
    replies_due: int
    replies_on_time: int
    on_time_reply_rate: Decimal | None
    rectified: int
    rectification_rate: Decimal | None

    @classmethod
    def from_week(cls, week: BoardWeek) -> AssessmentBoardWeek:
        return cls(week_start=week.week_start, iso_year=week.iso_year, iso_week=week.iso_week,
                   referrals_received=week.referrals_received, referrals_filed=week.referrals_filed,
                   filing_rate=week.filing_rate, recommendations_issued=week.recommendations_issued,
                   replies_due=week.replies_due, replies_on_time=week.replies_on_time,
                   on_time_reply_rate=week.on_time_reply_rate, rectified=week.rectified,
                   rectification_rate=week.rectification_rate)
