"""GraphQL types of evidence."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.file_uploads import Upload

from app import multipart
from core.errors import ValidationFailed
from evidence.custody import ItemCheck
from evidence.models import Evidence as EvidenceModel
from evidence.models import IntegrityStatus as IntegrityStatusModel
from evidence.service import IncomingFile

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
                   size_bytes=row.size_bytes, sha256=row.sha256, description=row.description,
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


def incoming_files(evidence: list[EvidenceInput] | None, field: str = "evidence") -> list[IncomingFile]:
    """The uploads as the evidence service takes them: streams over the request body. `field` is
    the argument they came in (named in errors)."""
    files = []
    for index, item in enumerate(evidence or []):
        # The Upload scalar takes whatever a JSON request puts there; only a multipart part is a file.
        if not isinstance(item.file, multipart.Upload):
            raise ValidationFailed("文件须以 multipart 方式上传 / send the file as a part of a multipart "
                                   "request (GraphQL multipart request spec)", field=f"{field}.{index}.file")
        files.append(IncomingFile(source=item.file, description=item.description))
    return files
