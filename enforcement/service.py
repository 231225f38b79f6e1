"""Rules for enforcement cases: what a valid entry is, when it is timely, recording one, scoped
reading and screening, and referring a clue from one. Imports (enforcement.importer) use the same
checks, column by column."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal, InvalidOperation

import orjson
import shapely
from geoalchemy2.shape import from_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from agencies.models import Agency, Role
from agencies.principal import Principal
from agencies.scoping import owner_filters, visible_to
from cases import service as case_service
from cases.models import Case
from core import clock
from core.clock import check_date
from core.errors import Conflict, NotFound, ValidationFailed
from core.loaders import grouped
from core.pagination import Page, PageRequest, paginate
from core.permissions import require
from core.text import clean_text
from deadlines.rules import ENFORCEMENT_ENTRY, rule_for
from deadlines.service import load_calendar, lock_calendar
from deadlines.workdays import WorkingCalendar, compute_due, working_days_between, years_spanned
from enforcement.models import EnforcementCase, EnforcementClueCase, EnforcementKind, EnforcementParty
from evidence.kinds import BombLimits
from evidence.service import IncomingFile
from evidence.storage import EvidenceStore
from geo.geometry import CoordinateSystem, parse_geometry
from parties.models import matching_party, visible_parties
from parties.protection import IdentityProtection
from parties.service import (
    PartyData,
    PartySearch,
    PartyView,
    ProtectedParty,
    protect_parties,
    search_terms,
)
from referral import service as referral_service
from referral.models import Referral, ReferralDomain

MAX_CASE_NUMBER_LENGTH = 100
MAX_SUMMARY_LENGTH = 5000
# Numeric(16, 2): fourteen digits of yuan.
MAX_AMOUNT = Decimal("99999999999999.99")
# Entries of one agency are serialised (a record and an import of the same number cannot both
# pass the "not there yet" check): a transaction lock on (this namespace, the agency).
AGENCY_LOCK_NAMESPACE = 710_120_26


@dataclass(frozen=True)
class EnforcementEntry:
    """An enforcement case as entered."""

    case_number: str
    kind: EnforcementKind
    domain_code: str
    decided_on: date
    summary: str
    amount: Decimal | None = None
    parties: tuple[PartyData, ...] = ()
    location: object | None = None
    crs: CoordinateSystem = CoordinateSystem.WGS84


@dataclass(frozen=True)
class CheckedEntry:
    case_number: str
    kind: EnforcementKind
    domain_code: str
    decided_on: date
    summary: str
    amount: Decimal | None
    parties: tuple[ProtectedParty, ...]
    location: BaseGeometry | None

    def fingerprint(self) -> str:
        """What entering the same case again must repeat exactly (identity numbers by blind index)."""
        payload = {"number": self.case_number, "kind": self.kind.value, "domain": self.domain_code,
                   "decided_on": self.decided_on.isoformat(), "summary": self.summary,
                   "amount": None if self.amount is None else f"{self.amount:.2f}",
                   "parties": [party.fingerprint() for party in self.parties],
                   # Rounded to about a centimetre: a point read back from a spreadsheet's floats
                   # is the same point.
                   "location": None if self.location is None else _rounded_wkt(self.location)}
        return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _rounded_wkt(geometry: BaseGeometry) -> str:
    return shapely.to_wkt(geometry, rounding_precision=7, trim=True)


# Each check below raises VALIDATION (or INVALID_GEOMETRY) naming the field it checks: a record
# stops at the first, an import reports every column of every row.

def checked_case_number(value: str | None) -> str:
    return clean_text(value, "caseNumber", MAX_CASE_NUMBER_LENGTH, required=True)


def checked_summary(value: str | None) -> str:
    return clean_text(value, "summary", MAX_SUMMARY_LENGTH, required=True)


def checked_decided_on(value: date | None) -> date:
    if value is None:
        raise ValidationFailed("决定日期不能为空 / decidedOn is required", field="decidedOn")
    return check_date(value, "decidedOn", not_after_today=True)


def checked_amount(value: Decimal | str | None) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        raise ValidationFailed("金额应为数字（元）/ amount must be a number of yuan", field="amount")
    if amount < 0 or amount > MAX_AMOUNT:
        raise ValidationFailed(f"金额应在 0 到 {MAX_AMOUNT} 元之间 / amount must lie between 0 and {MAX_AMOUNT} yuan",
                               field="amount")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationFailed("金额最多两位小数（分）/ amount has at most two decimals (fen)", field="amount")
    return amount.quantize(Decimal("0.01"))


def checked_domain(code: str | None, active_domains: set[str]) -> str:
    if code not in active_domains:
        raise ValidationFailed(f"未知的领域 {code} / unknown domain {code}", field="domain")
    return code


def checked_location(value: object | None, crs: CoordinateSystem) -> BaseGeometry | None:
    if value is None:
        return None
    return parse_geometry(value, crs, field="location")


async def active_domains(session: AsyncSession) -> set[str]:
    return set(await session.scalars(select(ReferralDomain.code).where(ReferralDomain.is_active)))


@dataclass(frozen=True)
class EntryTimeliness:
    due_on: date
    on_time: bool
    working_days_late: int
    rule_version: str
    calendar_version: str
    provisional: bool


class EntryClock:
    """Timeliness of entries made on `entered_on`, computed on the working calendar with the
    deadlines package's functions (rule ENFORCEMENT_ENTRY: the 7th working day after the decision,
    the decision day not counted). A pure computation, not an opened deadline: the entry is the act
    the period waits for and happens at the same moment as its computation, so there is nothing
    to remind of or escalate, and an import of 100k records opens no 100k deadline rows. Decision
    dates are shared by many rows of an import: each is computed once."""

    def __init__(self, session: AsyncSession, entered_on: date):
        self.session = session
        self.entered_on = entered_on
        self.rule = rule_for(ENFORCEMENT_ENTRY)
        self.calendar = WorkingCalendar()
        self._known: dict[date, EntryTimeliness] = {}

    async def timeliness(self, decided_on: date) -> EntryTimeliness:
        if (found := self._known.get(decided_on)) is not None:
            return found
        # The period (7 working days) never reaches two years past the decision.
        years = years_spanned(decided_on, max(self.entered_on, decided_on)) + [decided_on.year + 1]
        await load_calendar(self.session, years, into=self.calendar)
        computation = compute_due(self.rule, decided_on, self.calendar)
        await load_calendar(self.session, years_spanned(computation.due_on, max(self.entered_on, computation.due_on)),
                            into=self.calendar)
        on_time = self.entered_on <= computation.due_on
        late = 0 if on_time else working_days_between(self.calendar, computation.due_on, self.entered_on)
        found = EntryTimeliness(due_on=computation.due_on, on_time=on_time, working_days_late=late,
                                rule_version=self.rule.version, calendar_version=computation.calendar_version,
                                provisional=computation.provisional)
        self._known[decided_on] = found
        return found


async def lock_agency_entries(session: AsyncSession, agency_id: uuid.UUID) -> None:
    await session.execute(select(func.pg_advisory_xact_lock(AGENCY_LOCK_NAMESPACE, func.hashtext(str(agency_id)))))


def _party_rows(case_id: uuid.UUID, parties: tuple[ProtectedParty, ...]) -> list[EnforcementParty]:
    return [EnforcementParty(enforcement_case_id=case_id, position=position, kind=party.kind, name=party.name,
                             role=party.role, uscc=party.uscc, id_number_ciphertext=party.id_number_ciphertext,
                             id_number_masked=party.id_number_masked, id_number_index=party.id_number_index)
            for position, party in enumerate(parties)]


async def record_enforcement_case(session: AsyncSession, *, principal: Principal, entry: EnforcementEntry,
                                  protection: IdentityProtection) -> EnforcementCase:
    """An agency liaison enters one of its agency's enforcement cases. A number the agency has
    already entered is CONFLICT (field caseNumber), whatever the content."""
    require(principal, Role.AGENCY_LIAISON)
    checked = CheckedEntry(
        case_number=checked_case_number(entry.case_number), kind=EnforcementKind(entry.kind),
        domain_code=checked_domain(entry.domain_code, await active_domains(session)),
        decided_on=checked_decided_on(entry.decided_on), summary=checked_summary(entry.summary),
        amount=checked_amount(entry.amount), parties=tuple(protect_parties(entry.parties, protection)),
        location=checked_location(entry.location, entry.crs))
    await lock_agency_entries(session, principal.agency_id)
    existing = await session.scalar(select(EnforcementCase.id).where(
        EnforcementCase.agency_id == principal.agency_id, EnforcementCase.case_number == checked.case_number))
    if existing is not None:
        raise Conflict("本机关已录入该案件编号 / your agency has already entered this case number",
                       field="caseNumber")
    jurisdiction_id = await session.scalar(select(Agency.jurisdiction_id).where(Agency.id == principal.agency_id))
    await lock_calendar(session)
    entered_on = clock.today()
    timeliness = await EntryClock(session, entered_on).timeliness(checked.decided_on)
    case = EnforcementCase(
        id=uuid.uuid4(), agency_id=principal.agency_id, jurisdiction_id=jurisdiction_id,
        case_number=checked.case_number, kind=checked.kind, domain_code=checked.domain_code,
        decided_on=checked.decided_on, amount=checked.amount, summary=checked.summary,
        location=from_shape(checked.location, srid=4326) if checked.location is not None else None,
        entered_on=entered_on, entry_due_on=timeliness.due_on, entered_on_time=timeliness.on_time,
        entry_working_days_late=timeliness.working_days_late, entry_rule_version=timeliness.rule_version,
        entry_calendar_version=timeliness.calendar_version, entry_provisional=timeliness.provisional,
        content_fingerprint=checked.fingerprint())
    case.set_actor(principal)
    session.add(case)
    await session.flush()
    session.add_all(_party_rows(case.id, checked.parties))
    await session.flush()
    return case


def visible(principal: Principal):
    return visible_to(principal, agency_column=EnforcementCase.agency_id,
                      jurisdiction_column=EnforcementCase.jurisdiction_id)


async def get_enforcement_case(session: AsyncSession, *, principal: Principal, case_id: str) -> EnforcementCase:
    try:
        parsed = uuid.UUID(str(case_id))
    except ValueError:
        parsed = None
    case = None
    if parsed is not None:
        case = await session.scalar(select(EnforcementCase).where(EnforcementCase.id == parsed, visible(principal)))
    if case is None:
        raise NotFound("执法案件不存在 / enforcement case not found")
    return case


@dataclass(frozen=True)
class EnforcementFilter:
    domain_codes: tuple[str, ...] = ()
    kinds: tuple[EnforcementKind, ...] = ()
    agency_id: str | None = None
    jurisdiction_code: str | None = None
    decided_from: date | None = None
    decided_to: date | None = None
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    party: PartySearch | None = None
    entered_on_time: bool | None = None
    referred: bool | None = None


async def list_enforcement_cases(session: AsyncSession, *, principal: Principal, filters: EnforcementFilter,
                                 page: PageRequest, protection: IdentityProtection) -> Page[EnforcementCase]:
    """One page of the enforcement cases the principal may see, latest entries first: the
    screening prosecutors run (by domain, kind, decision dates, amount, party)."""
    query: Select = select(EnforcementCase).where(visible(principal))
    if filters.domain_codes:
        query = query.where(EnforcementCase.domain_code.in_(filters.domain_codes))
    if filters.kinds:
        query = query.where(EnforcementCase.kind.in_(filters.kinds))
    for condition in owner_filters(agency_column=EnforcementCase.agency_id,
                                   jurisdiction_column=EnforcementCase.jurisdiction_id,
                                   agency_id=filters.agency_id, jurisdiction_code=filters.jurisdiction_code):
        query = query.where(condition)
    if check_date(filters.decided_from, "decidedFrom"):
        query = query.where(EnforcementCase.decided_on >= filters.decided_from)
    if check_date(filters.decided_to, "decidedTo"):
        query = query.where(EnforcementCase.decided_on <= filters.decided_to)
    if filters.amount_min is not None:
        query = query.where(EnforcementCase.amount >= _bound(filters.amount_min, "amountMin"))
    if filters.amount_max is not None:
        query = query.where(EnforcementCase.amount <= _bound(filters.amount_max, "amountMax"))
    if filters.entered_on_time is not None:
        query = query.where(EnforcementCase.entered_on_time.is_(filters.entered_on_time))
    if filters.referred is not None:
        # Whether a clue came of a record (a referral by its agency, or a case a prosecutor opened)
        # is a fact of the record, counted whoever may see the referral or case: a liaison sees
        # only its own records, and the prosecutors of their jurisdiction would see both.
        referred = (select(Referral.id).where(Referral.enforcement_case_id == EnforcementCase.id).exists()
                    | select(EnforcementClueCase.id)
                    .where(EnforcementClueCase.enforcement_case_id == EnforcementCase.id).exists())
        query = query.where(referred if filters.referred else ~referred)
    if filters.party is not None:
        condition = matching_party(EnforcementParty, EnforcementCase.id, search_terms(filters.party, protection))
        if condition is not None:
            query = query.where(condition)
    return await paginate(session, query, at_column=EnforcementCase.entered_at, id_column=EnforcementCase.id,
                          request=page)


def _bound(value: Decimal, name: str) -> Decimal:
    if not value.is_finite():
        raise ValidationFailed(f"{name} 应为数字 / {name} must be a number", field=name)
    return value


async def parties_of(session: AsyncSession, *, principal: Principal, protection: IdentityProtection,
                     case_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[PartyView]]:
    """The parties of the visible enforcement cases among `case_ids`, in the order given, an
    identity number in full only for prosecutors of the jurisdiction the record belongs to
    (the same rule as a referral's parties)."""
    return await visible_parties(session, principal=principal, protection=protection, party_model=EnforcementParty,
                                 owner_model=EnforcementCase, owner_ids=case_ids, visible=visible(principal))


async def referrals_of(session: AsyncSession, *, principal: Principal, case_ids: list[uuid.UUID]
                       ) -> dict[uuid.UUID, list[Referral]]:
    """The referrals made from the enforcement cases among `case_ids` that the principal may see."""
    rows = await session.scalars(
        select(Referral).where(Referral.enforcement_case_id.in_(case_ids),
                               visible_to(principal, agency_column=Referral.agency_id,
                                          jurisdiction_column=Referral.jurisdiction_id))
        .order_by(Referral.submitted_at, Referral.id))
    return grouped(rows, case_ids, key=lambda row: row.enforcement_case_id)


async def open_referral(session: AsyncSession, *, principal: Principal, store: EvidenceStore,
                        enforcement_case_id: str, data: referral_service.ReferralSubmission,
                        files: list[IncomingFile], max_upload_bytes: int, limits: BombLimits,
                        protection: IdentityProtection) -> Referral:
    """The agency refers a clue that one of its own enforcement cases revealed (e.g. a penalty for
    occupying farmland with no restoration since): an ordinary referral, submitted by the agency
    that holds the record, linked to it. Whoever cannot see the record is told NOT_FOUND; a
    prosecutor, assessor or administrator who can see it is FORBIDDEN (a referral is an agency's
    submission). Without parties of its own, the referral names the record's parties."""
    record = await get_enforcement_case(session, principal=principal, case_id=enforcement_case_id)
    require(principal, Role.AGENCY_LIAISON)
    parties = data.parties or await _record_parties(session, record, protection)
    return await referral_service.submit_referral(
        session, principal=principal, store=store,
        data=replace(data, enforcement_case_id=record.id, parties=parties), files=files,
        max_upload_bytes=max_upload_bytes, limits=limits, protection=protection)


async def _record_parties(session: AsyncSession, record: EnforcementCase,
                          protection: IdentityProtection) -> tuple[PartyData, ...]:
    """The record's parties as entered, to be named by what is opened from it. Identity numbers
    are decrypted only to be protected again as the new rows' own; they are never shown."""
    rows = await session.scalars(select(EnforcementParty).where(EnforcementParty.enforcement_case_id == record.id)
                                 .order_by(EnforcementParty.position))
    return tuple(PartyData(kind=row.kind, name=row.name, role=row.role, uscc=row.uscc,
                           id_number=protection.decrypt(row.id_number_ciphertext)
                           if row.id_number_ciphertext is not None else None) for row in rows)


async def open_case_from_record(session: AsyncSession, *, principal: Principal, enforcement_case_id: str,
                                opening: case_service.CaseOpening, protection: IdentityProtection) -> Case:
    """A prosecutor who found a clue by screening enforcement cases opens a case from the
    procuratorate's own clue (cases.service.open_case: no referring agency, numbered by the
    prosecutor's procuratorate), linked to the record. Outside the prosecutor's scope the record
    is NOT_FOUND; to every other role that sees it, FORBIDDEN. Without parties of its own, the
    case names the record's."""
    record = await get_enforcement_case(session, principal=principal, case_id=enforcement_case_id)
    require(principal, Role.PROSECUTOR)
    parties = opening.parties or await _record_parties(session, record, protection)
    case = await case_service.open_case(session, principal=principal, opening=replace(opening, parties=parties),
                                        protection=protection)
    session.add(EnforcementClueCase(enforcement_case_id=record.id, case_id=case.id))
    await session.flush()
    return case


async def cases_of(session: AsyncSession, *, principal: Principal, record_ids: list[uuid.UUID]
                   ) -> dict[uuid.UUID, list[Case]]:
    """The cases opened from the records among `record_ids` that the principal may see (own-clue
    cases have no agency: only the procuratorates see them)."""
    rows = await session.execute(
        select(Case, EnforcementClueCase.enforcement_case_id)
        .join(EnforcementClueCase, EnforcementClueCase.case_id == Case.id)
        .where(EnforcementClueCase.enforcement_case_id.in_(record_ids), case_service.visible(principal))
        .order_by(Case.filed_at, Case.id))
    groups = grouped(rows, record_ids, key=lambda row: row[1])
    return {record_id: [case for case, _ in group] for record_id, group in groups.items()}
