"""Rules for cases: filing one from a registered referral, serving its decision, scoped reading."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from agencies.models import Procuratorate, Role
from agencies.principal import Principal
from agencies.scoping import owner_filters, visible_to
from cases.flows import CASE_MACHINE, CaseAction
from cases.models import Case, CaseKind, CaseStatus, CaseStatusChange
from core import clock
from core.clock import check_date
from core.errors import Conflict, NotFound, ValidationFailed
from core.loaders import grouped
from core.numbering import DocumentKind, allocate_number
from core.pagination import Page, PageRequest, paginate
from core.permissions import require
from core.state_machine import record_creation
from referral import service as referral_service
from referral.flows import ReferralAction


@dataclass(frozen=True)
class CaseFiling:
    kind: CaseKind
    decision_served_on: date | None = None


@dataclass(frozen=True)
class CaseFilter:
    statuses: tuple[CaseStatus, ...] = ()
    kinds: tuple[CaseKind, ...] = ()
    agency_id: str | None = None
    jurisdiction_code: str | None = None
    filed_from: date | None = None
    filed_to: date | None = None


async def file_case(session: AsyncSession, *, principal: Principal, referral_id: str,
                    filing: CaseFiling) -> Case:
    """File a case (立案) from a registered referral: the referral moves to CASE_FILED and the case
    is created FILED, numbered by the procuratorate that received the referral, in one transaction."""
    served_on = check_date(filing.decision_served_on, "decisionServedOn", not_after_today=True)
    # Scoping first (NOT_FOUND outside it), then the referral machine's role and status checks.
    referral = await referral_service.change_status(session, principal=principal, referral_id=referral_id,
                                                    action=ReferralAction.FILE_CASE)
    filed_on = clock.today()
    if served_on is not None and served_on < filed_on:
        raise ValidationFailed("送达日期不能早于立案日期 / decisionServedOn cannot precede the filing date",
                               field="decisionServedOn")
    case = Case(id=uuid.uuid4(), jurisdiction_id=referral.jurisdiction_id, referral_id=referral.id,
                agency_id=referral.agency_id, kind=CaseKind(filing.kind), filed_on=filed_on,
                decision_served_on=served_on)
    record_creation(session, principal=principal, machine=CASE_MACHINE, row=case, action=CaseAction.FILE)
    # Numbered last: the counter's row lock is held until the transaction ends.
    procuratorate = await session.scalar(
        select(Procuratorate).where(Procuratorate.jurisdiction_id == referral.jurisdiction_id))
    case.number = await allocate_number(session, procuratorate_id=procuratorate.id,
                                        document_code=procuratorate.document_code, kind=DocumentKind.CASE,
                                        on=filed_on)
    session.add(case)
    await session.flush()
    return case


async def record_decision_served(session: AsyncSession, *, principal: Principal, case_id: str,
                                 served_on: date) -> Case:
    """Record when the filing decision was served on the agency. Recorded once: the same date again
    changes nothing, a different one is CONFLICT (a served date is a fact of the file, not a draft)."""
    require(principal, Role.PROSECUTOR)
    case = await get_case(session, principal=principal, case_id=case_id)
    check_date(served_on, "servedOn", not_after_today=True)
    if served_on < case.filed_on:
        raise ValidationFailed("送达日期不能早于立案日期 / servedOn cannot precede the filing date",
                               field="servedOn")
    await session.refresh(case, with_for_update=True)
    if case.decision_served_on is not None and case.decision_served_on != served_on:
        raise Conflict(f"立案决定书已于 {case.decision_served_on} 送达 / the decision was already recorded as "
                       f"served on {case.decision_served_on}")
    case.decision_served_on = served_on
    await session.flush()
    return case


def _visible(principal: Principal):
    return visible_to(principal, agency_column=Case.agency_id, jurisdiction_column=Case.jurisdiction_id)


async def get_case(session: AsyncSession, *, principal: Principal, case_id: str) -> Case:
    try:
        parsed = uuid.UUID(str(case_id))
    except ValueError:
        parsed = None
    case = None
    if parsed is not None:
        case = await session.scalar(select(Case).where(Case.id == parsed, _visible(principal)))
    if case is None:
        raise NotFound("案件不存在 / case not found")
    return case


async def list_cases(session: AsyncSession, *, principal: Principal, filters: CaseFilter,
                     page: PageRequest) -> Page[Case]:
    """One page of the cases the principal may see, newest first."""
    query: Select = select(Case).where(_visible(principal))
    if filters.statuses:
        query = query.where(Case.status.in_(filters.statuses))
    if filters.kinds:
        query = query.where(Case.kind.in_(filters.kinds))
    for condition in owner_filters(agency_column=Case.agency_id, jurisdiction_column=Case.jurisdiction_id,
                                   agency_id=filters.agency_id, jurisdiction_code=filters.jurisdiction_code):
        query = query.where(condition)
    if check_date(filters.filed_from, "filedFrom"):
        query = query.where(Case.filed_on >= filters.filed_from)
    if check_date(filters.filed_to, "filedTo"):
        query = query.where(Case.filed_on <= filters.filed_to)
    return await paginate(session, query, at_column=Case.filed_at, id_column=Case.id, request=page)


async def cases_of_referrals(session: AsyncSession, *, principal: Principal, referral_ids: list[uuid.UUID]
                             ) -> dict[uuid.UUID, Case]:
    """The visible cases filed from the referrals among `referral_ids`, by referral id."""
    rows = await session.scalars(select(Case).where(Case.referral_id.in_(referral_ids), _visible(principal)))
    return {row.referral_id: row for row in rows}


async def status_history(session: AsyncSession, *, principal: Principal, case_ids: list[uuid.UUID]
                         ) -> dict[uuid.UUID, list[CaseStatusChange]]:
    """History rows of the visible cases among `case_ids`, oldest first."""
    rows = await session.scalars(select(CaseStatusChange)
                                 .join(Case, Case.id == CaseStatusChange.case_id)
                                 .where(CaseStatusChange.case_id.in_(case_ids), _visible(principal))
                                 .order_by(CaseStatusChange.changed_at, CaseStatusChange.id))
    return grouped(rows, case_ids, key=lambda row: row.case_id)
