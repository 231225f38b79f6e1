"""Queries and mutations for cases."""

from __future__ import annotations

from datetime import date

import strawberry
from strawberry.types import Info

from cases import service
from cases.types import Case, CaseFilter, FileCaseInput
from core.connection import Connection, selects
from core.pagination import page_request


@strawberry.type
class CaseQuery:
    @strawberry.field(description="Cases the caller may see, newest first.")
    async def cases(self, info: Info, filter: CaseFilter | None = None, first: int | None = None,
                    after: str | None = None) -> Connection[Case] | None:
        request = page_request(info.context.settings.api, first, after,
                               with_total_count=selects(info, "totalCount"))
        page = await service.list_cases(info.context.session, principal=info.context.principal,
                                        filters=(filter or CaseFilter()).to_service(), page=request)
        return Connection.from_page(page, Case.from_model)

    @strawberry.field
    async def case(self, info: Info, id: strawberry.ID) -> Case | None:
        return Case.from_model(await service.get_case(info.context.session, principal=info.context.principal,
                                                      case_id=id))


@strawberry.type
class CaseMutation:
    @strawberry.mutation(description="The procuratorate files a case (立案) from a registered referral: the "
                                     "referral becomes CASE_FILED and the case is numbered by the "
                                     "procuratorate that received it.")
    async def file_case(self, info: Info, referral_id: strawberry.ID, input: FileCaseInput) -> Case:
        return Case.from_model(await service.file_case(info.context.session, principal=info.context.principal,
                                                       referral_id=referral_id, filing=input.to_service()))

    @strawberry.mutation(description="The procuratorate records when the filing decision was served on the "
                                     "referring agency (once; the same date again is accepted).")
    async def record_case_decision_served(self, info: Info, case_id: strawberry.ID, served_on: date) -> Case:
        return Case.from_model(await service.record_decision_served(
            info.context.session, principal=info.context.principal, case_id=case_id, served_on=served_on))
