"""Evidence operations that need no owner package: where a presigned upload stands, the geometry
of a geodata file, verifying a file and its custody chain (files arrive with their owners' mutations)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from evidence import geodata, presigned, service
from evidence.types import EvidenceUpload, EvidenceVerification
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


@strawberry.type
class EvidenceMutation:
    @strawberry.mutation(description=(
        "Re-hash the stored file and check its custody chain (prosecutors, within their scope). "
        "The check and its result are written to the custody log."))
    async def verify_evidence(self, info: Info, id: strawberry.ID) -> EvidenceVerification:
        result = await service.verify_evidence(info.context.session, principal=info.context.principal,
                                               store=info.context.store, evidence_id=id)
        return EvidenceVerification.from_result(result)
