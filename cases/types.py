"""GraphQL types of cases."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from agencies.loaders import agency_loader, jurisdiction_loader
from agencies.types import Agency, Jurisdiction
from cases import models, service
from cases.loaders import case_history_loader
from cases.models import Case as CaseModel
from cases.models import CaseStatusChange as CaseStatusChangeModel

if TYPE_CHECKING:  # recommendations builds on cases: its type is named lazily
    from recommendations.types import Recommendation

CaseKind = strawberry.enum(models.CaseKind, description="Administrative (行政), civil (民事) or criminal-incidental "
                                                        "civil (刑事附带民事) public-interest litigation.")
CaseStatus = strawberry.enum(models.CaseStatus, description="Where a case stands.")


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


@strawberry.type(description="A public-interest case (公益诉讼案件) filed by a procuratorate.")
class Case:
    id: strawberry.ID
    number: str = strawberry.field(description="The filing decision's number (文号), e.g. 卫东检公益立〔2026〕1号.")
    kind: CaseKind
    status: CaseStatus
    filed_on: date = strawberry.field(description="The filing date (Beijing).")
    decision_served_on: date | None = strawberry.field(
        description="When the filing decision was served on the referring agency, once known.")
    referral_id: strawberry.ID | None = strawberry.field(description="The referral it was filed from.")
    row: strawberry.Private[CaseModel]

    @classmethod
    def from_model(cls, row: CaseModel) -> Case:
        return cls(id=strawberry.ID(str(row.id)), number=row.number, kind=row.kind, status=row.status,
                   filed_on=row.filed_on, decision_served_on=row.decision_served_on,
                   referral_id=strawberry.ID(str(row.referral_id)) if row.referral_id else None, row=row)

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


@strawberry.input
class FileCaseInput:
    kind: CaseKind
    decision_served_on: date | None = strawberry.field(
        default=None, description="When the filing decision was served on the agency, if already.")

    def to_service(self) -> service.CaseFiling:
        return service.CaseFiling(kind=self.kind, decision_served_on=self.decision_served_on)


@strawberry.input
class CaseFilter:
    status: list[CaseStatus] | None = None
    kind: list[CaseKind] | None = None
    agency_id: strawberry.ID | None = None
    jurisdiction_code: str | None = strawberry.field(
        default=None, description="A jurisdiction and everything below it.")
    filed_from: date | None = None
    filed_to: date | None = None

    def to_service(self) -> service.CaseFilter:
        return service.CaseFilter(statuses=tuple(self.status or ()), kinds=tuple(self.kind or ()),
                                  agency_id=self.agency_id, jurisdiction_code=self.jurisdiction_code,
                                  filed_from=self.filed_from, filed_to=self.filed_to)
