"""Queries and mutations for referrals."""

from __future__ import annotations

from dataclasses import replace

import strawberry
from strawberry.types import Info

from core.connection import Connection, selects
from core.pagination import page_request
from evidence import service as evidence_service
from evidence.service import bomb_limits
from evidence.types import EvidenceInput, incoming_files
from geo.types import CoordinateSystem, GeoJSON
from parties.protection import protection_for
from referral import service
from referral.flows import ReferralAction
from referral.types import (
    UNLOADED,
    NearbyReferral,
    Referral,
    ReferralDomain,
    ReferralFilter,
    ResubmitReferralInput,
    SubmitReferralInput,
)


@strawberry.type
class ReferralQuery:
    @strawberry.field(description="The domains a clue can be referred under.")
    async def referral_domains(self, info: Info) -> list[ReferralDomain] | None:
        rows = await service.list_domains(info.context.session, principal=info.context.principal)
        return [ReferralDomain.from_model(row) for row in rows]

    @strawberry.field(description="Referrals the caller may see, newest first.")
    async def referrals(self, info: Info, filter: ReferralFilter | None = None, first: int | None = None,
                        after: str | None = None) -> Connection[Referral] | None:
        request = page_request(info.context.settings.api, first, after,
                               with_total_count=selects(info, "totalCount"))
        principal, session = info.context.principal, info.context.session
        with_agency = selects(info, "edges", "node", "agency")
        page = await service.list_referrals(session, principal=principal,
                                            filters=(filter or ReferralFilter()).to_service(), page=request,
                                            with_agency=with_agency,
                                            with_facts=selects(info, "edges", "node", "facts"),
                                            protection=protection_for(info.context.settings.protection))
        # The page's relations are fetched for all of it here (the agencies came with the page),
        # so each row's fields resolve without waiting.
        pairs = page.items if with_agency else [(referral, UNLOADED) for referral in page.items]
        evidence = UNLOADED
        if selects(info, "edges", "node", "evidence") and pairs:
            evidence = await evidence_service.list_evidence(
                session, principal=principal, referral_ids=[referral.id for referral, _ in pairs])
        nodes = [Referral.from_model(referral, agency=agency,
                                     evidence=UNLOADED if evidence is UNLOADED else evidence[referral.id])
                 for referral, agency in pairs]
        return Connection.from_page(replace(page, items=nodes), lambda node: node)

    @strawberry.field(description="Referrals within `meters` of a geometry, nearest first (at most 50): "
                                  "possible duplicates of a clue.")
    async def referrals_near(self, info: Info, geometry: GeoJSON, meters: float,
                             crs: CoordinateSystem = CoordinateSystem.WGS84) -> list[NearbyReferral] | None:
        rows = await service.referrals_near(info.context.session, principal=info.context.principal,
                                            geometry=geometry, meters=meters, crs=crs)
        return [NearbyReferral(referral=Referral.from_model(row), distance_meters=distance)
                for row, distance in rows]

    @strawberry.field
    async def referral(self, info: Info, id: strawberry.ID) -> Referral | None:
        return Referral.from_model(await service.get_referral(
            info.context.session, principal=info.context.principal, referral_id=id))


@strawberry.type
class ReferralMutation:
    @strawberry.mutation(description="Refer a clue with its evidence. All of it is saved, or none.")
    async def submit_referral(self, info: Info, input: SubmitReferralInput,
                              evidence: list[EvidenceInput] | None = None) -> Referral:
        data = service.ReferralSubmission(
            domain_code=input.domain, title=input.title, facts=input.facts, geometry=input.geometry,
            crs=input.crs, address=input.address, found_on=input.found_on,
            special_investigation=input.special_investigation, idempotency_key=input.idempotency_key,
            harms=tuple(input.harms), legal_basis=input.legal_basis, urgent=input.urgent,
            parties=tuple(party.to_service() for party in input.parties or ()),
            cross_boundary=input.cross_boundary)
        referral = await service.submit_referral(
            info.context.session, principal=info.context.principal, store=info.context.store, data=data,
            files=incoming_files(evidence), max_upload_bytes=info.context.settings.api.max_upload_bytes,
            limits=bomb_limits(info.context.settings.api),
            protection=protection_for(info.context.settings.protection))
        return Referral.from_model(referral)

    @strawberry.mutation(description="Add a referral domain, or rename or retire one (administrators).")
    async def save_referral_domain(self, info: Info, code: str, name_zh: str, name_en: str,
                                   is_active: bool = True) -> ReferralDomain:
        return ReferralDomain.from_model(await service.save_domain(
            info.context.session, principal=info.context.principal, code=code, name_zh=name_zh,
            name_en=name_en, is_active=is_active))

    @strawberry.mutation(description="The referring agency takes back a referral not yet registered (submitted "
                                     "or returned to it).")
    async def withdraw_referral(self, info: Info, id: strawberry.ID, reason: str) -> Referral:
        return Referral.from_model(await service.change_status(
            info.context.session, principal=info.context.principal, referral_id=id,
            action=ReferralAction.WITHDRAW, reason=reason))

    @strawberry.mutation(description="The procuratorate registers (登记) a submitted referral.")
    async def register_referral(self, info: Info, id: strawberry.ID) -> Referral:
        return Referral.from_model(await service.change_status(
            info.context.session, principal=info.context.principal, referral_id=id,
            action=ReferralAction.REGISTER))

    @strawberry.mutation(description="The procuratorate returns a submitted or registered referral to the "
                                     "agency for more material (退回补充材料), saying what is needed.")
    async def return_referral(self, info: Info, id: strawberry.ID, reason: str) -> Referral:
        return Referral.from_model(await service.change_status(
            info.context.session, principal=info.context.principal, referral_id=id,
            action=ReferralAction.RETURN, reason=reason))

    @strawberry.mutation(description="The referring agency edits a returned referral and sends it back. "
                                     "`version` is the referral's version the edit was based on: an older "
                                     "one is CONFLICT.")
    async def resubmit_referral(self, info: Info, id: strawberry.ID, version: int,
                                input: ResubmitReferralInput) -> Referral:
        return Referral.from_model(await service.resubmit_referral(
            info.context.session, principal=info.context.principal, referral_id=id, version=version,
            edit=input.to_service(), protection=protection_for(info.context.settings.protection)))

    @strawberry.mutation(description="The procuratorate decides a registered clue does not warrant a case "
                                     "(不予立案), saying why.")
    async def decline_referral(self, info: Info, id: strawberry.ID, reason: str) -> Referral:
        return Referral.from_model(await service.change_status(
            info.context.session, principal=info.context.principal, referral_id=id,
            action=ReferralAction.DECLINE, reason=reason))
