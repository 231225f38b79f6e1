"""GraphQL types of evidence."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.file_uploads import Upload

from app import multipart
from core.errors import ValidationFailed
from evidence.models import Evidence as EvidenceModel
from evidence.service import IncomingFile


@strawberry.type(description="An evidence file. Its bytes are at `downloadPath` (authorised, logged).")
class Evidence:
    id: strawberry.ID
    filename: str
    media_type: str = strawberry.field(description="Sniffed from the content, not taken from the client.")
    size_bytes: float = strawberry.field(description="Size in bytes (a Float: files may pass 2 GiB).")
    sha256: str
    description: str | None
    uploaded_at: datetime

    @classmethod
    def from_model(cls, row: EvidenceModel) -> Evidence:
        return cls(id=strawberry.ID(str(row.id)), filename=row.filename, media_type=row.media_type,
                   size_bytes=row.size_bytes, sha256=row.sha256, description=row.description,
                   uploaded_at=row.uploaded_at)

    @strawberry.field
    def download_path(self) -> str:
        return f"/evidence/{self.id}/content"


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
