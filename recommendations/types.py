"""GraphQL types of recommendations, replies, rectification plans, reports and checks."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import strawberry
from geoalchemy2.shape import to_shape
from strawberry.types import Info

from agencies.loaders import agency_loader, jurisdiction_loader
from agencies.types import Agency, Jurisdiction
from cases.types import Case
from core.loaders import loader
from deadlines.types import Deadline, deadline_field
from evidence.models import EvidenceOwnerKind
from evidence.types import Evidence
from geo.types import CoordinateSystem, GeoJSON
from parties.types import PartyFilterInput
from recommendations import models, rectification, service
from recommendations.loaders import (
    checks_loader,
    evidence_loader,
    recommendation_history_loader,
    reply_loader,
    reports_loader,
    stages_loader,
)

RecommendationStatus = strawberry.enum(models.RecommendationStatus, description="Where a recommendation stands "
                                       "in its procedure (not whether the harm was put right: see `rectification`).")
RectificationResult = strawberry.enum(models.RectificationResult,
                                      description="What a rectification check found: rectified fully, partly or not.")


async def _evidence(info: Info, kind: EvidenceOwnerKind, owner_id: uuid.UUID) -> list[Evidence]:
    return [Evidence.from_model(row) for row in await evidence_loader(info, kind).load(owner_id)]


@strawberry.type(description="Someone who witnessed the service (宣告送达).")
class Witness:
    name: str
    role: str = strawberry.field(description="e.g. 人大代表, 人民监督员.")


@strawberry.type(description="One step in a recommendation's history.")
class RecommendationStatusChange:
    action: str
    from_status: RecommendationStatus | None
    to_status: RecommendationStatus
    actor_name: str
    reason: str | None
    changed_at: datetime


@strawberry.type(description="A stage of the rectification plan.")
class RectificationStage:
    id: strawberry.ID
    position: int
    milestone: str
    due_on: date
    percent_complete: int
    updated_at: datetime

    row: strawberry.Private[models.RectificationStage]

    @classmethod
    def from_model(cls, row: models.RectificationStage) -> RectificationStage:
        return cls(id=strawberry.ID(str(row.id)), position=row.position, milestone=row.milestone,
                   due_on=row.due_on, percent_complete=row.percent_complete, updated_at=row.updated_at, row=row)

    @strawberry.field(description="The stage's deadline (the plan's date), met when it reaches 100%; null for a "
                                  "stage already done when the plan was made.")
    async def deadline(self, info: Info) -> Deadline | None:
        return await deadline_field(info, subject_kind=rectification.STAGE_SUBJECT_KIND, subject_id=self.row.id,
                                    rule=rectification.STAGE_RULE)


@strawberry.type(description="The agency's written reply (书面回复). A reply is not a rectification.")
class RecommendationReply:
    id: strawberry.ID
    accepted: bool
    reasons: str | None = strawberry.field(description="Why not, when the agency does not accept.")
    measures_taken: str
    replied_on: date
    replied_at: datetime
    actor_name: str
    row: strawberry.Private[models.RecommendationReply]

    @classmethod
    def from_model(cls, row: models.RecommendationReply) -> RecommendationReply:
        return cls(id=strawberry.ID(str(row.id)), accepted=row.accepted, reasons=row.reasons,
                   measures_taken=row.measures_taken, replied_on=row.replied_on, replied_at=row.replied_at,
                   actor_name=row.actor_name, row=row)

    @strawberry.field(description="The rectification plan, as the latest reports left it.")
    async def stages(self, info: Info) -> list[RectificationStage]:
        return [RectificationStage.from_model(row)
                for row in await stages_loader(info).load(self.row.recommendation_id)]

    @strawberry.field
    async def attachments(self, info: Info) -> list[Evidence]:
        return await _evidence(info, EvidenceOwnerKind.REPLY, self.row.id)


@strawberry.type(description="A stage a progress report moved.")
class StageProgress:
    stage_id: strawberry.ID
    milestone: str
    from_percent: int
    to_percent: int


@strawberry.type(description="A later report of the agency on its rectification.")
class RectificationReport:
    id: strawberry.ID
    note: str | None
    reported_at: datetime
    actor_name: str
    stage_updates: list[StageProgress]

    @classmethod
    def from_model(cls, row: models.RectificationReport) -> RectificationReport:
        return cls(id=strawberry.ID(str(row.id)), note=row.note, reported_at=row.reported_at,
                   actor_name=row.actor_name,
                   stage_updates=[StageProgress(stage_id=strawberry.ID(item["stage_id"]), milestone=item["milestone"],
                                                from_percent=item["from_percent"], to_percent=item["to_percent"])
                                  for item in row.stage_updates])

    @strawberry.field
    async def attachments(self, info: Info) -> list[Evidence]:
        return await _evidence(info, EvidenceOwnerKind.RECTIFICATION_REPORT, uuid.UUID(self.id))


@strawberry.type(description="Something a check found still to be done.")
class OpenItem:
    id: strawberry.ID = strawberry.field(description="Kept when a follow-up check carries the item forward.")
    description: str
    first_check_id: strawberry.ID = strawberry.field(description="The check that first found it.")


@strawberry.type(description="A rectification check by the procuratorate, usually on site. Its findings are "
                             "shown to the addressee agency too: they are what it still has to do.")
class RectificationCheck:
    id: strawberry.ID
    result: RectificationResult
    checked_on: date
    findings: str
    open_items: list[OpenItem]
    follow_up_of_id: strawberry.ID | None = strawberry.field(
        description="The check this one follows up (回头看), whose open items it carried forward.")
    actor_name: str
    recorded_at: datetime
    row: strawberry.Private[models.RectificationCheck]

    @classmethod
    def from_model(cls, row: models.RectificationCheck) -> RectificationCheck:
        return cls(id=strawberry.ID(str(row.id)), result=row.result, checked_on=row.checked_on,
                   findings=row.findings, actor_name=row.actor_name, recorded_at=row.recorded_at,
                   open_items=[OpenItem(id=strawberry.ID(item["id"]), description=item["description"],
                                        first_check_id=strawberry.ID(item["first_check_id"]))
                               for item in row.open_items],
                   follow_up_of_id=strawberry.ID(str(row.follow_up_of_id)) if row.follow_up_of_id else None, row=row)

    @strawberry.field(description="Where the check was made, WGS84.")
    def location(self) -> GeoJSON:
        return to_shape(self.row.location)

    @strawberry.field(description="Geotagged photos and records of the check.")
    async def evidence(self, info: Info) -> list[Evidence]:
        return await _evidence(info, EvidenceOwnerKind.RECTIFICATION_CHECK, self.row.id)

    @strawberry.field
    async def recommendation(self, info: Info) -> Recommendation:
        return Recommendation.from_model(await service.get_recommendation(
            info.context.session, principal=info.context.principal, recommendation_id=self.row.recommendation_id))


def _case_loader(info: Info):
    return loader(info.context, "case_by_id", lambda ids: service.cases_by_id(
        info.context.session, principal=info.context.principal, case_ids=ids))


@strawberry.type(description="A pre-litigation procuratorial recommendation (诉前检察建议) to an agency. "
                             "`replied` and `rectification` are separate facts: a reply never rectifies.")
class Recommendation:
    id: strawberry.ID
    number: str = strawberry.field(description="The document number (文号), e.g. 卫东检公益建〔2026〕1号.")
    status: RecommendationStatus
    urgent: bool = strawberry.field(description="The harm keeps growing: 15 days to reply instead of two months.")
    content: str
    measures: str = strawberry.field(description="What the agency is asked to do.")
    legal_basis: str
    issued_on: date
    served_on: date | None = strawberry.field(
        description="The date the agency received it (宣告送达); the reply period runs from it.")
    service_witnesses: list[Witness]
    row: strawberry.Private[models.Recommendation]

    @classmethod
    def from_model(cls, row: models.Recommendation) -> Recommendation:
        return cls(id=strawberry.ID(str(row.id)), number=row.number, status=row.status, urgent=row.urgent,
                   content=row.content, measures=row.measures, legal_basis=row.legal_basis,
                   issued_on=row.issued_on, served_on=row.served_on,
                   service_witnesses=[Witness(name=item["name"], role=item["role"])
                                      for item in row.service_witnesses or ()], row=row)

    @strawberry.field(description="The agency it is addressed to.")
    async def addressee(self, info: Info) -> Agency | None:
        row = await agency_loader(info).load(self.row.agency_id)
        return Agency.from_model(row) if row else None

    @strawberry.field(description="The case it was issued in, if the caller may see the case (the addressee "
                                  "agency sees its recommendation, not the case).")
    async def case(self, info: Info) -> Case | None:
        row = await _case_loader(info).load(self.row.case_id)
        return Case.from_model(row) if row else None

    @strawberry.field(description="The jurisdiction of the procuratorate that issued it.")
    async def jurisdiction(self, info: Info) -> Jurisdiction:
        return Jurisdiction.from_model(await jurisdiction_loader(info).load(self.row.jurisdiction_id))

    @strawberry.field(description="The reply deadline (书面回复期限), from the served date: 15 days when urgent, two "
                                  "months otherwise (法释〔2018〕6号 art. 21); null until the service is recorded.")
    async def reply_deadline(self, info: Info) -> Deadline | None:
        return await deadline_field(info, subject_kind=service.SUBJECT_KIND, subject_id=self.row.id,
                                    rule=service.reply_rule(self.row))

    @strawberry.field(description="When the written reply is due; null until the service is recorded.")
    async def due_on(self, info: Info) -> date | None:
        deadline = await self.reply_deadline(info)
        return deadline.due_on if deadline else None

    @strawberry.field(description="Past its reply deadline without a reply.")
    async def is_overdue(self, info: Info) -> bool:
        deadline = await self.reply_deadline(info)
        return deadline is not None and deadline.is_overdue()

    @strawberry.field(description="Whether the agency has replied in writing.")
    async def replied(self, info: Info) -> bool:
        return await reply_loader(info).load(self.row.id) is not None

    @strawberry.field
    async def reply(self, info: Info) -> RecommendationReply | None:
        row = await reply_loader(info).load(self.row.id)
        return RecommendationReply.from_model(row) if row else None

    @strawberry.field(description="The agency's progress reports after its reply, oldest first.")
    async def progress_reports(self, info: Info) -> list[RectificationReport]:
        return [RectificationReport.from_model(row) for row in await reports_loader(info).load(self.row.id)]

    @strawberry.field(description="The rectification checks, in the order they were made.")
    async def checks(self, info: Info) -> list[RectificationCheck]:
        return [RectificationCheck.from_model(row) for row in await checks_loader(info).load(self.row.id)]

    @strawberry.field(description="What the latest check found; null until the procuratorate has checked.")
    async def rectification(self, info: Info) -> RectificationResult | None:
        checks = await checks_loader(info).load(self.row.id)
        return checks[-1].result if checks else None

    @strawberry.field(description="When rectification was verified: the date of the latest check, if it found "
                                  "the harm rectified.")
    async def rectification_verified_on(self, info: Info) -> date | None:
        checks = await checks_loader(info).load(self.row.id)
        latest = checks[-1] if checks else None
        return latest.checked_on if latest and latest.result is models.RectificationResult.RECTIFIED else None

    @strawberry.field(description="Every status change, oldest first.")
    async def history(self, info: Info) -> list[RecommendationStatusChange]:
        return [RecommendationStatusChange(action=row.action, from_status=row.from_status, to_status=row.to_status,
                                           actor_name=row.actor_name, reason=row.reason, changed_at=row.changed_at)
                for row in await recommendation_history_loader(info).load(self.row.id)]


@strawberry.input
class IssueRecommendationInput:
    addressee_agency_id: strawberry.ID = strawberry.field(
        description="An agency of the case's jurisdiction; need not be the referring one.")
    content: str = strawberry.field(description="The facts found and the reasoning.")
    measures: str = strawberry.field(description="What the agency is asked to do.")
    legal_basis: str
    urgent: bool = strawberry.field(default=False, description="15 days to reply instead of two months.")
    issued_on: date | None = strawberry.field(default=None, description="Today (Beijing) unless given.")

    def to_service(self) -> service.RecommendationDraft:
        return service.RecommendationDraft(
            addressee_agency_id=self.addressee_agency_id, content=self.content, measures=self.measures,
            legal_basis=self.legal_basis, urgent=self.urgent, issued_on=self.issued_on)


@strawberry.input
class WitnessInput:
    name: str
    role: str


@strawberry.input
class RecordRecommendationServedInput:
    served_on: date = strawberry.field(description="The date the agency received it.")
    witnesses: list[WitnessInput] = strawberry.field(default_factory=list)

    def witnesses_to_service(self) -> tuple[service.Witness, ...]:
        return tuple(service.Witness(name=item.name, role=item.role) for item in self.witnesses)


@strawberry.input
class RectificationStageInput:
    milestone: str
    due_on: date
    percent_complete: int = 0


@strawberry.input
class ReplyToRecommendationInput:
    accepted: bool
    measures_taken: str | None = strawberry.field(default=None, description="Required when accepted.")
    reasons: str | None = strawberry.field(default=None, description="Required when not accepted.")
    stages: list[RectificationStageInput] = strawberry.field(
        default_factory=list, description="The rectification plan, in order.")

    def to_service(self) -> rectification.ReplyDraft:
        return rectification.ReplyDraft(
            accepted=self.accepted, measures_taken=self.measures_taken, reasons=self.reasons,
            stages=tuple(rectification.StagePlan(milestone=stage.milestone, due_on=stage.due_on,
                                                 percent_complete=stage.percent_complete) for stage in self.stages))


@strawberry.input
class StageUpdateInput:
    stage_id: strawberry.ID
    percent_complete: int


@strawberry.input
class ReportRectificationProgressInput:
    updates: list[StageUpdateInput] = strawberry.field(default_factory=list)
    note: str | None = None

    def to_service(self) -> rectification.ProgressReport:
        return rectification.ProgressReport(
            note=self.note, updates=tuple(rectification.StageUpdate(stage_id=item.stage_id,
                                                                    percent_complete=item.percent_complete)
                                          for item in self.updates))


@strawberry.input
class RecordRectificationCheckInput:
    checked_on: date
    findings: str
    location: GeoJSON = strawberry.field(description="Where the check was made (a point or the area walked).")
    crs: CoordinateSystem = CoordinateSystem.WGS84
    open_items: list[str] = strawberry.field(default_factory=list, description="What remains to be done.")
    follow_up_of: strawberry.ID | None = strawberry.field(
        default=None, description="The check this one follows up (回头看): its open items are carried forward.")
    resolved_open_item_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Open items of the followed-up check that are done now.")
    reopen_reason: str | None = strawberry.field(
        default=None, description="Reopens follow-up of a closed case (the rectification fell short).")

    def to_service(self, result: models.RectificationResult) -> rectification.CheckRecord:
        return rectification.CheckRecord(
            result=result, checked_on=self.checked_on, findings=self.findings, location=self.location,
            crs=self.crs, open_items=tuple(self.open_items), follow_up_of=self.follow_up_of,
            resolved_open_items=tuple(self.resolved_open_item_ids), reopen_reason=self.reopen_reason)


@strawberry.input
class RecommendationFilter:
    status: list[RecommendationStatus] | None = None
    addressee_agency_id: strawberry.ID | None = None
    urgent: bool | None = None
    overdue: bool | None = strawberry.field(default=None, description="Past its reply deadline without a reply.")
    jurisdiction_code: str | None = strawberry.field(default=None, description="A jurisdiction and everything below.")
    issued_from: date | None = None
    issued_to: date | None = None
    case_id: strawberry.ID | None = None
    domain: list[str] | None = strawberry.field(default=None, description="The case's domain codes.")
    party: PartyFilterInput | None = strawberry.field(
        default=None, description="Recommendations in cases against a party: by code, identity number or name.")

    def to_service(self) -> service.RecommendationFilter:
        return service.RecommendationFilter(
            statuses=tuple(self.status or ()), addressee_agency_id=self.addressee_agency_id, urgent=self.urgent,
            overdue=self.overdue, jurisdiction_code=self.jurisdiction_code, issued_from=self.issued_from,
            issued_to=self.issued_to, case_id=self.case_id, domain_codes=tuple(self.domain or ()),
            party=self.party.to_service() if self.party else None)


RecommendationOrder = strawberry.enum(service.RecommendationOrder, description="The order of a recommendation list.")
