"""Large files sent straight to the store (evidence.presigned) for any evidence owner: a referral
(referral.attachments decides who may add), a reply, a rectification report or check
(recommendations.attachments). Here because this package sees both."""

from __future__ import annotations

import uuid

import strawberry
from strawberry.types import Info

from evidence import presigned
from evidence.models import EvidenceOwnerKind
from evidence.service import EvidenceOwner, bomb_limits
from evidence.types import Evidence, EvidenceUpload, RequestEvidenceUploadInput
from recommendations import attachments as recommendation_attachments
from referral import attachments as referral_attachments


async def attachable(session, *, principal, kind: EvidenceOwnerKind, owner_id: str | uuid.UUID,
                     lock: bool = False) -> EvidenceOwner:
    if kind is EvidenceOwnerKind.REFERRAL:
        return await referral_attachments.attachable_referral(session, principal=principal, referral_id=owner_id,
                                                              lock=lock)
    return await recommendation_attachments.attachable_owner(session, principal=principal, kind=kind,
                                                             owner_id=owner_id, lock=lock)


@strawberry.type
class PresignedEvidenceMutation:
    @strawberry.mutation(description="Open an upload of a large file straight to the store: presigned part URLs. "
                                     "For a referral, a reply, a rectification report or check (`ownerKind`), by "
                                     "whoever may add files to it.")
    async def request_evidence_upload(self, info: Info, input: RequestEvidenceUploadInput) -> EvidenceUpload:
        session, principal = info.context.session, info.context.principal
        request = input.to_service()
        owner = await attachable(session, principal=principal, kind=EvidenceOwnerKind(input.owner_kind),
                                 owner_id=input.owner)
        upload = await presigned.request_upload(session, principal=principal, store=info.context.store, owner=owner,
                                                request=request, api=info.context.settings.api)
        return EvidenceUpload.from_model(upload, info.context.store)

    @strawberry.mutation(description="Complete a presigned upload: the file is read back and counts as evidence only "
                                     "if its size and SHA-256 are those declared and its type is its kind's.")
    async def confirm_evidence_upload(self, info: Info, id: strawberry.ID) -> Evidence:
        session, principal = info.context.session, info.context.principal

        async def still_attachable(kind: EvidenceOwnerKind, owner_id: uuid.UUID) -> None:
            await attachable(session, principal=principal, kind=kind, owner_id=owner_id, lock=True)

        return Evidence.from_model(await presigned.confirm_upload(
            session, principal=principal, store=info.context.store, upload_id=id,
            limits=bomb_limits(info.context.settings.api), check_owner=still_attachable))
