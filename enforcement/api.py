"""Queries and mutations for enforcement cases."""

from __future__ import annotations

import strawberry
from strawberry.file_uploads import Upload
from strawberry.types import Info

from app import multipart
from cases.types import Case, OpenCaseInput
from core.connection import Connection, selects
from core.errors import ValidationFailed
from core.pagination import page_request
from enforcement import importer, service
from enforcement.types import (
    EnforcementCase,
    EnforcementCaseFilter,
    EnforcementImportReport,
    RecordEnforcementCaseInput,
)
from evidence.service import bomb_limits
from evidence.types import EvidenceInput, incoming_files
from parties.protection import protection_for
from referral.service import ReferralSubmission
from referral.types import Referral, SubmitReferralInput


@strawberry.type
class EnforcementQuery:
    @strawberry.field(description="Enforcement cases the caller may see, latest entries first: a liaison its "
                                  "agency's, prosecutors and assessors their jurisdictions'.")
    async def enforcement_cases(self, info: Info, filter: EnforcementCaseFilter | None = None,
                                first: int | None = None, after: str | None = None
                                ) -> Connection[EnforcementCase] | None:
        request = page_request(info.context.settings.api, first, after,
                               with_total_count=selects(info, "totalCount"))
        page = await service.list_enforcement_cases(
            info.context.session, principal=info.context.principal,
            filters=(filter or EnforcementCaseFilter()).to_service(), page=request,
            protection=protection_for(info.context.settings.protection))
        return Connection.from_page(page, EnforcementCase.from_model)

    @strawberry.field
    async def enforcement_case(self, info: Info, id: strawberry.ID) -> EnforcementCase | None:
        return EnforcementCase.from_model(await service.get_enforcement_case(
            info.context.session, principal=info.context.principal, case_id=id))


@strawberry.type
class EnforcementMutation:
    @strawberry.mutation(description="An agency liaison enters one of its agency's enforcement cases.")
    async def record_enforcement_case(self, info: Info, input: RecordEnforcementCaseInput) -> EnforcementCase:
        return EnforcementCase.from_model(await service.record_enforcement_case(
            info.context.session, principal=info.context.principal, entry=input.to_service(),
            protection=protection_for(info.context.settings.protection)))

    @strawberry.mutation(description="Import the agency's enforcement cases from a CSV or XLSX file (the template "
                                     "at /enforcement-cases/template.xlsx or .csv): all rows or none, with every "
                                     "problem by row and column; re-importing the same file changes nothing.")
    async def import_enforcement_cases(self, info: Info, file: Upload) -> EnforcementImportReport:
        if not isinstance(file, multipart.Upload):
            raise ValidationFailed("文件须以 multipart 方式上传 / send the file as a part of a multipart request",
                                   field="file")
        return EnforcementImportReport.from_report(await importer.import_enforcement_cases(
            info.context.session, principal=info.context.principal, source=file,
            max_bytes=info.context.settings.api.max_upload_bytes,
            protection=protection_for(info.context.settings.protection)))

    @strawberry.mutation(description="The agency refers a clue found in one of its own enforcement cases: a "
                                     "referral linked to the record (its parties when none are given).")
    async def open_referral_from_enforcement_case(self, info: Info, enforcement_case_id: strawberry.ID,
                                                  input: SubmitReferralInput,
                                                  evidence: list[EvidenceInput] | None = None) -> Referral:
        data = ReferralSubmission(
            domain_code=input.domain, title=input.title, facts=input.facts, geometry=input.geometry,
            crs=input.crs, address=input.address, found_on=input.found_on,
            special_investigation=input.special_investigation, idempotency_key=input.idempotency_key,
            harms=tuple(input.harms), legal_basis=input.legal_basis, urgent=input.urgent,
            parties=tuple(party.to_service() for party in input.parties or ()))
        referral = await service.open_referral(
            info.context.session, principal=info.context.principal, store=info.context.store,
            enforcement_case_id=enforcement_case_id, data=data, files=incoming_files(evidence),
            max_upload_bytes=info.context.settings.api.max_upload_bytes,
            limits=bomb_limits(info.context.settings.api), protection=protection_for(info.context.settings.protection))
        return Referral.from_model(referral)

    @strawberry.mutation(description="A prosecutor who found a clue by screening enforcement cases opens a case from "
                                     "the procuratorate's own clue (as `openCase`), linked to the record; its parties "
                                     "when none are given.")
    async def open_case_from_enforcement_case(self, info: Info, enforcement_case_id: strawberry.ID,
                                              input: OpenCaseInput) -> Case:
        return Case.from_model(await service.open_case_from_record(
            info.context.session, principal=info.context.principal, enforcement_case_id=enforcement_case_id,
            opening=input.to_service(), protection=protection_for(info.context.settings.protection)))
