"""Hearings (听证) on a case: on disputed harm, on which agency is responsible, on whether
rectification worked. Public by default; scheduled with their participants, concluded once held."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timezone

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from agencies.models import Role
from agencies.principal import Principal
from agencies.scoping import visible_to
from cases.models import Case, CaseStatus, Hearing, HearingParticipantRole, HearingTopic
from cases.procedure import Participant, checked_participants
from cases.service import case_for, parse_id
from core.clock import PLATFORM_TIMEZONE, check_date
from core.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from core.loaders import grouped
from core.permissions import require
from core.text import clean_text

MAX_CONCLUSION_LENGTH = 20000


@dataclass(frozen=True)
class HearingPlan:
    topic: HearingTopic
    scheduled_at: datetime
    place: str
    participants: tuple[Participant, ...]
    public: bool = True
    recommendation_id: str | None = None


def hearings_visible(principal: Principal):
    """Who reads a hearing: everyone who sees its case, except that an agency reads only the public
    ones. A public hearing is held before an audience and its conclusion announced, so the
    referring agency loses nothing by reading it; a closed one was closed for a reason (personal
    information, state secrets, an ongoing criminal investigation) that applies to it too."""
    condition = visible_to(principal, agency_column=Hearing.agency_id, jurisdiction_column=Hearing.jurisdiction_id)
    if principal.role is Role.AGENCY_LIAISON:
        condition = condition & Hearing.public
    return condition


async def schedule_hearing(session: AsyncSession, *, principal: Principal, case_id: str,
                           plan: HearingPlan) -> Hearing:
    """Schedule a hearing on an open case, on or after the filing date (scheduling one already
    held, to record it after the fact, is allowed)."""
    case = await case_for(session, principal=principal, case_id=case_id)
    if case.status is CaseStatus.CLOSED:
        raise InvalidTransition("案件已结案，不能安排听证 / the case is closed: no hearing can be scheduled",
                                status=case.status.value)
    if plan.scheduled_at.tzinfo is None:
        raise ValidationFailed("听证时间须带时区 / scheduledAt needs a time zone offset", field="scheduledAt")
    scheduled_day = plan.scheduled_at.astimezone(PLATFORM_TIMEZONE).date()
    check_date(scheduled_day, "scheduledAt")
    if scheduled_day < case.filed_on:
        raise ValidationFailed(f"听证不能早于立案日期 {case.filed_on} / scheduledAt cannot precede the filing date "
                               f"{case.filed_on}", field="scheduledAt")
    recommendation_id = None
    if plan.recommendation_id is not None:
        recommendation_id = await _recommendation_of_case(session, principal, case, plan.recommendation_id)
    hearing = Hearing(case_id=case.id, agency_id=case.agency_id, jurisdiction_id=case.jurisdiction_id,
                      recommendation_id=recommendation_id, topic=HearingTopic(plan.topic), scheduled_at=plan.scheduled_at.astimezone(timezone.utc),
                      place=clean_text(plan.place, "place", 200, required=True), public=plan.public,
                      participants=checked_participants(plan.participants, HearingParticipantRole))
    hearing.set_actor(principal)
    session.add(hearing)
    await session.flush()
    return hearing


async def _recommendation_of_case(session: AsyncSession, principal: Principal, case: Case,
                                  recommendation_id: str) -> uuid.UUID:
    # Imported here: recommendations builds on cases (it moves the case machine), not the reverse.
    from recommendations.service import get_recommendation

    recommendation = await get_recommendation(session, principal=principal, recommendation_id=recommendation_id)
    if recommendation.case_id != case.id:
        raise ValidationFailed(f"检察建议 {recommendation.number} 不属于本案 / recommendation {recommendation.number} "
                               "belongs to another case", field="recommendationId")
    return recommendation.id


async def get_hearing(session: AsyncSession, *, principal: Principal, hearing_id: str) -> Hearing:
    parsed = parse_id(hearing_id)
    hearing = None
    if parsed is not None:
        hearing = await session.scalar(select(Hearing).where(Hearing.id == parsed, hearings_visible(principal)))
    if hearing is None:
        raise NotFound("听证不存在 / hearing not found")
    return hearing


async def record_conclusion(session: AsyncSession, *, principal: Principal, hearing_id: str, held_on: date,
                            conclusion: str) -> Hearing:
    """Record that the hearing was held and what it concluded: once (the same again changes
    nothing, another is CONFLICT: a hearing's conclusion is a fact of the file)."""
    hearing = await get_hearing(session, principal=principal, hearing_id=hearing_id)
    require(principal, Role.PROSECUTOR)
    await session.refresh(hearing, with_for_update=True)
    check_date(held_on, "heldOn", not_after_today=True)
    scheduled_day = hearing.scheduled_at.astimezone(PLATFORM_TIMEZONE).date()
    if held_on < scheduled_day:
        raise ValidationFailed(f"听证日期不能早于安排的日期 {scheduled_day} / heldOn cannot precede the scheduled "
                               f"day {scheduled_day}", field="heldOn")
    text = clean_text(conclusion, "conclusion", MAX_CONCLUSION_LENGTH, required=True)
    if hearing.conclusion is not None:
        if (hearing.held_on, hearing.conclusion) == (held_on, text):
            return hearing
        raise Conflict(f"该听证的结论已于 {hearing.held_on} 记录 / the hearing's conclusion was already recorded "
                       f"(held on {hearing.held_on})")
    hearing.held_on, hearing.conclusion = held_on, text
    await session.flush()
    return hearing


async def hearings_of(session: AsyncSession, *, principal: Principal, case_ids: list[uuid.UUID]
                      ) -> dict[uuid.UUID, list[Hearing]]:
    rows = await session.scalars(select(Hearing).where(Hearing.case_id.in_(case_ids), hearings_visible(principal))
                                 .order_by(Hearing.scheduled_at, Hearing.id))
    return grouped(rows, case_ids, key=lambda row: row.case_id)
