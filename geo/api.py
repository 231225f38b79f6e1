"""Queries and mutations of reference layers and of the responsible agency they propose."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.file_uploads import Upload
from strawberry.types import Info

from agencies.types import AgencyKind
from app import multipart
from core.errors import PayloadTooLarge, ValidationFailed
from geo import reference, responsibility
from geo.reference_types import ReferenceLayer, ReferenceLayerImport, ReferenceLayerKind
from geo.types import CoordinateSystem
from referral.types import Referral

# A district's layer is a few megabytes; the file is held in memory while GDAL reads it.
MAX_LAYER_FILE_BYTES = 64 * 1024 * 1024


async def _read_upload(file: object) -> bytes:
    if not isinstance(file, multipart.Upload):
        raise ValidationFailed("文件须以 multipart 方式上传 / send the file as a part of a multipart request "
                               "(GraphQL multipart request spec)", field="file")
    chunks, size = [], 0
    async for chunk in file.chunks():
        size += len(chunk)
        if size > MAX_LAYER_FILE_BYTES:
            raise PayloadTooLarge(f"图层文件超过 {MAX_LAYER_FILE_BYTES // 2**20} MiB / a layer file is at most "
                                  f"{MAX_LAYER_FILE_BYTES // 2**20} MiB", field="file")
        chunks.append(chunk)
    return b"".join(chunks)


@strawberry.type
class GeoQuery:
    @strawberry.field(description="The reference layers (public to every signed-in role), by code.")
    async def reference_layers(self, info: Info) -> list[ReferenceLayer] | None:
        rows = await reference.list_layers(info.context.session, principal=info.context.principal)
        return [ReferenceLayer.from_model(row) for row in rows]


@strawberry.type
class GeoMutation:
    @strawberry.mutation(description="Import a reference layer, or replace the features of the layer with this "
                                     "code, from GeoJSON, a zipped Shapefile (its .prj honoured) or KML/KMZ "
                                     "(administrators). Every referral's overlaps with it are recomputed. A bad "
                                     "file changes nothing.")
    async def import_reference_layer(
            self, info: Info, code: str, name: str, kind: ReferenceLayerKind, file: Upload,
            responsible_agency_kind: AgencyKind | None = None,
            crs: Annotated[CoordinateSystem | None, strawberry.argument(
                description="The file's coordinate system where it does not say (a Shapefile without .prj; "
                            "GCJ-02 and BD-09 have none); where it does, the two must agree.")] = None,
            name_property: Annotated[str, strawberry.argument(
                description="The attribute naming each feature (in KML, its name).")] = "name",
    ) -> ReferenceLayerImport:
        principal = info.context.principal
        reference.check_may_import(principal)  # before the file is read
        data = reference.LayerImport(code=code, name=name, kind=kind, responsible_agency_kind=responsible_agency_kind,
                                     crs=crs, name_property=name_property)
        imported = await reference.import_layer(info.context.session, principal=principal, data=data,
                                                document=await _read_upload(file))
        return ReferenceLayerImport(layer=ReferenceLayer.from_model(imported.layer),
                                    feature_count=imported.feature_count,
                                    overlapping_referral_count=imported.overlapping_referral_count)

    @strawberry.mutation(description="A prosecutor confirms the proposed responsible agency of a referral, or names "
                                     "another within the procuratorate's jurisdiction; recorded with who and when.")
    async def confirm_responsible_agency(self, info: Info, referral_id: strawberry.ID,
                                         agency_id: strawberry.ID) -> Referral:
        return Referral.from_model(await responsibility.confirm_responsible_agency(
            info.context.session, principal=info.context.principal, referral_id=referral_id, agency_id=agency_id))
