"""Queries and mutations for clue models and their hits."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from cases.types import OpenCaseInput
from clues import service
from clues.types import (
    ClueHit,
    ClueHitFilter,
    ClueModel,
    ClueModelRun,
    ClueModelStatus,
    CreateClueModelInput,
    ReviseClueModelInput,
)
from core.connection import Connection, selects
from core.pagination import page_request
from enforcement.types import EnforcementCase
from parties.protection import protection_for


def _page(info: Info, first: int | None, after: str | None):
    return page_request(info.context.settings.api, first, after, with_total_count=selects(info, "totalCount"))


@strawberry.type
class ClueQuery:
    @strawberry.field(description="The clue models the caller may see, newest first: a procuratorate's to its "
                                  "prosecutors and assessors (and those above), the active ones of its jurisdiction "
                                  "and above to an agency.")
    async def clue_models(self, info: Info, status: ClueModelStatus | None = None, first: int | None = None,
                          after: str | None = None) -> Connection[ClueModel]:
        page = await service.list_models(info.context.session, principal=info.context.principal, status=status,
                                         page=_page(info, first, after))
        return Connection.from_page(page, ClueModel.from_model)

    @strawberry.field
    async def clue_model(self, info: Info, id: strawberry.ID) -> ClueModel:
        return ClueModel.from_model(await service.get_model(info.context.session, principal=info.context.principal,
                                                            model_id=id))

    @strawberry.field(description="A dry run: the records the model's current version matches today among those "
                                  "the caller may see (an agency: its own). Nothing is stored.")
    async def clue_model_matches(self, info: Info, id: strawberry.ID, first: int | None = None,
                                 after: str | None = None) -> Connection[EnforcementCase]:
        page = await service.model_matches(info.context.session, principal=info.context.principal, model_id=id,
                                           page=_page(info, first, after))
        return Connection.from_page(page, EnforcementCase.from_model)

    @strawberry.field(description="The prosecutors' queue of hits, newest first, within the caller's scope "
                                  "(FORBIDDEN to agencies).")
    async def clue_hits(self, info: Info, filter: ClueHitFilter | None = None, first: int | None = None,
                        after: str | None = None) -> Connection[ClueHit]:
        page = await service.list_hits(info.context.session, principal=info.context.principal,
                                       filters=(filter or ClueHitFilter()).to_service(), page=_page(info, first, after))
        return Connection.from_page(page, ClueHit.from_model)

    @strawberry.field
    async def clue_hit(self, info: Info, id: strawberry.ID) -> ClueHit:
        return ClueHit.from_model(await service.get_hit(info.context.session, principal=info.context.principal,
                                                        hit_id=id))


@strawberry.type
class ClueMutation:
    @strawberry.mutation(description="A prosecutor saves a screening as a clue model of their procuratorate.")
    async def create_clue_model(self, info: Info, input: CreateClueModelInput) -> ClueModel:
        return ClueModel.from_model(await service.create_model(
            info.context.session, principal=info.context.principal, draft=input.to_service()))

    @strawberry.mutation(description="New conditions as the model's next version; hits found so far keep theirs.")
    async def revise_clue_model(self, info: Info, id: strawberry.ID, input: ReviseClueModelInput) -> ClueModel:
        return ClueModel.from_model(await service.revise_model(
            info.context.session, principal=info.context.principal, model_id=id, revision=input.to_service()))

    @strawberry.mutation(description="Retire a model (it runs no more); the reason is kept in its history.")
    async def retire_clue_model(self, info: Info, id: strawberry.ID, reason: str) -> ClueModel:
        return ClueModel.from_model(await service.retire_model(
            info.context.session, principal=info.context.principal, model_id=id, reason=reason))

    @strawberry.mutation(description="Run an active model now over the records of its jurisdiction and below: new "
                                     "hits are queued (a record is hit once per model).")
    async def run_clue_model(self, info: Info, id: strawberry.ID) -> ClueModelRun:
        return ClueModelRun.from_model(await service.run_model(
            info.context.session, principal=info.context.principal, model_id=id))

    @strawberry.mutation(description="A prosecutor dismisses a hit as no clue, saying why.")
    async def dismiss_clue_hit(self, info: Info, id: strawberry.ID, reason: str) -> ClueHit:
        return ClueHit.from_model(await service.dismiss_hit(
            info.context.session, principal=info.context.principal, hit_id=id, reason=reason))

    @strawberry.mutation(description="A prosecutor puts a dismissed hit back in the queue, saying why.")
    async def reopen_clue_hit(self, info: Info, id: strawberry.ID, reason: str) -> ClueHit:
        return ClueHit.from_model(await service.reopen_hit(
            info.context.session, principal=info.context.principal, hit_id=id, reason=reason))

    @strawberry.mutation(description="A prosecutor takes a hit up: a case from the procuratorate's own clue opened "
                                     "from the hit's enforcement case (as `openCaseFromEnforcementCase`).")
    async def open_case_from_clue_hit(self, info: Info, hit_id: strawberry.ID, input: OpenCaseInput) -> ClueHit:
        return ClueHit.from_model(await service.open_case_from_hit(
            info.context.session, principal=info.context.principal, hit_id=hit_id, opening=input.to_service(),
            protection=protection_for(info.context.settings.protection)))
