"""Rules for referrals: submission (with evidence, idempotent), scoped reading, status changes."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field, replace
from datetime import date

from geoalchemy2.shape import from_shape, to_shape
from sqlalchemy import ColumnElement, Select, and_, bindparam, delete, exists, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Bundle

from agencies.models import Agency, Procuratorate, Role
from agencies.principal import Principal
from agencies.scoping import owner_filters, visible_to
from core import clock, unit_of_work
from core.clock import check_date, end_of_day, start_of_day
from core.db import utcnow
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.loaders import grouped
from core.numbering import DocumentKind, allocate_number
from core.pagination import Page, PageRequest, paginate
from core.permissions import require
from core.state_machine import apply_transition, creation_history
from core.text import clean_text
from deadlines.rules import REFERRAL_ACKNOWLEDGEMENT
from deadlines.service import cancel_deadlines, meet_deadline, open_deadline
from evidence.kinds import BombLimits
from evidence.models import EvidenceOwnerKind
from evidence.service import (
    EvidenceOwner,
    IncomingFile,
    abandon_uploads,
    check_description,
    digest_file,
    reserve_uploads,
    settle_uploads,
    store_evidence,
)
from evidence.storage import EvidenceStore
from geo.filters import Near, SpatialFilter, distance_meters, nearest_within, spatial_conditions
from geo.geometry import CoordinateSystem, parse_geometry
from geo.models import ReferralPlacement
from geo.overlaps import compute_referral_overlaps, overlaps_layer_condition
from geo.placement import place_referral, placement_values, relocate_referral
from notifications import events as notification_events
from parties.models import visible_parties
from parties.protection import IdentityProtection
from parties.service import (
    PartyData,
    PartySearch,
    PartyView,
    ProtectedParty,
    protect_parties,
    search_terms,
)
from referral.flows import REFERRAL_MACHINE, ReferralAction, ReferralStatus
from referral.models import Harm, Referral, ReferralDomain, ReferralParty, ReferralStatusChange

MAX_EVIDENCE_PER_SUBMISSION = 20
# The subject kind of a referral's deadlines (deadlines.service).
DEADLINE_SUBJECT = "REFERRAL"
# What acknowledges a referral, for its acknowledgement deadline: the procuratorate's first answer.
ACKNOWLEDGING_ACTIONS = frozenset({ReferralAction.REGISTER, ReferralAction.RETURN, ReferralAction.DECLINE})


@dataclass(frozen=True)
class ReferralSubmission:
    domain_code: str
    title: str
    facts: str
    geometry: object
    crs: CoordinateSystem = CoordinateSystem.WGS84
    address: str | None = None
    found_on: date | None = None
    special_investigation: str | None = None
    idempotency_key: str | None = None
    harms: tuple[Harm, ...] = (Harm.PUBLIC_INTEREST,)
    legal_basis: str | None = None
    urgent: bool = False
    parties: tuple[PartyData, ...] = ()
    # The agency means it to go to another jurisdiction than its own (geo.placement).
    cross_boundary: bool = False
    # Set by enforcement.service, which checks the record is the submitting agency's own.
    enforcement_case_id: uuid.UUID | None = None


@dataclass(frozen=True)
class ReferralFilter:
    statuses: list[ReferralStatus] = field(default_factory=list)
    domain_codes: list[str] = field(default_factory=list)
    agency_id: str | None = None
    jurisdiction_code: str | None = None
    submitted_from: date | None = None
    submitted_to: date | None = None
    spatial: SpatialFilter = field(default_factory=SpatialFilter)
    party: PartySearch | None = None
    overlaps_layer: str | None = None  # a reference layer's code


def _fingerprint(data: ReferralSubmission, file_digests: list[tuple[str, str]],
                 parties: list[ProtectedParty]) -> str:
    """What a retry under the same idempotency key must repeat exactly: the fields as sent and
    each file's name and SHA-256 (the same name and size with other bytes is another submission),
    and the parties as checked (an identity number by its blind index, never in clear)."""
    payload = {
        "domain": data.domain_code, "title": data.title, "facts": data.facts,
        "geometry": data.geometry, "crs": data.crs.value, "address": data.address,
        "found_on": data.found_on.isoformat() if data.found_on else None,
        "special_investigation": data.special_investigation,
        "files": [list(digest) for digest in file_digests],
        "harms": sorted({harm.value for harm in data.harms}), "legal_basis": data.legal_basis,
        "urgent": data.urgent, "parties": [party.fingerprint() for party in parties],
    }
    if data.enforcement_case_id is not None:  # absent otherwise: earlier fingerprints stay valid
        payload["enforcement_case"] = str(data.enforcement_case_id)
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


# Statements run on every submission, built once with parameters: building an ORM statement costs
# more CPU per request than PostgreSQL spends running it.
_EARLIER_SUBMISSION = select(Referral).where(Referral.agency_id == bindparam("agency_id"),
                                             Referral.idempotency_key == bindparam("key"))
# What a submission reads before it decides anything, in one round trip: an earlier submission
# under the same idempotency key (a retry), the domain's state and the agency's jurisdiction.
_FIRST_READ = select(
    select(Referral.id).where(Referral.agency_id == bindparam("agency_id"),
                              Referral.idempotency_key == bindparam("key")).scalar_subquery(),
    select(ReferralDomain.is_active).where(ReferralDomain.code == bindparam("domain_code")).scalar_subquery(),
    select(Agency.jurisdiction_id).where(Agency.id == bindparam("agency_id")).scalar_subquery())


def _insert_submission() -> Select:
    """The referral, its placement and its creation history row in one statement and one round
    trip, every value a parameter. When a concurrent retry committed the same idempotency key
    first, ON CONFLICT inserts no referral, the other two have no row to insert from, and the
    statement returns nothing."""
    referral_table, placement_table, history_table = (Referral.__table__, ReferralPlacement.__table__,
                                                      ReferralStatusChange.__table__)
    inserted = (insert(referral_table)
                .values({column.key: bindparam(column.key, type_=column.type) for column in referral_table.c})
                .on_conflict_do_nothing(index_elements=[Referral.agency_id, Referral.idempotency_key])
                .returning(Referral.id).cte("inserted"))

    def from_inserted(table, key: str, prefix: str):
        columns = [column for column in table.c if column.key != key]
        values = select(inserted.c.id, *(bindparam(f"{prefix}{column.key}", type_=column.type) for column in columns))
        return insert(table).from_select([table.c[key], *columns], values)

    return select(inserted.c.id).add_cte(
        from_inserted(placement_table, "referral_id", "placement_").cte("placed"),
        from_inserted(history_table, "referral_id", "history_").cte("recorded"))


_INSERT_SUBMISSION = _insert_submission()


async def _earlier_submission(session: AsyncSession, principal: Principal, key: str) -> Referral | None:
    return await session.scalar(_EARLIER_SUBMISSION, {"agency_id": principal.agency_id, "key": key})


def _same_submission_or_conflict(existing: Referral, fingerprint: str) -> Referral:
    if existing.submission_fingerprint != fingerprint:
        raise Conflict("该幂等键已用于另一份不同的移送 / this idempotency key was already used for a "
                       "different submission", field="idempotencyKey")
    return existing


async def submit_referral(session: AsyncSession, *, principal: Principal, store: EvidenceStore,
                          data: ReferralSubmission, files: list[IncomingFile],
                          max_upload_bytes: int, limits: BombLimits, protection: IdentityProtection) -> Referral:
    transition = REFERRAL_MACHINE.transition(ReferralAction.SUBMIT, None, principal)
    idempotency_key = clean_text(data.idempotency_key, "idempotencyKey", 100, required=False)
    parties = protect_parties(data.parties, protection)
    earlier_id, domain_is_active, jurisdiction_id = (await session.execute(_FIRST_READ, {
        "agency_id": principal.agency_id, "key": idempotency_key, "domain_code": data.domain_code})).one()
    if earlier_id is not None:
        existing = await session.get(Referral, earlier_id)
        # A retry: read its files only to compare them with the first submission's, with the
        # connection handed back meanwhile (nothing has been written).
        await unit_of_work.checkpoint(session)
        digests = [await digest_file(incoming, max_bytes=max_upload_bytes, field=f"evidence.{index}")
                   for index, incoming in enumerate(files)]
        return _same_submission_or_conflict(existing, _fingerprint(data, digests, parties))

    if len(files) > MAX_EVIDENCE_PER_SUBMISSION:
        raise ValidationFailed(f"一次最多提交{MAX_EVIDENCE_PER_SUBMISSION}个证据文件 / at most "
                               f"{MAX_EVIDENCE_PER_SUBMISSION} files per submission", field="evidence")
    if not domain_is_active:  # None: no such domain
        raise ValidationFailed(f"未知的线索领域 {data.domain_code} / unknown domain {data.domain_code}",
                               field="domain")
    geometry = parse_geometry(data.geometry, data.crs)
    # Where it lies decides where it goes: the district holding most of it receives it, and one
    # outside the agency's jurisdiction is refused unless declared cross-boundary.
    placement = await place_referral(session, geometry=geometry, agency_jurisdiction_id=jurisdiction_id,
                                     cross_boundary=data.cross_boundary)
    jurisdiction_id = placement.jurisdiction_id
    check_date(data.found_on, "foundOn", not_after_today=True)
    if not data.harms:
        raise ValidationFailed("请至少选择一项受损利益 / name at least one harm: state interests or the "
                               "public interest", field="harms")
    referral = Referral(
        id=uuid.uuid4(), agency_id=principal.agency_id, jurisdiction_id=jurisdiction_id,
        domain_code=data.domain_code, title=clean_text(data.title, "title", 200, required=True),
        facts=clean_text(data.facts, "facts", 20000, required=True),
        address=clean_text(data.address, "address", 300, required=False),
        geometry=from_shape(geometry, srid=4326), found_on=data.found_on,
        special_investigation=clean_text(data.special_investigation, "specialInvestigation", 200,
                                          required=False),
        status=transition.target, submitted_by_user_id=principal.user_id,
        submitted_by_api_key_id=principal.api_key_id, idempotency_key=idempotency_key,
        harms_state_interests=Harm.STATE_INTERESTS in data.harms,
        harms_public_interest=Harm.PUBLIC_INTEREST in data.harms,
        legal_basis=clean_text(data.legal_basis, "legalBasis", 2000, required=False), urgent=data.urgent,
        version=1, enforcement_case_id=data.enforcement_case_id)
    for index, incoming in enumerate(files):
        check_description(incoming, field=f"evidence.{index}")

    # The files go to the store before the referral's rows are written, with no connection held
    # meanwhile; their keys are recorded as pending first, so that nothing is lost or left behind
    # whatever happens next (see evidence.service.reserve_uploads).
    reservations = await reserve_uploads(session, owner_prefix=str(referral.id), count=len(files))
    owner = EvidenceOwner(kind=EvidenceOwnerKind.REFERRAL, id=referral.id, agency_id=referral.agency_id,
                          jurisdiction_id=referral.jurisdiction_id)
    evidence = [await store_evidence(session, principal=principal, store=store, owner=owner,
                                     reservation=reservation, incoming=incoming, max_bytes=max_upload_bytes, limits=limits,
                                     field=f"evidence.{index}")
                for index, (reservation, incoming) in enumerate(zip(reservations, files, strict=True))]
    referral.submission_fingerprint = _fingerprint(data, [(row.filename, row.sha256) for row in evidence],
                                                   parties)
    keys = [reservation.object_key for reservation in reservations]
    # A plain INSERT … ON CONFLICT DO NOTHING rather than an ORM flush inside a savepoint: the
    # same outcome for a concurrent retry with two round trips (SAVEPOINT, RELEASE) and the unit
    # of work's bookkeeping fewer. The object stays outside the session, fully populated.
    referral.submitted_at = utcnow()
    history = creation_history(principal=principal, machine=REFERRAL_MACHINE, row=referral,
                               action=ReferralAction.SUBMIT)
    history.id, history.changed_at = uuid.uuid4(), referral.submitted_at
    inserted = await session.scalar(_INSERT_SUBMISSION, {
        **{column.key: getattr(referral, column.key) for column in Referral.__table__.c},
        **{f"placement_{key}": value for key, value in placement_values(placement).items()},
        "placement_placed_at": referral.submitted_at,
        **{f"history_{column.key}": getattr(history, column.key) for column in ReferralStatusChange.__table__.c
           if column.key != "referral_id"}})
    if inserted is None:
        # A concurrent retry with the same idempotency key committed first: answer with its
        # result, and leave this attempt's objects to the janitor.
        existing = await _earlier_submission(session, principal, idempotency_key)
        await abandon_uploads(session, keys)
        return _same_submission_or_conflict(existing, referral.submission_fingerprint)
    session.add_all(evidence)
    session.add_all(_party_rows(referral, parties))
    await compute_referral_overlaps(session, referral_id=referral.id, geometry=geometry)
    await open_deadline(session, rule=REFERRAL_ACKNOWLEDGEMENT, start_on=clock.today(), subject_kind=DEADLINE_SUBJECT,
                        subject_id=referral.id, agency_id=referral.agency_id, jurisdiction_id=referral.jurisdiction_id)
    await notification_events.referral_submitted(session, referral)
    await settle_uploads(session, keys)
    await session.flush()
    return referral


def _party_rows(referral: Referral, parties: list[ProtectedParty]) -> list[ReferralParty]:
    return [ReferralParty(referral_id=referral.id, position=position, kind=party.kind, name=party.name,
                          role=party.role, uscc=party.uscc, id_number_ciphertext=party.id_number_ciphertext,
                          id_number_masked=party.id_number_masked, id_number_index=party.id_number_index)
            for position, party in enumerate(parties)]


def _party_condition(search: PartySearch, protection: IdentityProtection | None):
    """EXISTS one party of the referral matching every term given, or None for an empty search.
    The terms are parameters: the identity number only as its blind index."""
    if protection is None:
        raise ValueError("searching by party needs the identity protection")
    terms = search_terms(search, protection)
    if terms.is_empty:
        return None
    party = select(ReferralParty.id).where(ReferralParty.referral_id == Referral.id)
    if terms.uscc:
        party = party.where(ReferralParty.uscc == terms.uscc)
    if terms.id_number_index:
        party = party.where(ReferralParty.id_number_index == terms.id_number_index)
    if terms.name_prefix_pattern:
        party = party.where(func.lower(ReferralParty.name).like(terms.name_prefix_pattern))
    return exists(party)


def _scoped(principal: Principal) -> Select:
    return select(Referral).where(visible_to(principal, agency_column=Referral.agency_id,
                                             jurisdiction_column=Referral.jurisdiction_id))


async def get_referral(session: AsyncSession, *, principal: Principal, referral_id: str) -> Referral:
    try:
        parsed = uuid.UUID(str(referral_id))
    except ValueError:
        parsed = None
    referral = None
    if parsed is not None:
        referral = await session.scalar(_scoped(principal).where(Referral.id == parsed))
    if referral is None:
        raise NotFound("线索不存在 / referral not found")
    return referral


def listed_referrals(principal: Principal, filters: ReferralFilter,
                     protection: IdentityProtection | None = None) -> list[ColumnElement[bool]]:
    """The conditions on `Referral` of a list: the principal's scope and the filters, checked (a
    bad filter value raises here). Shared by `list_referrals` and the planned query
    (referral.planner), so both list exactly the same rows."""
    conditions = [visible_to(principal, agency_column=Referral.agency_id,
                             jurisdiction_column=Referral.jurisdiction_id)]
    if filters.statuses:
        conditions.append(Referral.status.in_(filters.statuses))
    if filters.domain_codes:
        conditions.append(Referral.domain_code.in_(filters.domain_codes))
    conditions += owner_filters(agency_column=Referral.agency_id, jurisdiction_column=Referral.jurisdiction_id,
                                agency_id=filters.agency_id, jurisdiction_code=filters.jurisdiction_code)
    if check_date(filters.submitted_from, "submittedFrom"):
        conditions.append(Referral.submitted_at >= start_of_day(filters.submitted_from))
    if check_date(filters.submitted_to, "submittedTo"):
        conditions.append(Referral.submitted_at < end_of_day(filters.submitted_to))
    conditions += spatial_conditions(Referral.geometry, filters.spatial)
    if filters.party is not None and (party := _party_condition(filters.party, protection)) is not None:
        conditions.append(party)
    if filters.overlaps_layer:
        conditions.append(overlaps_layer_condition(filters.overlaps_layer))
    return conditions


async def list_referrals(session: AsyncSession, *, principal: Principal, filters: ReferralFilter,
                         page: PageRequest, with_agency: bool = False, with_facts: bool = True,
                         protection: IdentityProtection | None = None,
                         ) -> Page[Referral] | Page[tuple[Referral, Agency | None]]:
    """One page of the referrals the principal may see, newest first.

    The items are rows with the referral table's columns (read-only, not ORM objects: building
    and tracking an ORM instance per row cost more than the rest of the query's Python work).
    `with_agency` fetches each referral's agency in the same statement, as far as the principal
    may see it (None otherwise), and makes each item a (referral, agency) pair. Without
    `with_facts` the long `facts` text stays in the database (the rows have no `facts`). A search
    by party needs `protection` (its identity number is compared by blind index)."""
    columns = [column for column in Referral.__table__.c if with_facts or column.key != "facts"]
    query = select(Bundle("referral", *columns)).where(*listed_referrals(principal, filters, protection))
    filtered = query
    if with_agency:
        # The same rule as agencies.service.agencies_by_id: an agency the principal may not see
        # (one that moved out of a prosecutor's jurisdictions since) comes back as None.
        query = query.add_columns(Bundle("agency", *Agency.__table__.c)).select_from(Referral).outerjoin(
            Agency, and_(Agency.id == Referral.agency_id,
                         visible_to(principal, agency_column=Agency.id, jurisdiction_column=Agency.jurisdiction_id)))
    result = await paginate(session, query, at_column=Referral.submitted_at, id_column=Referral.id,
                            request=page, counted=filtered)
    if with_agency:  # the outer join's miss is a row of nulls
        result = replace(result, items=[(referral, agency if agency.id is not None else None)
                                        for referral, agency in result.items])
    return result


MAX_NEAR_RESULTS = 50


def near_search(principal: Principal, *, geometry: object, meters: float,
                crs: CoordinateSystem = CoordinateSystem.WGS84) -> tuple[list[ColumnElement[bool]], ColumnElement]:
    """The conditions (scope and reach) and the distance of a search by distance, checked.
    Shared by `referrals_near` and the planned query (referral.planner)."""
    distance = distance_meters(Referral.geometry, geometry, crs)
    scope = visible_to(principal, agency_column=Referral.agency_id, jurisdiction_column=Referral.jurisdiction_id)
    reach = nearest_within(Referral.geometry, Near(point=geometry, meters=meters), crs, among=scope,
                           count=MAX_NEAR_RESULTS, field="geometry")
    return [scope, *reach], distance


async def referrals_near(session: AsyncSession, *, principal: Principal, geometry: object, meters: float,
                         crs: CoordinateSystem = CoordinateSystem.WGS84) -> list[tuple[Referral, float]]:
    """Referrals the caller may see within `meters` of `geometry`, nearest first: possible
    duplicates to check before submitting or registering a clue."""
    conditions, distance = near_search(principal, geometry=geometry, meters=meters, crs=crs)
    query = (select(Referral, distance).where(*conditions)
             .order_by(distance, Referral.id).limit(MAX_NEAR_RESULTS))
    return [(row, float(meters_away)) for row, meters_away in (await session.execute(query)).all()]


async def change_status(session: AsyncSession, *, principal: Principal, referral_id: str,
                        action: ReferralAction, reason: str | None = None) -> Referral:
    referral = await get_referral(session, principal=principal, referral_id=referral_id)
    action = ReferralAction(action)
    await _transition(session, principal, referral, action, reason)
    if action in ACKNOWLEDGING_ACTIONS:  # met once: a later answer keeps the first date
        await meet_deadline(session, subject_kind=DEADLINE_SUBJECT, subject_id=referral.id,
                            rule=REFERRAL_ACKNOWLEDGEMENT, met_on=clock.today())
    elif action is ReferralAction.WITHDRAW:
        await cancel_deadlines(session, subject_kind=DEADLINE_SUBJECT, subject_id=referral.id,
                               cancelled_on=clock.today())
    # A referral returned after registration and registered again keeps its first number.
    if action is ReferralAction.REGISTER and referral.number is None:
        referral.number = await _registration_number(session, referral)
    await notification_events.referral_status_changed(session, referral, action)
    await session.flush()
    return referral


async def _transition(session: AsyncSession, principal: Principal, referral: Referral, action: ReferralAction,
                      reason: str | None = None) -> None:
    await apply_transition(session, principal=principal, machine=REFERRAL_MACHINE, row=referral, action=action,
                           reason=reason)
    referral.version += 1


@dataclass(frozen=True)
class ReferralEdit:
    """What a resubmission changes: each field left None stays as it was; `parties`, when given,
    replaces the whole list. Evidence is not edited here (it is added by its own operations)."""

    title: str | None = None
    facts: str | None = None
    address: str | None = None
    geometry: object | None = None
    crs: CoordinateSystem = CoordinateSystem.WGS84
    found_on: date | None = None
    legal_basis: str | None = None
    urgent: bool | None = None
    harms: tuple[Harm, ...] | None = None
    parties: tuple[PartyData, ...] | None = None
    cross_boundary: bool | None = None  # None: as declared before


def _checked_harms(harms: tuple[Harm, ...]) -> tuple[Harm, ...]:
    if not harms:
        raise ValidationFailed("请至少选择一项受损利益 / name at least one harm: state interests or the "
                               "public interest", field="harms")
    return harms


def _edited_columns(edit: ReferralEdit) -> dict[str, object]:
    """The columns an edit sets, checked as a submission's are."""
    columns: dict[str, object] = {}
    if edit.title is not None:
        columns["title"] = clean_text(edit.title, "title", 200, required=True)
    if edit.facts is not None:
        columns["facts"] = clean_text(edit.facts, "facts", 20000, required=True)
    if edit.address is not None:
        columns["address"] = clean_text(edit.address, "address", 300, required=False)
    if edit.geometry is not None:
        columns["geometry"] = from_shape(parse_geometry(edit.geometry, edit.crs), srid=4326)
    if edit.found_on is not None:
        columns["found_on"] = check_date(edit.found_on, "foundOn", not_after_today=True)
    if edit.legal_basis is not None:
        columns["legal_basis"] = clean_text(edit.legal_basis, "legalBasis", 2000, required=False)
    if edit.urgent is not None:
        columns["urgent"] = edit.urgent
    if edit.harms is not None:
        harms = _checked_harms(edit.harms)
        columns["harms_state_interests"] = Harm.STATE_INTERESTS in harms
        columns["harms_public_interest"] = Harm.PUBLIC_INTEREST in harms
    return columns


async def resubmit_referral(session: AsyncSession, *, principal: Principal, referral_id: str, version: int,
                            edit: ReferralEdit, protection: IdentityProtection) -> Referral:
    """The referring agency edits a returned referral and sends it back (RETURNED → SUBMITTED).
    `version` is the version the edit was based on: any other is CONFLICT, and nothing changes."""
    referral = await get_referral(session, principal=principal, referral_id=referral_id)
    require(principal, *REFERRAL_MACHINE.roles_for(ReferralAction.RESUBMIT))
    # Compared under the row lock: of two edits based on the same version, the second waits for
    # the first to commit and then sees the version it raised.
    await session.refresh(referral, with_for_update=True)
    if referral.version != version:
        raise Conflict(f"线索已被修改，请基于最新版本（{referral.version}）重新编辑 / the referral has "
                       f"changed since version {version}; it is now at version {referral.version}",
                       field="version")
    REFERRAL_MACHINE.transition(ReferralAction.RESUBMIT, referral.status, principal)
    columns = _edited_columns(edit)
    parties = protect_parties(edit.parties, protection) if edit.parties is not None else None
    await _transition(session, principal, referral, ReferralAction.RESUBMIT)
    for name, value in columns.items():
        setattr(referral, name, value)
    if "geometry" in columns:  # where it lies now decides where it goes (geo.placement)
        await relocate_referral(session, referral=referral, geometry=to_shape(columns["geometry"]),
                                cross_boundary=edit.cross_boundary)
    if parties is not None:
        await session.execute(delete(ReferralParty).where(ReferralParty.referral_id == referral.id))
        session.add_all(_party_rows(referral, parties))
    await session.flush()
    return referral


async def _registration_number(session: AsyncSession, referral: Referral) -> str:
    """The next registration number of the receiving procuratorate (the referral's jurisdiction's),
    whoever registers it: a city prosecutor registering a district's clue uses the district's."""
    procuratorate = await session.scalar(
        select(Procuratorate).where(Procuratorate.jurisdiction_id == referral.jurisdiction_id))
    return await allocate_number(session, procuratorate_id=procuratorate.id,
                                 document_code=procuratorate.document_code,
                                 kind=DocumentKind.REFERRAL_REGISTRATION)


async def status_history(session: AsyncSession, *, principal: Principal, referral_ids: list[uuid.UUID]
                         ) -> dict[uuid.UUID, list[ReferralStatusChange]]:
    """History rows of the referrals among `referral_ids` the principal may see."""
    rows = await session.scalars(select(ReferralStatusChange)
                                 .join(Referral, Referral.id == ReferralStatusChange.referral_id)
                                 .where(ReferralStatusChange.referral_id.in_(referral_ids),
                                        visible_to(principal, agency_column=Referral.agency_id,
                                                   jurisdiction_column=Referral.jurisdiction_id))
                                 .order_by(ReferralStatusChange.changed_at, ReferralStatusChange.id))
    return grouped(rows, referral_ids, key=lambda row: row.referral_id)


async def parties_of(session: AsyncSession, *, principal: Principal, protection: IdentityProtection,
                     referral_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[PartyView]]:
    """The parties of the referrals among `referral_ids` the principal may see, in the order given,
    each identity number in full only for prosecutors of the receiving procuratorate."""
    return await visible_parties(session, principal=principal, protection=protection, party_model=ReferralParty,
                                 owner_model=Referral, owner_ids=referral_ids,
                                 visible=visible_to(principal, agency_column=Referral.agency_id,
                                                    jurisdiction_column=Referral.jurisdiction_id))


async def domains_by_code(session: AsyncSession, codes: list[str]) -> dict[str, ReferralDomain]:
    rows = await session.scalars(select(ReferralDomain).where(ReferralDomain.code.in_(codes)))
    return {row.code: row for row in rows}


DOMAIN_CODE = re.compile(r"^[A-Z][A-Z0-9_]{1,39}$")


async def save_domain(session: AsyncSession, *, principal: Principal, code: str, name_zh: str, name_en: str,
                      is_active: bool = True) -> ReferralDomain:
    """Add a domain of public-interest litigation, or rename or retire one (administrators): laws
    keep adding domains, and a retired one stays on the referrals already made under it."""
    if principal.role is not Role.ADMIN or principal.is_api_key:
        raise Forbidden()
    if not DOMAIN_CODE.match(code):
        raise ValidationFailed("领域代码应为大写字母、数字和下划线 / the code is 2-40 of A-Z, 0-9 and _, "
                               "starting with a letter", field="code")
    domain = await session.get(ReferralDomain, code)
    if domain is None:
        sort_order = await session.scalar(select(func.coalesce(func.max(ReferralDomain.sort_order), -1))) + 1
        domain = ReferralDomain(code=code, sort_order=sort_order)
        session.add(domain)
    domain.name_zh = clean_text(name_zh, "nameZh", 100, required=True)
    domain.name_en = clean_text(name_en, "nameEn", 100, required=True)
    domain.is_active = is_active
    await session.flush()
    return domain


async def list_domains(session: AsyncSession, *, principal: Principal) -> list[ReferralDomain]:
    """The active domains; every signed-in principal may read them (resolving `principal` in the
    caller is what requires a sign-in)."""
    return list(await session.scalars(select(ReferralDomain).where(ReferralDomain.is_active)
                                      .order_by(ReferralDomain.sort_order, ReferralDomain.code)))
