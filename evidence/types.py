"""GraphQL types of evidence."""

from __future__ import annotations

from datetime import datetime

import strawberry
from geoalchemy2.shape import to_shape
from strawberry.file_uploads import Upload

from app import multipart
from core.errors import ValidationFailed
from evidence import kinds, presigned
from evidence.custody import ItemCheck
from evidence.models import Evidence as EvidenceModel
from evidence.models import EvidenceOwnerKind as EvidenceOwnerKindEnum
from evidence.models import EvidenceUpload as EvidenceUploadModel
from evidence.models import EvidenceUploadStatus as EvidenceUploadStatusEnum
from evidence.models import IntegrityStatus as IntegrityStatusModel
from evidence.models import MetadataStatus as MetadataStatusModel
from evidence.models import PositionSource as PositionSourceModel
from evidence.photo import CapturedAtSource as CapturedAtSourceModel
from evidence.service import DeclaredPosition, IncomingFile, declared_position
from evidence.storage import EvidenceStore
from geo.geometry import CoordinateSystem as CoordinateSystemEnum
from geo.geometry import parse_geometry
from geo.types import CoordinateSystem, GeoJSON

EvidenceKind = strawberry.enum(kinds.EvidenceKind, description=(
    "What a file is evidence as; each kind takes certain file types, sniffed from the bytes: PHOTO (JPEG, PNG, "
    "HEIC/HEIF), VIDEO (MP4, MOV), AUDIO, DOCUMENT (PDF, Word, Excel, PowerPoint), SPREADSHEET (XLSX, XLS, CSV), "
    "GEODATA (GeoJSON, KML, KMZ, zipped Shapefile)."))
EvidenceUploadStatus = strawberry.enum(EvidenceUploadStatusEnum, description="Where a presigned upload stands.")

IntegrityStatus = strawberry.enum(IntegrityStatusModel, description=(
    "What the last re-hash of the stored bytes found: INTACT; MISSING (the version is gone from the "
    "store); ALTERED (its bytes no longer hash to the recorded SHA-256); SUPERSEDED (intact, but a newer "
    "version was written over the evidence's key)."))


PositionSource = strawberry.enum(PositionSourceModel, description=(
    "Where `position` comes from: EXIF (the photo's own GPS tags), DECLARED (what the uploader said; "
    "`declaredPosition`), NONE (the file says nothing and nobody declared anything)."))
CapturedAtSource = strawberry.enum(CapturedAtSourceModel, description=(
    "Where `capturedAt` comes from: EXIF (DateTimeOriginal with its UTC offset), EXIF_GPS (the GPS clock, UTC), "
    "EXIF_LOCAL (DateTimeOriginal without an offset, read as Beijing time), NONE."))
MetadataStatus = strawberry.enum(MetadataStatusModel, description=(
    "Whether what the file knows has been read (after upload, by the worker): PENDING, DONE, NONE (not a photo "
    "and no declared position: nothing to read), FAILED (`metadataProblem` says why)."))


def _geojson(value) -> GeoJSON | None:
    return None if value is None else to_shape(value)


@strawberry.type(description="An evidence file. Its bytes are at `downloadPath` (authorised, logged); a photo's "
                             "preview without metadata at `previewPath`.")
class Evidence:
    id: strawberry.ID
    filename: str
    media_type: str = strawberry.field(description="Sniffed from the content, not taken from the client.")
    size_bytes: float = strawberry.field(description="Size in bytes (a Float: files may pass 2 GiB).")
    kind: EvidenceKind
    sha256: str
    description: str | None
    uploaded_at: datetime
    integrity_status: IntegrityStatus | None = strawberry.field(
        description="The last check of the stored bytes (the janitor's rolling check or verifyEvidence); "
                    "null until the first.")
    integrity_checked_at: datetime | None
    position: GeoJSON | None = strawberry.field(description=(
        "Where the file was made: the photo's EXIF GPS position when it has one, else the declared one (a Point)."))
    position_source: PositionSource
    position_accuracy_meters: float | None = strawberry.field(description=(
        "The position's accuracy: EXIF GPSHPositioningError, or the declared accuracy."))
    declared_position: GeoJSON | None = strawberry.field(description=(
        "What the uploader declared, kept apart from the EXIF position (both are shown when both exist)."))
    declared_accuracy_meters: float | None
    captured_at: datetime | None = strawberry.field(description="When the photo was taken, as its EXIF says.")
    captured_at_source: CapturedAtSource
    distance_from_referral_meters: float | None = strawberry.field(description=(
        "Geodesic distance from `position` to the referral's geometry (0 inside it); for a rectification check's "
        "files, to the check's location; for a reply's, to the case's place."))
    far_from_referral: bool | None = strawberry.field(description=(
        "The distance is beyond the configured threshold (PIL_EVIDENCE_FAR_FROM_REFERRAL_METERS, 5 km by default): "
        "worth a look before relying on the file."))
    metadata_status: MetadataStatus
    metadata_problem: str | None
    has_preview: strawberry.Private[bool] = False

    @classmethod
    def from_model(cls, row: EvidenceModel) -> Evidence:
        return cls(id=strawberry.ID(str(row.id)), filename=row.filename, media_type=row.media_type,
                   size_bytes=row.size_bytes, kind=row.kind, sha256=row.sha256, description=row.description,
                   uploaded_at=row.uploaded_at, integrity_status=row.integrity_status,
                   integrity_checked_at=row.integrity_checked_at, position=_geojson(row.position),
                   position_source=row.position_source, position_accuracy_meters=row.position_accuracy_m,
                   declared_position=_geojson(row.declared_position), declared_accuracy_meters=row.declared_accuracy_m,
                   captured_at=row.captured_at, captured_at_source=row.captured_at_source,
                   distance_from_referral_meters=row.distance_from_referral_m,
                   far_from_referral=row.far_from_referral, metadata_status=row.metadata_status,
                   metadata_problem=row.metadata_problem, has_preview=row.preview_object_key is not None)

    @strawberry.field
    def download_path(self) -> str:
        return f"/evidence/{self.id}/content"

    @strawberry.field(description="The photo's preview (longest side 1024 px, no metadata), authorised like the "
                                  "download; null until made, and for files that are not photos.")
    def preview_path(self) -> str | None:
        return f"/evidence/{self.id}/preview" if self.has_preview else None


@strawberry.input(description="A position the uploader declares for a file (a phone that strips EXIF, a video).")
class DeclaredPositionInput:
    point: GeoJSON = strawberry.field(description="A GeoJSON Point.")
    accuracy_meters: float | None = None
    crs: CoordinateSystem = CoordinateSystemEnum.WGS84

    def to_service(self, field: str) -> DeclaredPosition:
        point = parse_geometry(self.point, CoordinateSystemEnum(self.crs), field=f"{field}.point",
                               allowed=frozenset({"Point"}))
        return declared_position(point, self.accuracy_meters, field=field)


@strawberry.type(description="The result of verifyEvidence: the stored bytes re-hashed, the custody chain checked.")
class EvidenceVerification:
    evidence_id: strawberry.ID
    intact: bool = strawberry.field(description="The bytes match the recorded SHA-256 and the chain is sound.")
    status: IntegrityStatus
    recorded_sha256: str
    stored_sha256: str | None = strawberry.field(description="SHA-256 of the stored version now (null if missing).")
    stored_size_bytes: float | None
    chain_intact: bool
    chain_problem: str | None = strawberry.field(description="The first broken link of the item's chain, named.")
    custody_entries: int

    @classmethod
    def from_result(cls, result: ItemCheck) -> EvidenceVerification:
        return cls(evidence_id=strawberry.ID(str(result.evidence_id)), intact=result.intact, status=result.status,
                   recorded_sha256=result.recorded_sha256, stored_sha256=result.stored_sha256,
                   stored_size_bytes=result.stored_size, chain_intact=result.chain_problem is None,
                   chain_problem=result.chain_problem, custody_entries=result.entries)


@strawberry.input
class EvidenceInput:
    file: Upload
    description: str | None = None
    kind: EvidenceKind | None = strawberry.field(default=None, description=(
        "What the file is evidence as; its bytes must be of a type the kind takes. Left out: the first kind "
        "whose types include the file's (PHOTO, VIDEO, AUDIO, DOCUMENT, SPREADSHEET, GEODATA in that order)."))
    declared_position: DeclaredPositionInput | None = None


def incoming_files(evidence: list[EvidenceInput] | None, field: str = "evidence") -> list[IncomingFile]:
    """The uploads as the evidence service takes them: streams over the request body. `field` is
    the argument they came in (named in errors)."""
    files = []
    for index, item in enumerate(evidence or []):
        # The Upload scalar takes whatever a JSON request puts there; only a multipart part is a file.
        if not isinstance(item.file, multipart.Upload):
            raise ValidationFailed("文件须以 multipart 方式上传 / send the file as a part of a multipart "
                                   "request (GraphQL multipart request spec)", field=f"{field}.{index}.file")
        declared = (None if item.declared_position is None
                    else item.declared_position.to_service(f"{field}.{index}.declaredPosition"))
        files.append(IncomingFile(source=item.file, description=item.description, kind=item.kind,
                                  declared=declared))
    return files


EvidenceOwnerKind = strawberry.enum(EvidenceOwnerKindEnum, description=(
    "What a file is evidence of: a REFERRAL, an agency's REPLY to a recommendation, a RECTIFICATION_REPORT "
    "(progress reported later), a RECTIFICATION_CHECK (the procuratorate's on-site check)."))


@strawberry.input
class RequestEvidenceUploadInput:
    owner: strawberry.ID = strawberry.field(description="The id of what the file is evidence of (see ownerKind).")
    filename: str
    size_bytes: float = strawberry.field(description="The file's exact size in bytes (a Float: may pass 2 GiB).")
    sha256: str = strawberry.field(description="The file's SHA-256, hexadecimal; checked on confirmation.")
    kind: EvidenceKind
    description: str | None = None
    owner_kind: EvidenceOwnerKind = strawberry.field(default=EvidenceOwnerKindEnum.REFERRAL, description=(
        "What `owner` is: a referral (the default), a reply to a recommendation, a rectification report or "
        "check; scoped like attaching files to it (a reply's files are the addressee agency's)."))
    declared_position: DeclaredPositionInput | None = None

    def to_service(self) -> presigned.UploadRequest:
        if self.size_bytes != int(self.size_bytes):
            raise ValidationFailed("sizeBytes 须为整数 / sizeBytes must be a whole number", field="sizeBytes")
        declared = (None if self.declared_position is None
                    else self.declared_position.to_service("declaredPosition"))
        return presigned.UploadRequest(filename=self.filename, size_bytes=int(self.size_bytes), sha256=self.sha256,
                                       kind=self.kind, description=self.description, declared=declared)


@strawberry.type(description="A part of a presigned upload the store has received.")
class EvidenceUploadPart:
    number: int
    size_bytes: float


@strawberry.type(description="Where to PUT one part: the body is exactly the part's bytes.")
class PresignedPart:
    number: int
    url: str


@strawberry.type(description="A large file sent in parts straight to the object store. PUT each part's bytes to "
                             "its URL (part n holds bytes (n-1)·partSizeBytes up to n·partSizeBytes); after a "
                             "dropped connection ask `evidenceUpload` which parts arrived and send the rest (it "
                             "gives fresh URLs for them); then `confirmEvidenceUpload`.")
class EvidenceUpload:
    id: strawberry.ID
    referral_id: strawberry.ID | None = strawberry.field(description="The referral, when the owner is one.")
    owner_kind: EvidenceOwnerKind
    owner_id: strawberry.ID
    filename: str
    kind: EvidenceKind
    size_bytes: float
    sha256: str
    part_size_bytes: float
    part_count: int
    status: EvidenceUploadStatus
    rejection: str | None
    expires_at: datetime = strawberry.field(description="Unconfirmed by then, the upload is abandoned and removed.")
    row: strawberry.Private[EvidenceUploadModel]
    store: strawberry.Private[EvidenceStore]
    arrived: strawberry.Private[list | None] = None

    @classmethod
    def from_model(cls, row: EvidenceUploadModel, store: EvidenceStore) -> EvidenceUpload:
        return cls(id=strawberry.ID(str(row.id)),
                   referral_id=None if row.referral_id is None else strawberry.ID(str(row.referral_id)),
                   owner_kind=row.owner_kind, owner_id=strawberry.ID(str(row.owner_id)), filename=row.filename, kind=row.kind, size_bytes=row.size_bytes, sha256=row.sha256,
                   part_size_bytes=row.part_size, part_count=presigned.part_count(row), status=row.status,
                   rejection=row.rejection, expires_at=row.expires_at, row=row, store=store)

    async def _arrived(self) -> list:
        if self.arrived is None:
            self.arrived = await presigned.uploaded_parts(self.store, self.row)
        return self.arrived

    @strawberry.field(description="The parts the store has, as it says now.")
    async def uploaded_parts(self) -> list[EvidenceUploadPart]:
        return [EvidenceUploadPart(number=part.number, size_bytes=part.size) for part in await self._arrived()]

    @strawberry.field(description="Fresh presigned URLs for the parts still to send (none once confirmed or "
                                  "expired); each is good for a short while only.")
    async def part_urls(self) -> list[PresignedPart]:
        missing = presigned.missing_parts(self.row, await self._arrived())
        return [PresignedPart(number=number, url=url) for number, url in presigned.part_urls(self.store, self.row,
                                                                                              missing)]
