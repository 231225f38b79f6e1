"""Rules for recommendations: issuing one in an administrative case, recording its service, and
reading them within the caller's scope. Replies and rectification are in recommendations.rectification.

Who sees a recommendation (agencies.scoping on its own columns): the addressee agency's liaisons,
and the prosecutors and assessors of the case's jurisdiction (a city sees its districts). The
referring agency, when it is not the addressee, does not: it sees its referral's case, not what
the procuratorate asked of another agency."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from agencies.models import Agency, Procuratorate
from agencies.principal import Principal
from agencies.scoping import owner_filters, visible_to
from cases import service as case_service
from cases.flows import CASE_MACHINE, CaseAction
from cases.models import Case, CaseKind, CaseParty, CaseStatus
from core import clock
from core.clock import check_date
from core.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from core.loaders import grouped
from core.numbering import DocumentKind, allocate_number
from core.pagination import Page, PageRequest, SortOrder, paginate
from core.permissions import require
from core.state_machine import apply_transition, record_creation
from core.text import clean_text
from deadlines.models import Deadline
from deadlines.service import open_deadline
from notifications import events as notification_events
from parties.models import matching_party
from parties.protection import IdentityProtection
from parties.service import PartySearch, search_terms
from recommendations.flows import RECOMMENDATION_MACHINE, RecommendationAction, RecommendationStatus
from recommendations.models import Recommendation, RecommendationStatusChange

SUBJECT_KIND = "RECOMMENDATION"  # what deadlines call a recommendation
# A case already under a recommendation may get another, to another agency, without moving.
CASE_ALREADY_RECOMMENDED = frozenset({CaseStatus.RECOMMENDATION_ISSUED, CaseStatus.FOLLOW_UP})
MAX_WITNESSES = 20


@dataclass(frozen=True)
class RecommendationDraft:
    addressee_agency_id: str
    content: str
    measures: str
    legal_basis: str
    urgent: bool = False
    issued_on: date | None = None  # today (Beijing) unless given


@dataclass(frozen=True)
class Witness:
    name: str
    role: str


@dataclass(frozen=True)
class RecommendationFilter:
    statuses: tuple[RecommendationStatus, ...] = ()
    addressee_agency_id: str | None = None
    urgent: bool | None = None
    overdue: bool | None = None
    jurisdiction_code: str | None = None
    issued_from: date | None = None
    issued_to: date | None = None
    case_id: str | None = None
    domain_codes: tuple[str, ...] = ()
    party: PartySearch | None = None


class RecommendationOrder(str, enum.Enum):
    ISSUED_AT_DESC = "ISSUED_AT_DESC"
    ISSUED_AT_ASC = "ISSUED_AT_ASC"


SORT_ORDERS: dict[RecommendationOrder, SortOrder] = {
    RecommendationOrder.ISSUED_AT_DESC: SortOrder(columns=(Recommendation.issued_at, Recommendation.id)),
    RecommendationOrder.ISSUED_AT_ASC: SortOrder(columns=(Recommendation.issued_at, Recommendation.id),
                                                 ascending=True),
}


def addressed_to(agency_id: str, *, case_id_column):
    """A condition on a case: it has a recommendation addressed to `agency_id`."""
    return exists(select(Recommendation.id).where(Recommendation.case_id == case_id_column,
                                                  Recommendation.agency_id == _filter_id(agency_id,
                                                                                         "addresseeAgencyId")))


def visible(principal: Principal, model=Recommendation):
    """The scope of a recommendation's rows and of every row that carries its scope columns."""
    return visible_to(principal, agency_column=model.agency_id, jurisdiction_column=model.jurisdiction_id)


def parse_id(value: str | uuid.UUID | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


async def issue_recommendation(session: AsyncSession, *, principal: Principal, case_id: str,
                               draft: RecommendationDraft) -> Recommendation:
    """Issue a pre-litigation recommendation in an administrative case (行政诉讼法 art. 25(4)):
    numbered by the case's procuratorate; the case moves FILED|CONSULTATION → RECOMMENDATION_ISSUED,
    or stays where it is when it already has one (another agency may share the duty)."""
    require(principal, *RECOMMENDATION_MACHINE.roles_for(RecommendationAction.ISSUE))
    case = await case_service.get_case(session, principal=principal, case_id=case_id)
    if case.kind is not CaseKind.ADMINISTRATIVE:
        raise InvalidTransition(
            "诉前检察建议仅适用于行政公益诉讼案件 / a pre-litigation recommendation belongs to an "
            f"administrative case, not a {case.kind.value} one", status=case.status.value,
            action=CaseAction.ISSUE_RECOMMENDATION.value, kind=case.kind.value)
    issued_on = check_date(draft.issued_on, "issuedOn", not_after_today=True) or clock.today()
    if issued_on < case.filed_on:
        raise ValidationFailed("制发日期不能早于立案日期 / issuedOn cannot precede the filing date", field="issuedOn")
    recommendation = Recommendation(
        id=uuid.uuid4(), case_id=case.id, jurisdiction_id=case.jurisdiction_id,
        agency_id=await _addressee(session, draft.addressee_agency_id, case.jurisdiction_id),
        urgent=draft.urgent, issued_on=issued_on,
        content=clean_text(draft.content, "content", 20000, required=True),
        measures=clean_text(draft.measures, "measures", 10000, required=True),
        legal_basis=clean_text(draft.legal_basis, "legalBasis", 2000, required=True))
    await session.refresh(case, with_for_update=True)  # its status is read, and kept, under the lock
    if case.status not in CASE_ALREADY_RECOMMENDED:
        await apply_transition(session, principal=principal, machine=CASE_MACHINE, row=case,
                               action=CaseAction.ISSUE_RECOMMENDATION)
    record_creation(session, principal=principal, machine=RECOMMENDATION_MACHINE, row=recommendation,
                    action=RecommendationAction.ISSUE)
    # Numbered last: the counter's row lock is held until the transaction ends.
    procuratorate = await session.scalar(
        select(Procuratorate).where(Procuratorate.jurisdiction_id == case.jurisdiction_id))
    recommendation.number = await allocate_number(
        session, procuratorate_id=procuratorate.id, document_code=procuratorate.document_code,
        kind=DocumentKind.RECOMMENDATION, on=issued_on)
    session.add(recommendation)
    await session.flush()
    return recommendation


async def _addressee(session: AsyncSession, agency_id: str, jurisdiction_id: uuid.UUID) -> uuid.UUID:
    """The addressee must be an agency of the case's own jurisdiction. A procuratorate files
    administrative cases against the organs of its own level (同级管辖, 人民检察院公益诉讼办案规则
    art. 14); a city bureau's duty is the city procuratorate's case, not a district's. Any other id,
    existing or not, gets the same answer, so the check tells nothing about other districts."""
    parsed = parse_id(agency_id)
    found = parsed and await session.scalar(
        select(Agency.id).where(Agency.id == parsed, Agency.jurisdiction_id == jurisdiction_id))
    if not found:
        raise ValidationFailed("主送机关须为本案所在辖区的行政机关 / the addressee must be an agency of the "
                               "case's jurisdiction", field="addresseeAgencyId")
    return found


async def record_served(session: AsyncSession, *, principal: Principal, recommendation_id: str,
                        served_on: date, witnesses: tuple[Witness, ...] = ()) -> Recommendation:
    """Record the service (宣告送达): the date the agency received the recommendation, which starts
    the reply period, and who witnessed it. Recorded once: the same date again changes nothing, a
    different one is CONFLICT (a served date is a fact of the file and the deadline hangs on it)."""
    require(principal, *RECOMMENDATION_MACHINE.roles_for(RecommendationAction.SERVE))
    recommendation = await get_recommendation(session, principal=principal, recommendation_id=recommendation_id)
    check_date(served_on, "servedOn", not_after_today=True)
    if served_on < recommendation.issued_on:
        raise ValidationFailed("送达日期不能早于制发日期 / servedOn cannot precede the issue date", field="servedOn")
    if len(witnesses) > MAX_WITNESSES:
        raise ValidationFailed(f"见证人最多{MAX_WITNESSES}人 / at most {MAX_WITNESSES} witnesses", field="witnesses")
    checked = [{"name": clean_text(witness.name, f"witnesses.{index}.name", 100, required=True),
                "role": clean_text(witness.role, f"witnesses.{index}.role", 100, required=True)}
               for index, witness in enumerate(witnesses)]
    await session.refresh(recommendation, with_for_update=True)
    if recommendation.served_on is not None:
        if recommendation.served_on != served_on:
            raise Conflict(f"检察建议已于 {recommendation.served_on} 送达 / the recommendation was already recorded "
                           f"as served on {recommendation.served_on}", field="servedOn")
        return recommendation
    await apply_transition(session, principal=principal, machine=RECOMMENDATION_MACHINE, row=recommendation,
                           action=RecommendationAction.SERVE)
    recommendation.served_on = served_on
    recommendation.service_witnesses = checked
    await open_deadline(session, rule=reply_rule(recommendation), start_on=served_on, subject_kind=SUBJECT_KIND,
                        subject_id=recommendation.id, agency_id=recommendation.agency_id,
                        jurisdiction_id=recommendation.jurisdiction_id, principal=principal)
    await notification_events.recommendation_served(session, recommendation)
    await session.flush()
    return recommendation


def reply_rule(recommendation: Recommendation) -> str:
    """The deadline rule of the reply: 15 days when urgent, two months otherwise (deadlines/rules.toml)."""
    return "RECOMMENDATION_REPLY_URGENT" if recommendation.urgent else "RECOMMENDATION_REPLY"


def _scoped(principal: Principal) -> Select:
    return select(Recommendation).where(visible(principal))


async def get_recommendation(session: AsyncSession, *, principal: Principal,
                             recommendation_id: str | uuid.UUID) -> Recommendation:
    parsed = parse_id(recommendation_id)
    recommendation = None
    if parsed is not None:
        recommendation = await session.scalar(_scoped(principal).where(Recommendation.id == parsed))
    if recommendation is None:
        raise NotFound("检察建议不存在 / recommendation not found")
    return recommendation


async def list_recommendations(session: AsyncSession, *, principal: Principal, filters: RecommendationFilter,
                               page: PageRequest, order: RecommendationOrder = RecommendationOrder.ISSUED_AT_DESC,
                               protection: IdentityProtection | None = None) -> Page[Recommendation]:
    """One page of the recommendations the principal may see, in `order`. A search by party (of
    the case) needs `protection` (its identity number is compared by blind index)."""
    query: Select = _scoped(principal)
    if filters.statuses:
        query = query.where(Recommendation.status.in_(filters.statuses))
    if filters.urgent is not None:
        query = query.where(Recommendation.urgent.is_(filters.urgent))
    for condition in owner_filters(agency_column=Recommendation.agency_id,
                                   jurisdiction_column=Recommendation.jurisdiction_id,
                                   agency_id=filters.addressee_agency_id, jurisdiction_code=filters.jurisdiction_code):
        query = query.where(condition)
    if filters.case_id is not None:
        query = query.where(Recommendation.case_id == _filter_id(filters.case_id, "caseId"))
    if filters.overdue is not None:
        overdue = exists(select(Deadline.id).where(
            Deadline.subject_kind == SUBJECT_KIND, Deadline.subject_id == Recommendation.id,
            Deadline.met_on.is_(None), Deadline.cancelled_on.is_(None), Deadline.due_on < clock.today()))
        query = query.where(overdue if filters.overdue else ~overdue)
    if check_date(filters.issued_from, "issuedFrom"):
        query = query.where(Recommendation.issued_on >= filters.issued_from)
    if check_date(filters.issued_to, "issuedTo"):
        query = query.where(Recommendation.issued_on <= filters.issued_to)
    if filters.domain_codes:
        query = query.where(exists(select(Case.id).where(Case.id == Recommendation.case_id,
                                                         Case.domain_code.in_(filters.domain_codes))))
    if filters.party is not None:
        if protection is None:
            raise ValueError("searching by party needs the identity protection")
        terms = search_terms(filters.party, protection)
        if (party := matching_party(CaseParty, Recommendation.case_id, terms)) is not None:
            query = query.where(party)
    return await paginate(session, query, order=SORT_ORDERS[order], request=page)


def _filter_id(value: str, field: str) -> uuid.UUID:
    parsed = parse_id(value)
    if parsed is None:
        raise ValidationFailed(f"{field} 无效 / invalid {field}", field=field)
    return parsed


async def recommendations_of_cases(session: AsyncSession, *, principal: Principal, case_ids: list[uuid.UUID]
                                   ) -> dict[uuid.UUID, list[Recommendation]]:
    """The visible recommendations of each case, in the order they were issued."""
    rows = await session.scalars(_scoped(principal).where(Recommendation.case_id.in_(case_ids))
                                 .order_by(Recommendation.issued_at, Recommendation.id))
    return grouped(rows, case_ids, key=lambda row: row.case_id)


async def cases_by_id(session: AsyncSession, *, principal: Principal, case_ids: list[uuid.UUID]
                      ) -> dict[uuid.UUID, Case]:
    """The cases among `case_ids` the principal may see: an addressee agency that did not refer
    the clue sees its recommendation, not the case."""
    rows = await session.scalars(select(Case).where(Case.id.in_(case_ids), visible_to(
        principal, agency_column=Case.agency_id, jurisdiction_column=Case.jurisdiction_id)))
    return {row.id: row for row in rows}


async def status_history(session: AsyncSession, *, principal: Principal, recommendation_ids: list[uuid.UUID]
                         ) -> dict[uuid.UUID, list[RecommendationStatusChange]]:
    rows = await session.scalars(
        select(RecommendationStatusChange)
        .join(Recommendation, Recommendation.id == RecommendationStatusChange.recommendation_id)
        .where(RecommendationStatusChange.recommendation_id.in_(recommendation_ids), visible(principal))
        .order_by(RecommendationStatusChange.changed_at, RecommendationStatusChange.id))
    return grouped(rows, recommendation_ids, key=lambda row: row.recommendation_id)

