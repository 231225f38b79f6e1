"""Mutations on evidence itself (its files arrive with their owners' mutations)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from evidence import service
from evidence.types import EvidenceVerification


@strawberry.type
class EvidenceMutation:
    @strawberry.mutation(description=(
        "Re-hash the stored file and check its custody chain (prosecutors, within their scope). "
        "The check and its result are written to the custody log."))
    async def verify_evidence(self, info: Info, id: strawberry.ID) -> EvidenceVerification:
        result = await service.verify_evidence(info.context.session, principal=info.context.principal,
                                               store=info.context.store, evidence_id=id)
        return EvidenceVerification.from_result(result)
