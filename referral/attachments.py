"""Evidence added to a referral after it was submitted: one file through the streamed path
(`attach_evidence`), or a large one the client sends straight to the store (evidence.presigned).

Who may add: the referring agency's liaison while the referral is still with the procuratorate
undecided (submitted, registered, returned), and prosecutors of the receiving procuratorate,
also once a case is filed from it (the investigation goes on). A withdrawn or declined referral
is closed: INVALID_TRANSITION with reason REFERRAL_CLOSED. The state is checked before the bytes
move and again, under a row lock, in the transaction that writes the evidence row."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from agencies.models import Role
from agencies.principal import Principal
from core.errors import Forbidden, InvalidTransition
from evidence.kinds import BombLimits
from evidence.models import Evidence, EvidenceOwnerKind
from evidence.service import (
    EvidenceOwner,
    IncomingFile,
    check_description,
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
                              lock: bool = False) -> EvidenceOwner:
    """The referral as an evidence owner, if the principal may add evidence to it now."""
    referral = await get_referral(session, principal=principal, referral_id=str(referral_id))
    if lock:
        await session.execute(select(Referral.id).where(Referral.id == referral.id).with_for_update(read=True))
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


async def attach_evidence(session: AsyncSession, *, principal: Principal, store: EvidenceStore, referral_id: str,
                          incoming: IncomingFile, max_upload_bytes: int, limits: BombLimits) -> Evidence:
    owner = await attachable_referral(session, principal=principal, referral_id=referral_id)
    check_description(incoming, field="file")
    # Reserved and committed before any byte moves (evidence.service.reserve_uploads).
    [reservation] = await reserve_uploads(session, owner_prefix=str(owner.id), count=1)
    evidence = await store_evidence(session, principal=principal, store=store, owner=owner, reservation=reservation,
                                    incoming=incoming, max_bytes=max_upload_bytes, field="file", limits=limits)
    await attachable_referral(session, principal=principal, referral_id=owner.id, lock=True)
    session.add(evidence)
    await settle_uploads(session, [reservation.object_key])
    await session.flush()
    return evidence
