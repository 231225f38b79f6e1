"""Files added later, through the presigned path, to a reply, a rectification report or a
rectification check: the same owners and the same scope as their streamed attachments. A reply's
and a report's files are the addressee agency's (its liaison adds them); a check's are the
procuratorate's (its prosecutors add them)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from agencies.models import Role
from agencies.principal import Principal
from core.errors import Forbidden, NotFound
from evidence.models import EvidenceOwnerKind
from evidence.service import EvidenceOwner
from recommendations.models import RecommendationReply, RectificationCheck, RectificationReport
from recommendations.service import parse_id, visible

OWNER_MODELS = {
    EvidenceOwnerKind.REPLY: RecommendationReply,
    EvidenceOwnerKind.RECTIFICATION_REPORT: RectificationReport,
    EvidenceOwnerKind.RECTIFICATION_CHECK: RectificationCheck,
}


async def attachable_owner(session: AsyncSession, *, principal: Principal, kind: EvidenceOwnerKind,
                           owner_id: str | uuid.UUID, lock: bool = False) -> EvidenceOwner:
    """The reply, report or check as an evidence owner, if the principal may add files to it:
    NOT_FOUND outside its scope, FORBIDDEN to a role in scope that does not write it."""
    model = OWNER_MODELS[kind]
    parsed = parse_id(owner_id)
    row = None
    if parsed is not None:
        query = select(model).where(model.id == parsed, visible(principal, model))
        row = await session.scalar(query.with_for_update(read=True) if lock else query)
    if row is None:
        raise NotFound("附件所属对象不存在 / the owner of the file was not found")
    if kind is EvidenceOwnerKind.RECTIFICATION_CHECK:
        allowed = principal.role is Role.PROSECUTOR and principal.jurisdiction_id == row.jurisdiction_id
    else:
        allowed = principal.role is Role.AGENCY_LIAISON and principal.agency_id == row.agency_id
    if not allowed:
        raise Forbidden("只有被建议机关（回复、整改报告）或检察院（整改核查）可以补充附件 / only the addressee agency (replies, "
                        "reports) or the procuratorate (checks) may add files")
    return EvidenceOwner(kind=kind, id=row.id, agency_id=row.agency_id, jurisdiction_id=row.jurisdiction_id)
