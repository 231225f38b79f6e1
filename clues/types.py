"""GraphQL types of clue models, their versions, runs, hits and funnels."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from agencies.loaders import jurisdiction_loader
from agencies.types import Jurisdiction
from cases.types import Case
from clues import models, service
from clues.conditions import FIELDS, FOLLOW_UPS
from core.loaders import loader
from core.permissions import require
from enforcement.types import EnforcementCase

ClueSubject = strawberry.enum(models.ClueSubject, description="What a clue model screens.")
ClueModelStatus = strawberry.enum(models.ClueModelStatus)
ClueHitStatus = strawberry.enum(models.ClueHitStatus, description="Where a hit stands in the prosecutors' queue.")
ClueRunTrigger = strawberry.enum(models.ClueRunTrigger)

CONDITIONS_DESCRIPTION = (
    "The conditions, a JSON tree: {\"all\": [...]}, {\"any\": [...]}, {\"not\": {...}}, "
    "{\"field\": \"enforcement.amount\", \"op\": \"gte\", \"value\": 10000}, "
    "{\"overlapsLayer\": \"PERMANENT_FARMLAND\" (a layer kind or code)}, "
    "{\"exists\": " + " | ".join(f"\"{name}\"" for name in FOLLOW_UPS) + "}. Fields: "
    + ", ".join(f"{name} ({', '.join(field.ops)})" for name, field in FIELDS.items()) + ".")


@strawberry.type(description="What came of a model's hits, each stage counted in hits: a referral of the hit's "
                             "record by its agency, a case (filed from such a referral or opened from the record "
                             "as the procuratorate's own clue), a recommendation in such a case, and a "
                             "rectification verified by the recommendation's latest check. Only what followed the "
                             "hit counts; only hits the caller may see are counted.")
class ClueFunnel:
    hits: int
    referrals: int
    cases: int
    recommendations: int
    rectified: int

    @classmethod
    def from_service(cls, funnel: service.Funnel) -> ClueFunnel:
        return cls(hits=funnel.hits, referrals=funnel.referrals, cases=funnel.cases,
                   recommendations=funnel.recommendations, rectified=funnel.rectified)


@strawberry.type
class ClueStatusChange:
    action: str
    from_status: str | None
    to_status: str
    actor_name: str
    reason: str | None
    changed_at: datetime

    @classmethod
    def from_model(cls, row) -> ClueStatusChange:
        return cls(action=row.action, from_status=row.from_status.value if row.from_status else None,
                   to_status=row.to_status.value, actor_name=row.actor_name, reason=row.reason,
                   changed_at=row.changed_at)


def _funnel_loader(info: Info, name: str, load):
    principal = info.context.principal
    require(principal, *service.SCREENING_READERS)  # before anything is queued

    async def batch(ids: list[uuid.UUID]) -> dict:
        return await load(info.context.session, principal=principal, **{name: ids})

    return loader(info.context, f"clue_funnel_{name}", batch)


@strawberry.type(description="One revision of a model's conditions.")
class ClueModelVersion:
    version: int
    conditions: JSON
    note: str | None
    author_name: str
    created_at: datetime
    row: strawberry.Private[models.ClueModelVersion]

    @classmethod
    def from_model(cls, row: models.ClueModelVersion) -> ClueModelVersion:
        return cls(version=row.version, conditions=row.conditions, note=row.note, author_name=row.actor_name,
                   created_at=row.created_at, row=row)

    @strawberry.field(description="The funnel of the hits this version found (FORBIDDEN to agencies).")
    async def funnel(self, info: Info) -> ClueFunnel | None:
        found = await _funnel_loader(info, "version_ids", service.version_funnels).load(self.row.id)
        return ClueFunnel.from_service(found)


@strawberry.type(description="One application of a model to the records in its scope.")
class ClueModelRun:
    id: strawberry.ID
    version: int
    trigger: ClueRunTrigger
    started_at: datetime
    finished_at: datetime | None
    matched: int = strawberry.field(description="Records the conditions matched.")
    hits_found: int = strawberry.field(description="Of them, records this model had not hit before.")

    @classmethod
    def from_model(cls, row: models.ClueModelRun) -> ClueModelRun:
        return cls(id=strawberry.ID(str(row.id)), version=row.version, trigger=row.trigger, started_at=row.started_at,
                   finished_at=row.finished_at, matched=row.matched, hits_found=row.hits_found)


@strawberry.type(description="A named screening of enforcement cases saved as a versioned rule (数据线索模型).")
class ClueModel:
    id: strawberry.ID
    name: str
    description: str | None
    subject: ClueSubject
    status: ClueModelStatus
    current_version: int
    created_at: datetime
    row: strawberry.Private[models.ClueModel]

    @classmethod
    def from_model(cls, row: models.ClueModel) -> ClueModel:
        return cls(id=strawberry.ID(str(row.id)), name=row.name, description=row.description, subject=row.subject,
                   status=row.status, current_version=row.current_version, created_at=row.created_at, row=row)

    async def _versions(self, info: Info) -> list[models.ClueModelVersion]:
        async def load(ids: list[uuid.UUID]) -> dict:
            return await service.versions_of(info.context.session, ids)

        return await loader(info.context, "clue_model_versions", load, default=[]).load(self.row.id)

    @strawberry.field(description=CONDITIONS_DESCRIPTION + " (Those of the current version.)")
    async def conditions(self, info: Info) -> JSON:
        return (await self._versions(info))[-1].conditions

    @strawberry.field(description="Every version, oldest first.")
    async def versions(self, info: Info) -> list[ClueModelVersion]:
        return [ClueModelVersion.from_model(row) for row in await self._versions(info)]

    @strawberry.field(description="The procuratorate's jurisdiction the model screens (and those below it).")
    async def jurisdiction(self, info: Info) -> Jurisdiction:
        return Jurisdiction.from_model(await jurisdiction_loader(info).load(self.row.jurisdiction_id))

    @strawberry.field(description="Created and retired, with who, when and why.")
    async def history(self, info: Info) -> list[ClueStatusChange]:
        async def load(ids: list[uuid.UUID]) -> dict:
            return await service.model_history(info.context.session, ids)

        rows = await loader(info.context, "clue_model_history", load, default=[]).load(self.row.id)
        return [ClueStatusChange.from_model(row) for row in rows]

    @strawberry.field(description="What came of the model's hits, all versions together (FORBIDDEN to agencies).")
    async def funnel(self, info: Info) -> ClueFunnel | None:
        found = await _funnel_loader(info, "model_ids", service.funnels).load(self.row.id)
        return ClueFunnel.from_service(found)

    @strawberry.field(description="The latest runs, newest first (FORBIDDEN to agencies).")
    async def runs(self, info: Info, last: int = 20) -> list[ClueModelRun] | None:
        rows = await service.runs_of(info.context.session, principal=info.context.principal, model_id=self.row.id,
                                     limit=max(0, min(last, 100)))
        return [ClueModelRun.from_model(row) for row in rows]


@strawberry.type(description="A record a clue model matched, queued for the prosecutors of the model's "
                             "procuratorate.")
class ClueHit:
    id: strawberry.ID
    status: ClueHitStatus
    found_at: datetime
    row: strawberry.Private[models.ClueHit]

    @classmethod
    def from_model(cls, row: models.ClueHit) -> ClueHit:
        return cls(id=strawberry.ID(str(row.id)), status=row.status, found_at=row.found_at, row=row)

    @strawberry.field(description="The version of the model that found it.")
    async def version(self, info: Info) -> int:
        async def load(ids: list[uuid.UUID]) -> dict:
            return await service.version_numbers(info.context.session, ids)

        return await loader(info.context, "clue_version_numbers", load).load(self.row.version_id)

    @strawberry.field
    async def model(self, info: Info) -> ClueModel:
        async def load(ids: list[uuid.UUID]) -> dict:
            return await service.models_by_id(info.context.session, ids)

        return ClueModel.from_model(await loader(info.context, "clue_models", load).load(self.row.model_id))

    @strawberry.field(description="The enforcement case it matched.")
    async def enforcement_case(self, info: Info) -> EnforcementCase | None:
        principal = info.context.principal

        async def load(ids: list[uuid.UUID]) -> dict:
            return await service.records_of(info.context.session, principal=principal, record_ids=ids)

        row = await loader(info.context, "clue_hit_records", load).load(self.row.enforcement_case_id)
        return EnforcementCase.from_model(row) if row else None

    @strawberry.field(description="The case opened from it (openCaseFromClueHit), when there is one.")
    async def case(self, info: Info) -> Case | None:
        if self.row.case_id is None:
            return None
        principal = info.context.principal

        async def load(ids: list[uuid.UUID]) -> dict:
            return await service.cases_of(info.context.session, principal=principal, case_ids=ids)

        row = await loader(info.context, "clue_hit_cases", load).load(self.row.case_id)
        return Case.from_model(row) if row else None

    @strawberry.field(description="Dismissed, reopened, taken up: who, when and why.")
    async def history(self, info: Info) -> list[ClueStatusChange]:
        async def load(ids: list[uuid.UUID]) -> dict:
            return await service.hit_history(info.context.session, ids)

        rows = await loader(info.context, "clue_hit_history", load, default=[]).load(self.row.id)
        return [ClueStatusChange.from_model(row) for row in rows]


@strawberry.input
class CreateClueModelInput:
    name: str
    conditions: JSON = strawberry.field(description=CONDITIONS_DESCRIPTION)
    description: str | None = None
    subject: ClueSubject = ClueSubject.ENFORCEMENT_CASE

    def to_service(self) -> service.ModelDraft:
        return service.ModelDraft(name=self.name, conditions=self.conditions, description=self.description,
                                  subject=self.subject)


@strawberry.input
class ReviseClueModelInput:
    conditions: JSON = strawberry.field(description=CONDITIONS_DESCRIPTION)
    note: str | None = strawberry.field(default=None, description="What changed and why.")
    name: str | None = None
    description: str | None = None

    def to_service(self) -> service.ModelRevision:
        return service.ModelRevision(conditions=self.conditions, note=self.note, name=self.name,
                                     description=self.description)


@strawberry.input
class ClueHitFilter:
    model_id: strawberry.ID | None = None
    status: list[ClueHitStatus] | None = None

    def to_service(self) -> service.HitFilter:
        return service.HitFilter(model_id=self.model_id, statuses=tuple(self.status or ()))
