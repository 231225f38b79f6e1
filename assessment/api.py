"""Queries and mutations of the assessment."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry
from strawberry.types import Info

from assessment import service
from assessment.rubric import IndicatorCode
from assessment.types import (
    Assessment,
    AssessmentBoardWeek,
    AssessmentIndicatorCode,
    AssessmentObjection,
    AssessmentPeriod,
    AssessmentRecord,
    AssessmentRubric,
    CreateAssessmentRubricInput,
)


@strawberry.type
class AssessmentQuery:
    @strawberry.field(description="Each agency's score, rank and indicators for a quarter (or, without one, the "
                                  "year): assessors and prosecutors see their jurisdiction and below, a liaison "
                                  "its own agency. Closed periods answer with their frozen results.")
    async def assessment(self, info: Info, year: int, quarter: int | None = None,
                         jurisdiction_code: str | None = None) -> Assessment:
        return Assessment.from_service(await service.assessment(
            info.context.session, principal=info.context.principal, year=year, quarter=quarter,
            jurisdiction_code=jurisdiction_code))

    @strawberry.field(description="The records behind one indicator of one agency.")
    async def assessment_explanation(self, info: Info, agency_id: strawberry.ID, year: int,
                                     code: AssessmentIndicatorCode, quarter: int | None = None
                                     ) -> list[AssessmentRecord]:
        records = await service.explanation(info.context.session, principal=info.context.principal, year=year,
                                            quarter=quarter, agency_id=agency_id, code=IndicatorCode(code))
        return [AssessmentRecord.from_record(record) for record in records]

    @strawberry.field(description="The rubric versions, newest (the one scores use) first.")
    async def assessment_rubrics(self, info: Info) -> list[AssessmentRubric]:
        return [AssessmentRubric.from_model(row) for row in await service.list_rubrics(
            info.context.session, principal=info.context.principal)]

    @strawberry.field(description="The periods of the caller's jurisdictions that have been closed at least once, "
                                  "with their history.")
    async def assessment_periods(self, info: Info, year: int, quarter: int | None = None) -> list[AssessmentPeriod]:
        return [AssessmentPeriod.from_model(row) for row in await service.list_periods(
            info.context.session, principal=info.context.principal, year=year, quarter=quarter)]

    @strawberry.field(description="Objections to a period's results: the objecting agency and the assessors of its "
                                  "jurisdiction see them.")
    async def assessment_objections(self, info: Info, year: int, quarter: int | None = None
                                    ) -> list[AssessmentObjection]:
        return [AssessmentObjection.from_model(row) for row in await service.list_objections(
            info.context.session, principal=info.context.principal, year=year, quarter=quarter)]

    @strawberry.field(name="assessmentBoard",
                      description="A jurisdiction's (and below) weekly indicators, one row per ISO week from the "
                                  "week of `from` to the week of `to`.")
    async def assessment_board(self, info: Info, jurisdiction_code: str,
                               from_: Annotated[date, strawberry.argument(name="from")],
                               to: date) -> list[AssessmentBoardWeek]:
        weeks = await service.weekly_board(info.context.session, principal=info.context.principal,
                                           jurisdiction_code=jurisdiction_code, first_day=from_, last_day=to)
        return [AssessmentBoardWeek.from_week(week) for week in weeks]


@strawberry.type
class AssessmentMutation:
    @strawberry.mutation(description="An administrator creates a new version of the rubric; scores of open periods "
                                     "use it from now on.")
    async def create_assessment_rubric_version(self, info: Info, input: CreateAssessmentRubricInput
                                               ) -> AssessmentRubric:
        return AssessmentRubric.from_model(await service.create_rubric_version(
            info.context.session, principal=info.context.principal, document=input.document(),
            targets_by_agency=input.targets(), note=input.note))

    @strawberry.mutation(description="Freeze a period's results (the caller's jurisdiction and below, or the one "
                                     "named): later changes of the records no longer alter them.")
    async def close_assessment_period(self, info: Info, year: int, quarter: int | None = None,
                                      jurisdiction_code: str | None = None) -> list[AssessmentPeriod]:
        return [AssessmentPeriod.from_model(row) for row in await service.close_period(
            info.context.session, principal=info.context.principal, year=year, quarter=quarter,
            jurisdiction_code=jurisdiction_code)]

    @strawberry.mutation(description="An administrator reopens a closed period, saying why (kept in its history).")
    async def reopen_assessment_period(self, info: Info, year: int, jurisdiction_code: str, reason: str,
                                       quarter: int | None = None) -> list[AssessmentPeriod]:
        return [AssessmentPeriod.from_model(row) for row in await service.reopen_period(
            info.context.session, principal=info.context.principal, year=year, quarter=quarter,
            jurisdiction_code=jurisdiction_code, reason=reason)]

    @strawberry.mutation(description="An agency objects to one of its indicators of a closed period, within the "
                                     "rubric's window after the close.")
    async def file_assessment_objection(self, info: Info, year: int, indicator_code: str, grounds: str,
                                        quarter: int | None = None) -> AssessmentObjection:
        return AssessmentObjection.from_model(await service.file_objection(
            info.context.session, principal=info.context.principal, year=year, quarter=quarter,
            indicator_code=indicator_code, grounds=grounds))

    @strawberry.mutation(description="The assessment office answers an objection.")
    async def answer_assessment_objection(self, info: Info, objection_id: strawberry.ID,
                                          answer: str) -> AssessmentObjection:
        return AssessmentObjection.from_model(await service.answer_objection(
            info.context.session, principal=info.context.principal, objection_id=objection_id, answer=answer))

