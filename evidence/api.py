"""Evidence queries that need no owner package: where a presigned upload stands, the geometry of a
geodata file."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from evidence import geodata, presigned
from evidence.types import EvidenceUpload
from geo.types import GeoJSON


@strawberry.type
class EvidenceQuery:
    @strawberry.field(description="A presigned upload: which parts arrived, fresh URLs for the rest.")
    async def evidence_upload(self, info: Info, id: strawberry.ID) -> EvidenceUpload:
        upload = await presigned.get_upload(info.context.session, principal=info.context.principal, upload_id=id)
        return EvidenceUpload.from_model(upload, info.context.store)

    @strawberry.field(description="The geometry of a GEODATA evidence file (GeoJSON, KML, KMZ or a zipped Shapefile "
                                  "with its .prj), combined into one geometry in WGS84 and checked like any geometry "
                                  "input: give it as a referral's `geometry`. Reading it is logged as a download.")
    async def evidence_geometry(self, info: Info, id: strawberry.ID) -> GeoJSON:
        return await geodata.evidence_geometry(info.context.session, principal=info.context.principal,
                                               store=info.context.store, evidence_id=id)
