"""attachEvidence: a file added to a referral after its submission (referral.attachments). The
presigned path for large files is recommendations.evidence_api (it serves every owner)."""

from __future__ import annotations

from dataclasses import replace

import strawberry
from strawberry.file_uploads import Upload
from strawberry.types import Info

from evidence.kinds import EvidenceKind as EvidenceKindEnum
from evidence.service import bomb_limits
from evidence.types import (
    DeclaredPositionInput,
    Evidence,
    EvidenceInput,
    EvidenceKind,
    incoming_files,
)
from referral import attachments


@strawberry.type
class ReferralEvidenceMutation:
    @strawberry.mutation(description="Add a file to a referral: its agency's liaison while the referral is open, "
                                     "prosecutors of the receiving procuratorate. Streamed like submitReferral's. A retry "
                                     "with the same `idempotencyKey` and file adds nothing new.")
    async def attach_evidence(self, info: Info, referral_id: strawberry.ID, file: Upload,
                              kind: EvidenceKind | None = None, description: str | None = None,
                              idempotency_key: str | None = None,
                              declared_position: DeclaredPositionInput | None = None) -> Evidence:
        kind_value = None if kind is None else EvidenceKindEnum(kind)
        [incoming] = incoming_files([EvidenceInput(file=file, description=description, kind=kind_value)], "file")
        if declared_position is not None:
            incoming = replace(incoming, declared=declared_position.to_service("declaredPosition"))
        api = info.context.settings.api
        return Evidence.from_model(await attachments.attach_evidence(
            info.context.session, principal=info.context.principal, store=info.context.store,
            referral_id=referral_id, incoming=incoming, max_upload_bytes=api.max_upload_bytes,
            limits=bomb_limits(api), idempotency_key=idempotency_key))
