"""Mutations that add evidence to a referral after its submission (referral.attachments)."""

from __future__ import annotations

import uuid

import strawberry
from strawberry.file_uploads import Upload
from strawberry.types import Info

from evidence import presigned
from evidence.kinds import EvidenceKind as EvidenceKindEnum
from evidence.service import bomb_limits
from evidence.types import (
    Evidence,
    EvidenceInput,
    EvidenceKind,
    EvidenceUpload,
    RequestEvidenceUploadInput,
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
                              idempotency_key: str | None = None) -> Evidence:
        kind_value = None if kind is None else EvidenceKindEnum(kind)
        [incoming] = incoming_files([EvidenceInput(file=file, description=description, kind=kind_value)], "file")
        api = info.context.settings.api
        return Evidence.from_model(await attachments.attach_evidence(
            info.context.session, principal=info.context.principal, store=info.context.store,
            referral_id=referral_id, incoming=incoming, max_upload_bytes=api.max_upload_bytes,
            limits=bomb_limits(api), idempotency_key=idempotency_key))

    @strawberry.mutation(description="Open an upload of a large file straight to the store: presigned part URLs.")
    async def request_evidence_upload(self, info: Info, input: RequestEvidenceUploadInput) -> EvidenceUpload:
        session, principal = info.context.session, info.context.principal
        owner = await attachments.attachable_referral(session, principal=principal, referral_id=input.owner)
        upload = await presigned.request_upload(session, principal=principal, store=info.context.store, owner=owner,
                                                request=input.to_service(), api=info.context.settings.api)
        return EvidenceUpload.from_model(upload, info.context.store)

    @strawberry.mutation(description="Complete a presigned upload: the file is read back and counts as evidence only "
                                     "if its size and SHA-256 are those declared and its type is its kind's.")
    async def confirm_evidence_upload(self, info: Info, id: strawberry.ID) -> Evidence:
        session, principal = info.context.session, info.context.principal

        async def still_attachable(referral_id: uuid.UUID) -> None:
            await attachments.attachable_referral(session, principal=principal, referral_id=referral_id, lock=True)

        return Evidence.from_model(await presigned.confirm_upload(
            session, principal=principal, store=info.context.store, upload_id=id,
            limits=bomb_limits(info.context.settings.api), check_owner=still_attachable))
