"""GraphQL types of cases."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Annotated

import strawberry
from geoalchemy2.shape import to_shape
from shapely.geometry.base import BaseGeometry
from strawberry.types import Info

from agencies.loaders import agency_loader, jurisdiction_loader
from agencies.types import Agency, Jurisdiction
from cases import hearings, models, procedure, service
from cases.loaders import (
    case_hearings_loader,
    case_history_loader,
    case_notes_loader,
    case_parties_loader,
    consultation_meetings_loader,
)
from cases.models import Case as CaseModel
from cases.models import CaseNote as CaseNoteModel
from cases.models import CaseStatusChange as CaseStatusChangeModel
from cases.models import ConsultationMeeting as ConsultationMeetingModel
from cases.models import Hearing as HearingModel
from core.loaders import loader
from deadlines.types import Deadline, deadline_field
from geo.types import Areal, CoordinateSystem, GeoJSON
from parties.types import Party, PartyFilterInput, PartyInput
from referral import service as referral_service
from referral.models import harms_of

if TYPE_CHECKING:  # referral.types imports this module (Referral.case); recommendations builds on cases
    from recommendations.types import Recommendation
    from referral.types import Harm, ReferralDomain

CaseKind = strawberry.enum(models.CaseKind, description="Administrative (行政), civil (民事) or criminal-incidental "
                                                        "civil (刑事附带民事) public-interest litigation.")
CaseStatus = strawberry.enum(models.CaseStatus, description="Where a case stands.")
CaseOutcome = strawberry.enum(models.CaseOutcome, description="How a case ended.")
AnnouncementOutcome = strawberry.enum(models.AnnouncementOutcome,
                                      description="Whether an organisation came forward within the announcement.")
HearingTopic = strawberry.enum(models.HearingTopic, description="What a hearing (听证) is about.")
HearingParticipantRole = strawberry.enum(models.HearingParticipantRole)
ConsultationParticipantRole = strawberry.enum(models.ConsultationParticipantRole)
CaseOrder = strawberry.enum(service.CaseOrder, description="The order of a case list.")

_LazyHarm = Annotated["Harm", strawberry.lazy("referral.types")]
_LazyDomain = Annotated["ReferralDomain", strawberry.lazy("referral.types")]


@strawberry.type(description="One step in a case's history.")
class CaseStatusChange:
    action: str
    from_status: CaseStatus | None
    to_status: CaseStatus
    actor_name: str
    reason: str | None
    changed_at: datetime

    @classmethod
    def from_model(cls, row: CaseStatusChangeModel) -> CaseStatusChange:
        return cls(action=row.action, from_status=row.from_status, to_status=row.to_status,
                   actor_name=row.actor_name, reason=row.reason, changed_at=row.changed_at)


@strawberry.type(description="A prosecutor's internal note on a case.")
class CaseNote:
    id: strawberry.ID
    text: str
    author_name: str
    created_at: datetime

    @classmethod
    def from_model(cls, row: CaseNoteModel) -> CaseNote:
        return cls(id=strawberry.ID(str(row.id)), text=row.text, author_name=row.actor_name,
                   created_at=row.created_at)


@strawberry.type
class ConsultationParticipant:
    name: str
    role: ConsultationParticipantRole


@strawberry.type(description="A meeting of a pre-litigation consultation (磋商会).")
class ConsultationMeeting:
    id: strawberry.ID
    held_on: date
    place: str
    participants: list[ConsultationParticipant]
    agreed_facts: str = strawberry.field(description="The facts the procuratorate and the agency agreed on.")

    @classmethod
    def from_model(cls, row: ConsultationMeetingModel) -> ConsultationMeeting:
        return cls(id=strawberry.ID(str(row.id)), held_on=row.held_on, place=row.place,
                   agreed_facts=row.agreed_facts,
                   participants=[ConsultationParticipant(name=item["name"],
                                                         role=models.ConsultationParticipantRole(item["role"]))
                                 for item in row.participants])


@strawberry.type(description="A pre-litigation consultation (诉前磋商) with an agency.")
class CaseConsultation:
    started_on: date
    row: strawberry.Private[CaseModel]

    @strawberry.field(description="The agency consulted.")
    async def agency(self, info: Info) -> Agency | None:
        row = await agency_loader(info).load(self.row.consulted_agency_id)
        return Agency.from_model(row) if row else None

    @strawberry.field
    async def meetings(self, info: Info) -> list[ConsultationMeeting]:
        return [ConsultationMeeting.from_model(row)
                for row in await consultation_meetings_loader(info).load(self.row.id)]


@strawberry.type
class HearingParticipant:
    name: str
    role: HearingParticipantRole


@strawberry.type(description="A hearing (听证) on a case; public unless decided otherwise.")
class Hearing:
    id: strawberry.ID
    topic: HearingTopic
    scheduled_at: datetime
    place: str
    public: bool
    participants: list[HearingParticipant]
    held_on: date | None
    conclusion: str | None
    recommendation_id: strawberry.ID | None = strawberry.field(
        description="The recommendation whose rectification the hearing is on; null when it is on the case.")

    @classmethod
    def from_model(cls, row: HearingModel) -> Hearing:
        return cls(id=strawberry.ID(str(row.id)), topic=row.topic,
                   recommendation_id=strawberry.ID(str(row.recommendation_id)) if row.recommendation_id else None, scheduled_at=row.scheduled_at, place=row.place,
                   public=row.public, held_on=row.held_on, conclusion=row.conclusion,
                   participants=[HearingParticipant(name=item["name"],
                                                    role=models.HearingParticipantRole(item["role"]))
                                 for item in row.participants])


@strawberry.type(description="The announcement (公告) of a civil claim: for 30 days an organisation the law names "
                             "may sue instead.")
class CaseAnnouncement:
    published_on: date
    medium: str
    outcome: AnnouncementOutcome | None
    organisation: str | None
    outcome_recorded_on: date | None
    case_id: strawberry.Private[uuid.UUID]

    @strawberry.field(description="The announcement period as a deadline, with its proof; met once its outcome "
                                  "is known (an organisation came forward or not, the suit filed, the case closed).")
    async def deadline(self, info: Info) -> Deadline | None:
        return await deadline_field(info, subject_kind=procedure.DEADLINE_SUBJECT, subject_id=self.case_id,
                                    rule=procedure.ANNOUNCEMENT_RULE)

    @strawberry.field(description="The last day of the announcement period; the procuratorate may sue from the "
                                  "day after.")
    async def ends_on(self, info: Info) -> date | None:
        deadline = await self.deadline(info)
        return deadline.due_on if deadline else None


@strawberry.type(description="The suit the procuratorate brought (提起诉讼).")
class CaseLitigation:
    court: str
    filed_on: date
    claims: str


@strawberry.type(description="The court's document that decided a case (判决书, 调解书, 准许撤诉裁定书).")
class CourtDecision:
    court: str
    document_number: str
    decided_on: date


@strawberry.type(description="How a case ended.")
class CaseClosure:
    outcome: CaseOutcome
    summary: str
    closed_on: date
    court_decision: CourtDecision | None


def _domain_loader(info: Info):
    return loader(info.context, "referral_domain",
                  lambda codes: referral_service.domains_by_code(info.context.session, codes))


@strawberry.type(description="A public-interest case (公益诉讼案件) filed by a procuratorate.")
class Case(Areal):
    id: strawberry.ID
    number: str = strawberry.field(description="The filing decision's number (文号), e.g. 卫东检公益立〔2026〕1号.")
    kind: CaseKind
    status: CaseStatus
    title: str
    facts: str
    address: str | None
    filed_on: date = strawberry.field(description="The filing date (Beijing).")
    filed_at: datetime
    decision_served_on: date | None = strawberry.field(
        description="When the filing decision was served on the referring agency, once known.")
    referral_id: strawberry.ID | None = strawberry.field(
        description="The referral it was filed from; null for a case from the procuratorate's own clue.")
    row: strawberry.Private[CaseModel]

    @classmethod
    def from_model(cls, row: CaseModel) -> Case:
        return cls(id=strawberry.ID(str(row.id)), number=row.number, kind=row.kind, status=row.status,
                   title=row.title, facts=row.facts, address=row.address, filed_on=row.filed_on,
                   filed_at=row.filed_at, decision_served_on=row.decision_served_on,
                   referral_id=strawberry.ID(str(row.referral_id)) if row.referral_id else None, row=row)

    @cached_property
    def _shape(self) -> BaseGeometry:
        return to_shape(self.row.geometry)

    def shape(self) -> BaseGeometry:
        return self._shape

    @strawberry.field(description="Where the harm is, WGS84.")
    def geometry(self) -> GeoJSON:
        return self.shape()

    @strawberry.field
    def harms(self) -> list[_LazyHarm]:
        return harms_of(self.row)

    @strawberry.field
    async def domain(self, info: Info) -> _LazyDomain:
        from referral.types import ReferralDomain

        return ReferralDomain.from_model(await _domain_loader(info).load(self.row.domain_code))

    @strawberry.field(description="The referring agency, if any and if the caller may see it.")
    async def agency(self, info: Info) -> Agency | None:
        if self.row.agency_id is None:
            return None
        row = await agency_loader(info).load(self.row.agency_id)
        return Agency.from_model(row) if row else None

    @strawberry.field(description="The jurisdiction of the procuratorate that filed it.")
    async def jurisdiction(self, info: Info) -> Jurisdiction:
        return Jurisdiction.from_model(await jurisdiction_loader(info).load(self.row.jurisdiction_id))

    @strawberry.field(description="Every status change, oldest first.")
    async def history(self, info: Info) -> list[CaseStatusChange]:
        return [CaseStatusChange.from_model(row) for row in await case_history_loader(info).load(self.row.id)]

    @strawberry.field(description="The recommendations issued in the case that the caller may see, oldest first.")
    async def recommendations(self, info: Info
                              ) -> list[Annotated[Recommendation, strawberry.lazy("recommendations.types")]]:
        from recommendations.loaders import recommendations_by_case_loader
        from recommendations.types import Recommendation

        return [Recommendation.from_model(row) for row in await recommendations_by_case_loader(info).load(self.row.id)]

    @strawberry.field(description="The persons and enterprises the case is against, in the order given; identity "
                                  "numbers in full only for prosecutors of the procuratorate that filed it.")
    async def parties(self, info: Info) -> list[Party]:
        return [Party(kind=view.kind, name=view.name, role=view.role, id_number=view.id_number, uscc=view.uscc)
                for view in await case_parties_loader(info).load(self.row.id)]

    @strawberry.field(description="How the case ended, once closed (null otherwise).")
    def outcome(self) -> CaseOutcome | None:
        return self.row.outcome if self.row.status is models.CaseStatus.CLOSED else None

    @strawberry.field(description="The closing: outcome, summary and any court decision; null unless closed.")
    def closure(self) -> CaseClosure | None:
        row = self.row
        if row.status is not models.CaseStatus.CLOSED:
            return None  # reopened for follow-up: the earlier closing stays in the history
        decision = None
        if row.judgment_court is not None:
            decision = CourtDecision(court=row.judgment_court, document_number=row.judgment_document_number,
                                     decided_on=row.judgment_on)
        return CaseClosure(outcome=row.outcome, summary=row.outcome_summary, closed_on=row.closed_on,
                           court_decision=decision)

    @strawberry.field(description="The pre-litigation consultation, if the case went to one and the caller may "
                                  "read it (an agency reads only one held with it).")
    def consultation(self, info: Info) -> CaseConsultation | None:
        if self.row.consultation_started_on is None or not procedure.sees_consultation(info.context.principal,
                                                                                       self.row):
            return None
        return CaseConsultation(started_on=self.row.consultation_started_on, row=self.row)

    @strawberry.field(description="The announcement of a civil claim, once published.")
    def announcement(self) -> CaseAnnouncement | None:
        row = self.row
        if row.announcement_published_on is None:
            return None
        return CaseAnnouncement(published_on=row.announcement_published_on, medium=row.announcement_medium,
                                outcome=row.announcement_outcome, organisation=row.announcement_organisation,
                                outcome_recorded_on=row.announcement_outcome_on, case_id=row.id)

    @strawberry.field(description="The suit, once brought.")
    def litigation(self) -> CaseLitigation | None:
        row = self.row
        if row.litigation_filed_on is None:
            return None
        return CaseLitigation(court=row.litigation_court, filed_on=row.litigation_filed_on,
                              claims=row.litigation_claims)

    @strawberry.field(description="Hearings on the case, earliest first (an agency sees the public ones).")
    async def hearings(self, info: Info) -> list[Hearing]:
        return [Hearing.from_model(row) for row in await case_hearings_loader(info).load(self.row.id)]

    @strawberry.field(description="Prosecutors' internal notes, oldest first: FORBIDDEN to everyone else.")
    async def notes(self, info: Info) -> list[CaseNote] | None:
        return [CaseNote.from_model(row) for row in await case_notes_loader(info).load(self.row.id)]


@strawberry.input
class FileCaseInput:
    kind: CaseKind
    decision_served_on: date | None = strawberry.field(
        default=None, description="When the filing decision was served on the agency, if already.")

    def to_service(self) -> service.CaseFiling:
        return service.CaseFiling(kind=self.kind, decision_served_on=self.decision_served_on)


@strawberry.input(description="A case from the procuratorate's own clue (自行发现的线索).")
class OpenCaseInput:
    kind: CaseKind
    title: str
    domain: str = strawberry.field(description="A referral domain code, see `referralDomains`.")
    facts: str
    geometry: GeoJSON
    crs: CoordinateSystem = CoordinateSystem.WGS84
    address: str | None = None
    harms: list[_LazyHarm] | None = strawberry.field(
        default=None, description="At least one; the public interest unless said otherwise.")
    parties: list[PartyInput] | None = strawberry.field(default=None, description="At most 50.")

    def to_service(self) -> service.CaseOpening:
        from referral.models import Harm as HarmModel

        return service.CaseOpening(
            kind=self.kind, title=self.title, domain_code=self.domain, facts=self.facts, geometry=self.geometry,
            crs=self.crs, address=self.address,
            harms=tuple(self.harms) if self.harms is not None else (HarmModel.PUBLIC_INTEREST,),
            parties=tuple(party.to_service() for party in self.parties or ()))


@strawberry.input
class StartConsultationInput:
    agency_id: strawberry.ID | None = strawberry.field(
        default=None, description="The agency consulted; the referring agency when left out.")
    started_on: date | None = strawberry.field(default=None, description="Today when left out.")

    def to_service(self) -> procedure.ConsultationStart:
        return procedure.ConsultationStart(agency_id=self.agency_id, started_on=self.started_on)


@strawberry.input
class ConsultationParticipantInput:
    name: str
    role: ConsultationParticipantRole


@strawberry.input
class ConsultationMeetingInput:
    held_on: date
    place: str
    participants: list[ConsultationParticipantInput]
    agreed_facts: str

    def to_service(self) -> procedure.MeetingRecord:
        return procedure.MeetingRecord(
            held_on=self.held_on, place=self.place, agreed_facts=self.agreed_facts,
            participants=tuple(procedure.Participant(name=item.name, role=item.role) for item in self.participants))


@strawberry.input
class AnnounceCaseInput:
    published_on: date
    medium: str = strawberry.field(description="Where it was published, e.g. 正义网.")


@strawberry.input
class AnnouncementOutcomeInput:
    organisation_came_forward: bool
    organisation: str | None = strawberry.field(default=None, description="Its name, when one came forward.")
    recorded_on: date | None = strawberry.field(default=None, description="Today when left out.")


@strawberry.input
class FileLitigationInput:
    court: str
    filed_on: date | None = strawberry.field(default=None, description="Today when left out.")
    claims: str = strawberry.field(description="The claims (诉讼请求).")


@strawberry.input
class CourtDecisionInput:
    court: str
    document_number: str
    decided_on: date


@strawberry.input
class CloseCaseInput:
    outcome: CaseOutcome
    summary: str = strawberry.field(description="Why the case ends: the reason in its history.")
    closed_on: date | None = strawberry.field(default=None, description="Today when left out.")
    court_decision: CourtDecisionInput | None = strawberry.field(
        default=None, description="Required for JUDGMENT, MEDIATION and SUIT_WITHDRAWN, refused otherwise.")

    def to_service(self) -> procedure.Closing:
        decision = self.court_decision
        return procedure.Closing(
            outcome=self.outcome, summary=self.summary, closed_on=self.closed_on,
            court_decision=procedure.CourtDecision(court=decision.court, document_number=decision.document_number,
                                                   decided_on=decision.decided_on) if decision else None)


@strawberry.input
class HearingParticipantInput:
    name: str
    role: HearingParticipantRole


@strawberry.input
class ScheduleHearingInput:
    topic: HearingTopic
    scheduled_at: datetime
    place: str
    participants: list[HearingParticipantInput]
    public: bool = True
    recommendation_id: strawberry.ID | None = None

    def to_service(self) -> hearings.HearingPlan:
        return hearings.HearingPlan(
            topic=self.topic, scheduled_at=self.scheduled_at, place=self.place, public=self.public,
            recommendation_id=self.recommendation_id,
            participants=tuple(procedure.Participant(name=item.name, role=item.role) for item in self.participants))


@strawberry.input
class HearingConclusionInput:
    held_on: date
    conclusion: str


@strawberry.input
class CaseFilter:
    status: list[CaseStatus] | None = None
    kind: list[CaseKind] | None = None
    domain: list[str] | None = None
    agency_id: strawberry.ID | None = None
    jurisdiction_code: str | None = strawberry.field(
        default=None, description="A jurisdiction and everything below it.")
    filed_from: date | None = None
    filed_to: date | None = None
    party: PartyFilterInput | None = strawberry.field(
        default=None, description="Cases against a party: by code, identity number or name.")
    addressee_agency_id: strawberry.ID | None = strawberry.field(
        default=None, description="Cases with a recommendation addressed to this agency.")

    def to_service(self) -> service.CaseFilter:
        return service.CaseFilter(statuses=tuple(self.status or ()), kinds=tuple(self.kind or ()),
                                  domain_codes=tuple(self.domain or ()),
                                  agency_id=self.agency_id, jurisdiction_code=self.jurisdiction_code,
                                  filed_from=self.filed_from, filed_to=self.filed_to,
                                  party=self.party.to_service() if self.party else None,
                                  addressee_agency_id=self.addressee_agency_id)
