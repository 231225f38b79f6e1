"""Evidence queries that need no owner package: where a presigned upload stands."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from evidence import presigned
from evidence.types import EvidenceUpload


@strawberry.type
class EvidenceQuery:
    @strawberry.field(description="A presigned upload: which parts arrived, fresh URLs for the rest.")
    async def evidence_upload(self, info: Info, id: strawberry.ID) -> EvidenceUpload:
        upload = await presigned.get_upload(info.context.session, principal=info.context.principal, upload_id=id)
        return EvidenceUpload.from_model(upload, info.context.store)
