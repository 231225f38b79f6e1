"""Queries and mutations of deadlines and the working calendar."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from deadlines import schedule, service
from deadlines.types import CalendarChange, CalendarDayInput, CalendarYear, Deadline


@strawberry.type
class DeadlineQuery:
    @strawberry.field(description="A deadline the caller may see, with its explanation.")
    async def deadline(self, info: Info, id: strawberry.ID) -> Deadline | None:
        return Deadline.from_model(await service.get_deadline(info.context.session, principal=info.context.principal,
                                                              deadline_id=id))

    @strawberry.field(description="The years of the official working calendar the platform has; a deadline that "
                                  "reaches a year not listed is provisional.")
    async def calendar_years(self, info: Info) -> list[CalendarYear] | None:
        rows = await schedule.calendar_years(info.context.session, principal=info.context.principal)
        return [CalendarYear.from_model(row) for row in rows]


@strawberry.type
class DeadlineMutation:
    @strawberry.mutation(description="Set a year's holidays and adjusted working days (administrators), e.g. when the "
                                     "State Council publishes next year's schedule: they replace the year's days, "
                                     "and every open deadline the change affects is recomputed, with the change "
                                     "recorded on it.")
    async def set_calendar_days(self, info: Info, year: int, holidays: list[CalendarDayInput],
                                workdays: list[CalendarDayInput], reason: str) -> CalendarChange:
        result = await schedule.set_calendar_days(
            info.context.session, principal=info.context.principal, year=year,
            holidays=[entry.to_service() for entry in holidays], workdays=[entry.to_service() for entry in workdays],
            reason=reason)
        return CalendarChange(calendar_year=CalendarYear.from_model(result.year), changed=result.changed,
                              changed_deadlines=result.changed_deadlines)
