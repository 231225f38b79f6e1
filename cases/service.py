"""Rules for the case itself: filing one from a registered referral or opening one from the
procuratorate's own clue, serving its decision, its parties and internal notes, scoped reading.
The stages after filing are in cases.procedure, hearings in cases.hearings."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import date

from geoalchemy2.shape import from_shape
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from agencies.models import Procuratorate, Role
from agencies.principal import Principal
from agencies.scoping import owner_filters, visible_to
from cases.flows import CASE_MACHINE, CaseAction
from cases.models import Case, CaseKind, CaseNote, CaseParty, CaseStatus, CaseStatusChange
from core import clock
from core.clock import check_date
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.loaders import grouped
from core.numbering import DocumentKind, allocate_document_number
from core.pagination import Page, PageRequest, SortOrder, paginate
from core.permissions import require
from core.state_machine import record_creation
from core.text import clean_text
from geo.geometry import CoordinateSystem, parse_geometry
from parties.models import matching_party, visible_parties
from parties.protection import IdentityProtection
from parties.service import PartyData, PartySearch, PartyView, protect_parties, search_terms
from referral import service as referral_service
from referral.flows import ReferralAction
from referral.models import Harm, ReferralDomain, ReferralParty

MAX_NOTE_LENGTH = 5000


@dataclass(frozen=True)
class CaseFiling:
    kind: CaseKind
    decision_served_on: date | None = None


@dataclass(frozen=True)
class CaseOpening:
    """A case from the procuratorate's own clue (自行发现): what a referral would have brought."""

    kind: CaseKind
    title: str
    domain_code: str
    facts: str
    geometry: object
    crs: CoordinateSystem = CoordinateSystem.WGS84
    address: str | None = None
    harms: tuple[Harm, ...] = (Harm.PUBLIC_INTEREST,)
    parties: tuple[PartyData, ...] = ()


class CaseOrder(str, enum.Enum):
    FILED_AT_DESC = "FILED_AT_DESC"
    FILED_AT_ASC = "FILED_AT_ASC"
    NUMBER_ASC = "NUMBER_ASC"
    NUMBER_DESC = "NUMBER_DESC"


SORT_ORDERS: dict[CaseOrder, SortOrder] = {
    CaseOrder.FILED_AT_DESC: SortOrder(columns=(Case.filed_at, Case.id)),
    CaseOrder.FILED_AT_ASC: SortOrder(columns=(Case.filed_at, Case.id), ascending=True),
    # By year and serial: within a procuratorate, the order its numbers were given in.
    CaseOrder.NUMBER_ASC: SortOrder(columns=(Case.number_year, Case.number_serial, Case.id), ascending=True),
    CaseOrder.NUMBER_DESC: SortOrder(columns=(Case.number_year, Case.number_serial, Case.id)),
}


@dataclass(frozen=True)
class CaseFilter:
    statuses: tuple[CaseStatus, ...] = ()
    kinds: tuple[CaseKind, ...] = ()
    domain_codes: tuple[str, ...] = ()
    agency_id: str | None = None
    jurisdiction_code: str | None = None
    filed_from: date | None = None
    filed_to: date | None = None
    party: PartySearch | None = None
    # Cases with a recommendation addressed to this agency (not always the referrer).
    addressee_agency_id: str | None = None


async def _number(session: AsyncSession, case: Case) -> None:
    """Give the case the next number of the procuratorate of its jurisdiction. Called last in a
    request: the counter's row lock is held until the transaction ends."""
    procuratorate = await session.scalar(
        select(Procuratorate).where(Procuratorate.jurisdiction_id == case.jurisdiction_id))
    number = await allocate_document_number(session, procuratorate_id=procuratorate.id,
                                            document_code=procuratorate.document_code, kind=DocumentKind.CASE,
                                            on=case.filed_on)
    case.number, case.number_year, case.number_serial = number.text, number.year, number.serial


async def file_case(session: AsyncSession, *, principal: Principal, referral_id: str,
                    filing: CaseFiling) -> Case:
    """File a case (立案) from a registered referral: the referral moves to CASE_FILED and the case
    is created FILED, numbered by the procuratorate that received the referral, in one transaction.
    The case keeps what the referral said (title, domain, facts, place, harms, parties) as filed."""
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
                decision_served_on=served_on, title=referral.title, domain_code=referral.domain_code,
                facts=referral.facts, address=referral.address, geometry=referral.geometry,
                harms_state_interests=referral.harms_state_interests,
                harms_public_interest=referral.harms_public_interest)
    record_creation(session, principal=principal, machine=CASE_MACHINE, row=case, action=CaseAction.FILE)
    parties = await session.scalars(select(ReferralParty).where(ReferralParty.referral_id == referral.id)
                                    .order_by(ReferralParty.position))
    party_rows = [CaseParty(case_id=case.id, position=party.position, kind=party.kind, name=party.name,
                            role=party.role, uscc=party.uscc, id_number_ciphertext=party.id_number_ciphertext,
                            id_number_masked=party.id_number_masked, id_number_index=party.id_number_index)
                  for party in parties]
    await _number(session, case)
    session.add(case)
    await session.flush()  # the case before its parties (no ORM relationship orders them)
    session.add_all(party_rows)
    await session.flush()
    return case


async def open_case(session: AsyncSession, *, principal: Principal, opening: CaseOpening,
                    protection: IdentityProtection) -> Case:
    """Open a case from the procuratorate's own clue: filed by a prosecutor in the jurisdiction of
    their own procuratorate, with no referring agency (so no agency sees it)."""
    transition = CASE_MACHINE.transition(CaseAction.FILE, None, principal)  # FORBIDDEN for other roles
    domain = await session.get(ReferralDomain, opening.domain_code)
    if domain is None or not domain.is_active:
        raise ValidationFailed(f"未知的领域 {opening.domain_code} / unknown domain {opening.domain_code}",
                               field="domain")
    if not opening.harms:
        raise ValidationFailed("请至少选择一项受损利益 / name at least one harm: state interests or the "
                               "public interest", field="harms")
    geometry = parse_geometry(opening.geometry, opening.crs)
    parties = protect_parties(opening.parties, protection)
    case = Case(id=uuid.uuid4(), jurisdiction_id=principal.jurisdiction_id, referral_id=None, agency_id=None,
                kind=CaseKind(opening.kind), status=transition.target, filed_on=clock.today(),
                title=clean_text(opening.title, "title", 200, required=True), domain_code=domain.code,
                facts=clean_text(opening.facts, "facts", 20000, required=True),
                address=clean_text(opening.address, "address", 300, required=False),
                geometry=from_shape(geometry, srid=4326),
                harms_state_interests=Harm.STATE_INTERESTS in opening.harms,
                harms_public_interest=Harm.PUBLIC_INTEREST in opening.harms)
    record_creation(session, principal=principal, machine=CASE_MACHINE, row=case, action=CaseAction.FILE)
    await _number(session, case)
    session.add(case)
    await session.flush()
    session.add_all(CaseParty(case_id=case.id, position=position, kind=party.kind, name=party.name,
                              role=party.role, uscc=party.uscc, id_number_ciphertext=party.id_number_ciphertext,
                              id_number_masked=party.id_number_masked, id_number_index=party.id_number_index)
                    for position, party in enumerate(parties))
    await session.flush()
    return case


async def record_decision_served(session: AsyncSession, *, principal: Principal, case_id: str,
                                 served_on: date) -> Case:
    """Record when the filing decision was served on the agency. Recorded once: the same date again
    changes nothing, a different one is CONFLICT (a served date is a fact of the file, not a draft)."""
    case = await case_for(session, principal=principal, case_id=case_id)
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


def visible(principal: Principal):
    return visible_to(principal, agency_column=Case.agency_id, jurisdiction_column=Case.jurisdiction_id)


def parse_id(raw: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        return None


async def get_case(session: AsyncSession, *, principal: Principal, case_id: str) -> Case:
    parsed = parse_id(case_id)
    case = None
    if parsed is not None:
        case = await session.scalar(select(Case).where(Case.id == parsed, visible(principal)))
    if case is None:
        raise NotFound("案件不存在 / case not found")
    return case


async def case_for(session: AsyncSession, *, principal: Principal, case_id: str, roles: tuple[Role, ...] = (
        Role.PROSECUTOR,)) -> Case:
    """The case for an act by one of `roles`: NOT_FOUND outside the principal's scope, then
    FORBIDDEN for another role (so whoever cannot see the case learns nothing of it)."""
    case = await get_case(session, principal=principal, case_id=case_id)
    require(principal, *roles)
    return case


async def list_cases(session: AsyncSession, *, principal: Principal, filters: CaseFilter, page: PageRequest,
                     order: CaseOrder = CaseOrder.FILED_AT_DESC,
                     protection: IdentityProtection | None = None) -> Page[Case]:
    """One page of the cases the principal may see, in `order`. A search by party needs
    `protection` (its identity number is compared by blind index)."""
    query: Select = select(Case).where(visible(principal))
    if filters.statuses:
        query = query.where(Case.status.in_(filters.statuses))
    if filters.kinds:
        query = query.where(Case.kind.in_(filters.kinds))
    if filters.domain_codes:
        query = query.where(Case.domain_code.in_(filters.domain_codes))
    for condition in owner_filters(agency_column=Case.agency_id, jurisdiction_column=Case.jurisdiction_id,
                                   agency_id=filters.agency_id, jurisdiction_code=filters.jurisdiction_code):
        query = query.where(condition)
    if check_date(filters.filed_from, "filedFrom"):
        query = query.where(Case.filed_on >= filters.filed_from)
    if check_date(filters.filed_to, "filedTo"):
        query = query.where(Case.filed_on <= filters.filed_to)
    if filters.party is not None:
        if protection is None:
            raise ValueError("searching by party needs the identity protection")
        if (party := matching_party(CaseParty, Case.id, search_terms(filters.party, protection))) is not None:
            query = query.where(party)
    if filters.addressee_agency_id is not None:
        # Imported here: recommendations builds on cases, not the reverse.
        from recommendations.service import addressed_to

        query = query.where(addressed_to(filters.addressee_agency_id, case_id_column=Case.id))
    return await paginate(session, query, order=SORT_ORDERS[order], request=page)


async def cases_of_referrals(session: AsyncSession, *, principal: Principal, referral_ids: list[uuid.UUID]
                             ) -> dict[uuid.UUID, Case]:
    """The visible cases filed from the referrals among `referral_ids`, by referral id."""
    rows = await session.scalars(select(Case).where(Case.referral_id.in_(referral_ids), visible(principal)))
    return {row.referral_id: row for row in rows}


async def status_history(session: AsyncSession, *, principal: Principal, case_ids: list[uuid.UUID]
                         ) -> dict[uuid.UUID, list[CaseStatusChange]]:
    """History rows of the visible cases among `case_ids`, oldest first."""
    rows = await session.scalars(select(CaseStatusChange)
                                 .join(Case, Case.id == CaseStatusChange.case_id)
                                 .where(CaseStatusChange.case_id.in_(case_ids), visible(principal))
                                 .order_by(CaseStatusChange.changed_at, CaseStatusChange.id))
    return grouped(rows, case_ids, key=lambda row: row.case_id)


async def parties_of(session: AsyncSession, *, principal: Principal, protection: IdentityProtection,
                     case_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[PartyView]]:
    """The parties of the visible cases among `case_ids`, in the order given, each identity number
    in full only for prosecutors of the procuratorate that filed the case (parties.service)."""
    return await visible_parties(session, principal=principal, protection=protection, party_model=CaseParty,
                                 owner_model=Case, owner_ids=case_ids, visible=visible(principal))


# Internal notes are the prosecutors' working record (办案笔记): no agency, assessor or
# administrator reads them, whatever else of the case they see.
NOTE_READERS = (Role.PROSECUTOR,)


async def add_note(session: AsyncSession, *, principal: Principal, case_id: str, text: str) -> CaseNote:
    case = await case_for(session, principal=principal, case_id=case_id, roles=NOTE_READERS)
    note = CaseNote(case_id=case.id, text=clean_text(text, "text", MAX_NOTE_LENGTH, required=True))
    note.set_actor(principal)
    session.add(note)
    await session.flush()
    return note


async def notes_of(session: AsyncSession, *, principal: Principal, case_ids: list[uuid.UUID]
                   ) -> dict[uuid.UUID, list[CaseNote]]:
    """The notes of the visible cases among `case_ids`, oldest first; FORBIDDEN to anyone but a
    prosecutor (the message names no case and no note)."""
    if principal.role not in NOTE_READERS:
        raise Forbidden("内部笔记仅检察官可见 / internal notes are for prosecutors only")
    rows = await session.scalars(select(CaseNote).join(Case, Case.id == CaseNote.case_id)
                                 .where(CaseNote.case_id.in_(case_ids), visible(principal))
                                 .order_by(CaseNote.created_at, CaseNote.id))
    return grouped(rows, case_ids, key=lambda row: row.case_id)
