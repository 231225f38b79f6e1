"""GraphQL types of evidence."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.file_uploads import Upload

from app import multipart
from core.errors import ValidationFailed
from evidence import kinds, presigned
from evidence.custody import ItemCheck
from evidence.models import Evidence as EvidenceModel
from evidence.models import EvidenceUpload as EvidenceUploadModel
from evidence.models import EvidenceUploadStatus as EvidenceUploadStatusEnum
from evidence.models import IntegrityStatus as IntegrityStatusModel
from evidence.service import IncomingFile
from evidence.storage import EvidenceStore

EvidenceKind = strawberry.enum(kinds.EvidenceKind, description=(
    "What a file is evidence as; each kind takes certain file types, sniffed from the bytes: PHOTO (JPEG, PNG, "
    "HEIC/HEIF), VIDEO (MP4, MOV), AUDIO, DOCUMENT (PDF, Word, Excel, PowerPoint), SPREADSHEET (XLSX, XLS, CSV), "
    "GEODATA (GeoJSON, KML, KMZ, zipped Shapefile)."))
EvidenceUploadStatus = strawberry.enum(EvidenceUploadStatusEnum, description="Where a presigned upload stands.")

IntegrityStatus = strawberry.enum(IntegrityStatusModel, description=(
    "What the last re-hash of the stored bytes found: INTACT; MISSING (the version is gone from the "
    "store); ALTERED (its bytes no longer hash to the recorded SHA-256); SUPERSEDED (intact, but a newer "
    "version was written over the evidence's key)."))


@strawberry.type(description="An evidence file. Its bytes are at `downloadPath` (authorised, logged).")
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

    @classmethod
    def from_model(cls, row: EvidenceModel) -> Evidence:
        return cls(id=strawberry.ID(str(row.id)), filename=row.filename, media_type=row.media_type,
                   size_bytes=row.size_bytes, kind=row.kind, sha256=row.sha256, description=row.description,
                   uploaded_at=row.uploaded_at, integrity_status=row.integrity_status,
                   integrity_checked_at=row.integrity_checked_at)

    @strawberry.field
    def download_path(self) -> str:
        return f"/evidence/{self.id}/content"


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


def incoming_files(evidence: list[EvidenceInput] | None, field: str = "evidence") -> list[IncomingFile]:
    """The uploads as the evidence service takes them: streams over the request body. `field` is
    the argument they came in (named in errors)."""
    files = []
    for index, item in enumerate(evidence or []):
        # The Upload scalar takes whatever a JSON request puts there; only a multipart part is a file.
        if not isinstance(item.file, multipart.Upload):
            raise ValidationFailed("文件须以 multipart 方式上传 / send the file as a part of a multipart "
                                   "request (GraphQL multipart request spec)", field=f"{field}.{index}.file")
        files.append(IncomingFile(source=item.file, description=item.description, kind=item.kind))
    return files


@strawberry.input
class RequestEvidenceUploadInput:
    owner: strawberry.ID = strawberry.field(description="The referral the file is evidence of.")
    filename: str
    size_bytes: float = strawberry.field(description="The file's exact size in bytes (a Float: may pass 2 GiB).")
    sha256: str = strawberry.field(description="The file's SHA-256, hexadecimal; checked on confirmation.")
    kind: EvidenceKind
    description: str | None = None

    def to_service(self) -> presigned.UploadRequest:
        if self.size_bytes != int(self.size_bytes):
            raise ValidationFailed("sizeBytes 须为整数 / sizeBytes must be a whole number", field="sizeBytes")
        return presigned.UploadRequest(filename=self.filename, size_bytes=int(self.size_bytes), sha256=self.sha256,
                                       kind=self.kind, description=self.description)


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
    referral_id: strawberry.ID
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
        return cls(id=strawberry.ID(str(row.id)), referral_id=strawberry.ID(str(row.referral_id)),
                   filename=row.filename, kind=row.kind, size_bytes=row.size_bytes, sha256=row.sha256,
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
