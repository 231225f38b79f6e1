"""Evidence added to a referral after it was submitted: one file through the streamed path
(`attach_evidence`), or a large one the client sends straight to the store (evidence.presigned).

Who may add: the referring agency's liaison while the referral is still with the procuratorate
undecided (submitted, registered, returned), and prosecutors of the receiving procuratorate,
also once a case is filed from it (the investigation goes on). A withdrawn or declined referral
is closed: INVALID_TRANSITION with reason REFERRAL_CLOSED. The state is checked before the bytes
move and again, under a row lock, in the transaction that writes the evidence row.

A file sent with an idempotency key (per referral) is added once: a retry with the same key and
the same file (name, bytes, kind, description) answers with the first evidence, a different one
is CONFLICT."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from agencies.models import Role
from agencies.principal import Principal
from core import unit_of_work
from core.errors import Conflict, Forbidden, InvalidTransition
from core.text import clean_text
from evidence.kinds import BombLimits
from evidence.models import Evidence, EvidenceOwnerKind
from evidence.service import (
    EvidenceOwner,
    IncomingFile,
    abandon_uploads,
    check_description,
    digest_file,
    reserve_uploads,
    settle_uploads,
    store_evidence,
)
from evidence.storage import EvidenceStore
from referral.flows import ReferralStatus
from referral.models import Referral
from referral.service import get_referral

OPEN_TO_AGENCY = frozenset({ReferralStatus.SUBMITTED, ReferralStatus.REGISTERED, ReferralStatus.RETURNED})
OPEN_TO_PROCURATORATE = OPEN_TO_AGENCY | {ReferralStatus.CASE_FILED}


async def attachable_referral(session: AsyncSession, *, principal: Principal, referral_id: str | uuid.UUID,
                              lock: bool = False, exclusive: bool = False) -> EvidenceOwner:
    """The referral as an evidence owner, if the principal may add evidence to it now. `lock` keeps
    its status as read until the transaction ends; `exclusive` also orders adders among themselves."""
    referral = await get_referral(session, principal=principal, referral_id=str(referral_id))
    if lock:
        await session.execute(select(Referral.id).where(Referral.id == referral.id)
                              .with_for_update(read=not exclusive))
        await session.refresh(referral, ["status"])
    if principal.role is Role.AGENCY_LIAISON:
        open_statuses = OPEN_TO_AGENCY
    elif principal.role is Role.PROSECUTOR and principal.jurisdiction_id == referral.jurisdiction_id:
        open_statuses = OPEN_TO_PROCURATORATE
    else:
        raise Forbidden("只有移送机关或受理检察院可以补充证据 / only the referring agency or the receiving "
                        "procuratorate may add evidence")
    if referral.status not in open_statuses:
        raise InvalidTransition(f"线索已结束（{referral.status.value}），不能再补充证据 / the referral is closed "
                                f"({referral.status.value}): no evidence can be added",
                                reason="REFERRAL_CLOSED", status=referral.status.value)
    return EvidenceOwner(kind=EvidenceOwnerKind.REFERRAL, id=referral.id, agency_id=referral.agency_id,
                         jurisdiction_id=referral.jurisdiction_id)


async def _earlier_attachment(session: AsyncSession, referral_id: uuid.UUID, key: str) -> Evidence | None:
    return await session.scalar(select(Evidence).where(Evidence.referral_id == referral_id,
                                                       Evidence.idempotency_key == key))


def _same_attachment_or_conflict(existing: Evidence, *, filename: str, sha256: str, incoming: IncomingFile) -> Evidence:
    description = (incoming.description or "").strip() or None
    if ((existing.filename, existing.sha256, existing.description) != (filename, sha256, description)
            or incoming.kind not in (None, existing.kind)):
        raise Conflict("该幂等键已用于另一个文件 / this idempotency key was already used for another file",
                       field="idempotencyKey")
    return existing


async def attach_evidence(session: AsyncSession, *, principal: Principal, store: EvidenceStore, referral_id: str,
                          incoming: IncomingFile, max_upload_bytes: int, limits: BombLimits,
                          idempotency_key: str | None = None) -> Evidence:
    owner = await attachable_referral(session, principal=principal, referral_id=referral_id)
    key = clean_text(idempotency_key, "idempotencyKey", 100, required=False)
    check_description(incoming, field="file")
    if key and (existing := await _earlier_attachment(session, owner.id, key)):
        # A retry: the file is read only to compare it, with the connection handed back meanwhile.
        await unit_of_work.checkpoint(session)
        filename, sha256 = await digest_file(incoming, max_bytes=max_upload_bytes, field="file")
        return _same_attachment_or_conflict(existing, filename=filename, sha256=sha256, incoming=incoming)
    # Reserved and committed before any byte moves (evidence.service.reserve_uploads).
    [reservation] = await reserve_uploads(session, owner_prefix=str(owner.id), count=1)
    evidence = await store_evidence(session, principal=principal, store=store, owner=owner, reservation=reservation,
                                    incoming=incoming, max_bytes=max_upload_bytes, field="file", limits=limits)
    await attachable_referral(session, principal=principal, referral_id=owner.id, lock=True, exclusive=bool(key))
    if key and (existing := await _earlier_attachment(session, owner.id, key)):
        # A concurrent retry with the same key finished first (the lock ordered the two).
        await abandon_uploads(session, [reservation.object_key])
        return _same_attachment_or_conflict(existing, filename=evidence.filename, sha256=evidence.sha256,
                                            incoming=incoming)
    evidence.idempotency_key = key
    session.add(evidence)
    await settle_uploads(session, [reservation.object_key])
    await session.flush()
    return evidence
