"""GraphQL types of referrals."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from functools import cached_property

import strawberry
from geoalchemy2.shape import to_shape
from shapely.geometry.base import BaseGeometry
from strawberry.types import Info

from agencies.loaders import agency_loader, jurisdiction_loader
from agencies.types import Agency, Jurisdiction
from cases.loaders import case_by_referral_loader
from cases.types import Case
from core.loaders import loader
from deadlines.rules import REFERRAL_ACKNOWLEDGEMENT
from deadlines.types import Deadline, deadline_field
from evidence import service as evidence_service
from evidence.types import Evidence
from geo.filters import Near, SpatialFilter
from geo.loaders import decision_loader, overlaps_loader, placement_loader, proposal_loader
from geo.reference_types import ReferralOverlap, ResponsibleAgencyDecision, ResponsibleAgencyProposal
from geo.types import Areal, CoordinateSystem, GeoJSON
from parties.protection import protection_for
from parties.types import Party, PartyFilterInput, PartyInput
from referral import flows, models
from referral import service as referral_service
from referral.models import Referral as ReferralModel
from referral.models import ReferralDomain as ReferralDomainModel
from referral.models import ReferralStatusChange as ReferralStatusChangeModel
from referral.models import harms_of

ReferralStatus = strawberry.enum(flows.ReferralStatus, description="Where a referral stands.")
Harm = strawberry.enum(models.Harm, description="What is harmed: state interests (国家利益) and/or the public "
                                                "interest (社会公共利益).")


@strawberry.type(description="A field of public-interest litigation (公益诉讼领域).")
class ReferralDomain:
    code: str
    name_zh: str
    name_en: str

    @classmethod
    def from_model(cls, row: ReferralDomainModel) -> ReferralDomain:
        return cls(code=row.code, name_zh=row.name_zh, name_en=row.name_en)


@strawberry.type(description="One step in a referral's history.")
class ReferralStatusChange:
    action: str
    from_status: ReferralStatus | None
    to_status: ReferralStatus
    actor_name: str
    reason: str | None
    changed_at: datetime

    @classmethod
    def from_model(cls, row: ReferralStatusChangeModel) -> ReferralStatusChange:
        return cls(action=row.action, from_status=row.from_status, to_status=row.to_status,
                   actor_name=row.actor_name, reason=row.reason, changed_at=row.changed_at)


def _domain_loader(info: Info):
    return loader(info.context, "referral_domain",
                  lambda codes: referral_service.domains_by_code(info.context.session, codes))


UNLOADED = object()


@strawberry.type(description="A clue (线索) referred by an agency to the procuratorate.")
class Referral(Areal):
    id: strawberry.ID
    status: ReferralStatus
    number: str | None = strawberry.field(
        description="The registration number (文号) given by the receiving procuratorate, e.g. "
                    "卫东检公益线〔2026〕3号; null until the referral is registered.")
    title: str
    # Read from the row only when asked: lists leave the long text in the database otherwise.
    facts: str = strawberry.field(resolver=lambda root: root.row.facts)
    address: str | None
    found_on: date | None
    special_investigation: str | None
    submitted_at: datetime
    harms: list[Harm]
    legal_basis: str | None = strawberry.field(description="The laws and articles broken (法律依据).")
    urgent: bool
    version: int = strawberry.field(
        description="Raised by every status change and edit; `resubmitReferral` names the version it "
                    "was based on.")
    row: strawberry.Private[ReferralModel]
    # What a list fetched for the whole page at once; UNLOADED otherwise (loaded per object then).
    agency_row: strawberry.Private[object] = UNLOADED
    evidence_rows: strawberry.Private[object] = UNLOADED

    @classmethod
    def from_model(cls, row: ReferralModel, *, agency: object = UNLOADED, evidence: object = UNLOADED) -> Referral:
        return cls(id=strawberry.ID(str(row.id)), status=row.status, number=row.number, title=row.title,
                   address=row.address, found_on=row.found_on,
                   special_investigation=row.special_investigation, submitted_at=row.submitted_at,
                   harms=harms_of(row), legal_basis=row.legal_basis, urgent=row.urgent,
                   version=row.version, row=row, agency_row=agency, evidence_rows=evidence)

    @cached_property
    def _shape(self) -> BaseGeometry:
        return to_shape(self.row.geometry)

    def shape(self) -> BaseGeometry:
        # Parsed once per referral, however many of geometry and the areas are asked for.
        return self._shape

    @strawberry.field(description="Where it happened, WGS84.")
    def geometry(self) -> GeoJSON:
        return self.shape()

    @strawberry.field
    async def domain(self, info: Info) -> ReferralDomain:
        return ReferralDomain.from_model(await _domain_loader(info).load(self.row.domain_code))

    # agency and evidence are plain functions when the list fetched them already, and hand back
    # an awaitable only otherwise: an async resolver costs the executor a task per row.
    @strawberry.field(description="The referring agency.")
    def agency(self, info: Info) -> Agency | None:
        if self.agency_row is UNLOADED:
            return self._load_agency(info)
        return Agency.from_model(self.agency_row) if self.agency_row else None

    async def _load_agency(self, info: Info) -> Agency | None:
        row = await agency_loader(info).load(self.row.agency_id)
        return Agency.from_model(row) if row else None

    @strawberry.field(description="The jurisdiction whose procuratorate receives the referral.")
    async def jurisdiction(self, info: Info) -> Jurisdiction:
        return Jurisdiction.from_model(await jurisdiction_loader(info).load(self.row.jurisdiction_id))

    @strawberry.field
    def evidence(self, info: Info) -> list[Evidence]:
        if self.evidence_rows is UNLOADED:
            return self._load_evidence(info)
        return [Evidence.from_model(row) for row in self.evidence_rows]

    async def _load_evidence(self, info: Info) -> list[Evidence]:
        principal = info.context.principal

        async def load(ids: list[uuid.UUID]) -> dict:
            return await evidence_service.list_evidence(info.context.session, principal=principal,
                                                        referral_ids=ids)

        rows = await loader(info.context, "evidence_by_referral", load, default=[]).load(self.row.id)
        return [Evidence.from_model(row) for row in rows]

    @strawberry.field(description="The persons and enterprises the referral is against, in the order given.")
    async def parties(self, info: Info) -> list[Party]:
        principal = info.context.principal
        protection = protection_for(info.context.settings.protection)

        async def load(ids: list[uuid.UUID]) -> dict:
            return await referral_service.parties_of(info.context.session, principal=principal,
                                                     protection=protection, referral_ids=ids)

        views = await loader(info.context, "referral_parties", load, default=[]).load(self.row.id)
        return [Party(kind=view.kind, name=view.name, role=view.role, id_number=view.id_number, uscc=view.uscc)
                for view in views]

    @strawberry.field(description="The case filed from the referral (立案), once there is one.")
    async def case(self, info: Info) -> Case | None:
        if self.row.status != flows.ReferralStatus.CASE_FILED:
            return None  # no query for the referrals that cannot have one
        row = await case_by_referral_loader(info).load(self.row.id)
        return Case.from_model(row) if row else None

    @strawberry.field(description="The procuratorate's deadline to acknowledge the referral (register, return or "
                                  "decline it): 7 working days after submission.")
    async def acknowledgement_deadline(self, info: Info) -> Deadline | None:
        return await deadline_field(info, subject_kind=referral_service.DEADLINE_SUBJECT, subject_id=self.row.id,
                                    rule=REFERRAL_ACKNOWLEDGEMENT)

    async def _history_rows(self, info: Info) -> list[ReferralStatusChangeModel]:
        # One loader for history and outcomeReason: asking for both costs one query per page.
        principal = info.context.principal

        async def load(ids: list[uuid.UUID]) -> dict:
            return await referral_service.status_history(info.context.session, principal=principal,
                                                         referral_ids=ids)

        return await loader(info.context, "referral_history", load, default=[]).load(self.row.id)

    @strawberry.field(description="Every status change, oldest first.")
    async def history(self, info: Info) -> list[ReferralStatusChange]:
        return [ReferralStatusChange.from_model(row) for row in await self._history_rows(info)]

    @strawberry.field(description="Why the procuratorate returned or declined the referral, while it is "
                                  "returned or declined; null in every other status.")
    async def outcome_reason(self, info: Info) -> str | None:
        if self.row.status not in (flows.ReferralStatus.RETURNED, flows.ReferralStatus.DECLINED):
            return None
        decisions = [row for row in await self._history_rows(info)
                     if row.action in (flows.ReferralAction.RETURN.value, flows.ReferralAction.DECLINE.value)]
        return decisions[-1].reason if decisions else None

    # Where it lies (geo.placement, geo.overlaps, geo.responsibility), each field one batched load.
    @strawberry.field(description="Whether it lies outside the referring agency's jurisdiction (so the agency "
                                  "declared it cross-boundary).")
    async def cross_boundary(self, info: Info) -> bool:
        placement = await placement_loader(info).load(self.row.id)
        return bool(placement and placement.cross_boundary)

    @strawberry.field(description="The districts it spans, the one holding most of it (its jurisdiction) first; "
                                  "empty when it lies in one.")
    async def spans_jurisdictions(self, info: Info) -> list[Jurisdiction]:
        placement = await placement_loader(info).load(self.row.id)
        if not placement or not placement.spanned_jurisdiction_ids:
            return []
        rows = await jurisdiction_loader(info).load_many(placement.spanned_jurisdiction_ids)
        return [Jurisdiction.from_model(row) for row in rows]

    @strawberry.field(description="The reference-layer features it lies on, largest share first.")
    async def overlaps(self, info: Info) -> list[ReferralOverlap]:
        return [ReferralOverlap.from_view(view) for view in await overlaps_loader(info).load(self.row.id)]

    @strawberry.field(description="The agency its overlaps point to as responsible for the harm, when a layer "
                                  "names one and the caller may see that agency.")
    async def proposed_responsible_agency(self, info: Info) -> ResponsibleAgencyProposal | None:
        proposal = await proposal_loader(info).load(self.row.id)
        return ResponsibleAgencyProposal.from_proposal(proposal) if proposal else None

    @strawberry.field(description="The responsible agency as a prosecutor confirmed or changed it "
                                  "(`confirmResponsibleAgency`), when the caller may see that agency.")
    async def responsible_agency(self, info: Info) -> ResponsibleAgencyDecision | None:
        decision = await decision_loader(info).load(self.row.id)
        return ResponsibleAgencyDecision.from_decision(decision) if decision else None


@strawberry.input
class SubmitReferralInput:
    domain: str = strawberry.field(description="A referral domain code, see `referralDomains`.")
    title: str
    facts: str
    geometry: GeoJSON
    crs: CoordinateSystem = CoordinateSystem.WGS84
    address: str | None = None
    found_on: date | None = None
    special_investigation: str | None = strawberry.field(
        default=None, description="The special investigation (专项调查) that found the clue.")
    idempotency_key: str | None = strawberry.field(
        default=None, description="Send the same key when retrying: the first result is returned "
                                  "and nothing new is created.")
    harms: list[Harm] = strawberry.field(
        default_factory=lambda: [models.Harm.PUBLIC_INTEREST],
        description="At least one; the public interest unless said otherwise.")
    legal_basis: str | None = strawberry.field(default=None, description="The laws and articles broken (法律依据).")
    urgent: bool = False
    parties: list[PartyInput] | None = strawberry.field(
        default=None, description="The persons and enterprises the referral is against (当事人), at most 50.")
    cross_boundary: bool = strawberry.field(
        default=False, description="It lies outside the agency's own jurisdiction and is meant for the district "
                                   "holding most of it; without this such a referral is refused.")


@strawberry.input(description="What a resubmission changes: a field left out (or null) stays as it was; "
                              "`parties`, when given, replaces the whole list. Evidence stays as it was.")
class ResubmitReferralInput:
    title: str | None = None
    facts: str | None = None
    geometry: GeoJSON | None = None
    crs: CoordinateSystem = strawberry.field(default=CoordinateSystem.WGS84,
                                             description="Coordinate system of `geometry`.")
    address: str | None = None
    found_on: date | None = None
    harms: list[Harm] | None = strawberry.field(default=None, description="At least one, when given.")
    legal_basis: str | None = strawberry.field(default=None, description="The laws and articles broken (法律依据).")
    urgent: bool | None = None
    parties: list[PartyInput] | None = strawberry.field(
        default=None, description="The persons and enterprises the referral is against (当事人), at most 50.")
    cross_boundary: bool | None = strawberry.field(
        default=None, description="As on submission, for a new `geometry`; left out: as declared before.")

    def to_service(self) -> referral_service.ReferralEdit:
        return referral_service.ReferralEdit(
            title=self.title, facts=self.facts, geometry=self.geometry, crs=self.crs, address=self.address,
            found_on=self.found_on, legal_basis=self.legal_basis, urgent=self.urgent,
            harms=tuple(self.harms) if self.harms is not None else None,
            parties=tuple(party.to_service() for party in self.parties) if self.parties is not None else None,
            cross_boundary=self.cross_boundary)


@strawberry.input
class NearInput:
    point: GeoJSON
    meters: float


@strawberry.input
class ReferralFilter:
    status: list[ReferralStatus] | None = None
    domain: list[str] | None = None
    agency_id: strawberry.ID | None = None
    jurisdiction_code: str | None = strawberry.field(
        default=None, description="A jurisdiction and everything below it.")
    submitted_from: date | None = None
    submitted_to: date | None = None
    intersects: GeoJSON | None = None
    within: GeoJSON | None = None
    bbox: list[float] | None = strawberry.field(default=None, description="[minLon, minLat, maxLon, maxLat]")
    near: NearInput | None = None
    crs: CoordinateSystem = strawberry.field(
        default=CoordinateSystem.WGS84, description="Coordinate system of the geometries in this filter.")
    party: PartyFilterInput | None = strawberry.field(
        default=None, description="Referrals against a party: by code, identity number or name.")
    overlaps_layer: str | None = strawberry.field(
        default=None, description="Referrals lying on the reference layer with this code.")

    def to_service(self) -> referral_service.ReferralFilter:
        return referral_service.ReferralFilter(
            statuses=list(self.status or []), domain_codes=list(self.domain or []),
            agency_id=self.agency_id, jurisdiction_code=self.jurisdiction_code,
            submitted_from=self.submitted_from, submitted_to=self.submitted_to,
            spatial=SpatialFilter(
                intersects=self.intersects, within=self.within, bbox=self.bbox, crs=self.crs,
                near=Near(point=self.near.point, meters=self.near.meters) if self.near else None),
            party=self.party.to_service() if self.party else None, overlaps_layer=self.overlaps_layer)


@strawberry.type(description="A referral near a geometry, with its distance on the ellipsoid.")
class NearbyReferral:
    referral: Referral
    distance_meters: float
