"""Large files sent by the client straight to the store, in parts, through presigned URLs.

`request_upload` opens an S3 multipart upload (legal hold requested with it, as for streamed
uploads) and records its key as a pending upload with an expiry, committed before the client
gets a URL: the janitor aborts an upload nobody confirmed in time. The client PUTs parts to the
URLs, asks `uploaded_parts` which arrived after a dropped connection, and sends the rest.
`confirm_upload` completes the upload, streams the object back to check the declared size and
SHA-256, reads its type and structure, and only then writes the evidence row. Bytes that do not
match are recorded as rejected and left to the janitor; the app never deletes an object."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import Point
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from agencies.principal import Principal
from agencies.scoping import visible_to
from app.settings import ApiSettings
from core import unit_of_work
from core.db import utcnow
from core.errors import AppError, Forbidden, InvalidTransition, NotFound, PayloadTooLarge, ValidationFailed
from core.text import clean_text
from evidence.kinds import BombLimits, EvidenceKind, could_be, refuse_type
from evidence.models import (
    OWNER_COLUMNS,
    Evidence,
    EvidenceOwnerKind,
    EvidenceUpload,
    EvidenceUploadStatus,
    PendingUpload,
)
from evidence.service import (
    CONTENT_ROLES,
    EVIDENCE_PREFIX,
    MAX_DESCRIPTION_LENGTH,
    DeclaredPosition,
    EvidenceOwner,
    abandon_uploads,
    classify_stored,
    new_evidence,
    settle_uploads,
)
from evidence.sniff import SNIFF_BYTES, sniff_media_type
from evidence.storage import EvidenceStore, PutResult, UploadedPart

MAX_PARTS = 10_000  # S3's limit on one multipart upload
MiB = 1024 * 1024
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class UploadRequest:
    filename: str
    size_bytes: int
    sha256: str
    kind: EvidenceKind
    description: str | None = None
    declared: DeclaredPosition | None = None


# Checks, when a presigned upload is confirmed, that its owner still takes evidence from the principal.
OwnerCheck = Callable[[EvidenceOwnerKind, uuid.UUID], Awaitable[None]]


def owner_prefix(owner: EvidenceOwner) -> str:
    """Where an owner's files go under the evidence prefix (as the streamed paths put them)."""
    return str(owner.id) if owner.kind is EvidenceOwnerKind.REFERRAL else f"{owner.kind.value.lower()}/{owner.id}"


def part_size_for(size: int, preferred: int) -> int:
    """The preferred part size, or the smallest whole number of MiB that keeps the upload within
    S3's 10 000 parts."""
    needed = -(-size // MAX_PARTS)
    return max(preferred, -(-needed // MiB) * MiB)


def part_count(upload: EvidenceUpload) -> int:
    return -(-upload.size_bytes // upload.part_size)


def _check_request(request: UploadRequest, api: ApiSettings) -> UploadRequest:
    filename = clean_text(request.filename, "filename", 255, required=True)
    if request.size_bytes <= 0:
        raise ValidationFailed("文件大小须为正数 / sizeBytes must be positive", field="sizeBytes")
    if request.size_bytes > api.max_presigned_upload_bytes:
        raise PayloadTooLarge(f"文件过大 / the file is larger than {api.max_presigned_upload_bytes} bytes",
                              field="sizeBytes", limitBytes=api.max_presigned_upload_bytes)
    sha256 = request.sha256.strip().lower()
    if not SHA256_HEX.match(sha256):
        raise ValidationFailed("sha256 须为 64 位十六进制 / sha256 must be 64 hexadecimal digits", field="sha256")
    description = (request.description or "").strip() or None
    if description and len(description) > MAX_DESCRIPTION_LENGTH:
        raise ValidationFailed(f"说明过长 / the description is longer than {MAX_DESCRIPTION_LENGTH} characters",
                               field="description")
    return UploadRequest(filename=filename, size_bytes=request.size_bytes, sha256=sha256, kind=request.kind,
                         description=description, declared=request.declared)


async def request_upload(session: AsyncSession, *, principal: Principal, store: EvidenceStore,
                         owner: EvidenceOwner, request: UploadRequest, api: ApiSettings) -> EvidenceUpload:
    """Open a multipart upload for `owner` (whose scope and state the caller has checked)."""
    request = _check_request(request, api)
    upload_id = uuid.uuid4()
    key = f"{EVIDENCE_PREFIX}{owner_prefix(owner)}/{upload_id}"
    expires_at = utcnow() + timedelta(seconds=api.presigned_upload_ttl_seconds)
    # Pending before the store hears of it, so the janitor can always account for the key.
    session.add(PendingUpload(object_key=key, expires_at=expires_at))
    await unit_of_work.checkpoint(session)

    async def abandon() -> None:
        await abandon_uploads(session, [key])
        await session.commit()

    unit_of_work.on_rollback(session, abandon)
    store_upload_id = await store.start_upload(
        key, content_type="application/octet-stream",
        metadata={"filename": request.filename.encode("unicode_escape").decode()}, legal_hold=True)
    declared = request.declared
    upload = EvidenceUpload(
        id=upload_id, owner_kind=owner.kind, **{OWNER_COLUMNS[owner.kind]: owner.id}, agency_id=owner.agency_id,
        jurisdiction_id=owner.jurisdiction_id,
        declared_position=None if declared is None else from_shape(Point(declared.longitude, declared.latitude),
                                                                   srid=4326),
        declared_accuracy_m=None if declared is None else declared.accuracy_meters,
        object_key=key, store_upload_id=store_upload_id, filename=request.filename, kind=request.kind,
        description=request.description, size_bytes=request.size_bytes, sha256=request.sha256,
        part_size=part_size_for(request.size_bytes, api.presigned_part_bytes), status=EvidenceUploadStatus.OPEN,
        requested_by_user_id=principal.user_id, requested_by_api_key_id=principal.api_key_id,
        expires_at=expires_at)
    session.add(upload)
    await session.flush()
    return upload


async def get_upload(session: AsyncSession, *, principal: Principal, upload_id: str,
                     for_update: bool = False) -> EvidenceUpload:
    """An upload the principal may see (by its own scope columns, like evidence), else NOT_FOUND."""
    try:
        parsed = uuid.UUID(str(upload_id))
    except ValueError:
        parsed = None
    upload = None
    if parsed is not None:
        query = select(EvidenceUpload).where(
            EvidenceUpload.id == parsed,
            visible_to(principal, agency_column=EvidenceUpload.agency_id,
                       jurisdiction_column=EvidenceUpload.jurisdiction_id))
        upload = await session.scalar(query.with_for_update() if for_update else query)
    if upload is None:
        raise NotFound("上传不存在 / upload not found")
    if principal.role not in CONTENT_ROLES:
        raise Forbidden("此角色不能上传证据 / this role may not upload evidence")
    return upload


async def uploaded_parts(store: EvidenceStore, upload: EvidenceUpload) -> list[UploadedPart]:
    if upload.status is not EvidenceUploadStatus.OPEN:
        return []
    return await store.uploaded_parts(upload.object_key, upload.store_upload_id) or []


def part_urls(store: EvidenceStore, upload: EvidenceUpload, numbers: list[int]) -> list[tuple[int, str]]:
    if upload.status is not EvidenceUploadStatus.OPEN or upload.expires_at <= utcnow():
        return []
    return [(number, store.presign_part(upload.object_key, upload.store_upload_id, number)) for number in numbers]


def missing_parts(upload: EvidenceUpload, arrived: list[UploadedPart]) -> list[int]:
    """The parts still to send: not arrived, or arrived with a size other than the plan's."""
    count = part_count(upload)
    good = {part.number for part in arrived if part.size == _planned_size(upload, part.number, count)}
    return [number for number in range(1, count + 1) if number not in good]


def _planned_size(upload: EvidenceUpload, number: int, count: int) -> int:
    return upload.part_size if number < count else upload.size_bytes - upload.part_size * (count - 1)


async def confirm_upload(session: AsyncSession, *, principal: Principal, store: EvidenceStore, upload_id: str,
                         limits: BombLimits, check_owner: OwnerCheck) -> Evidence:
    """Complete and verify an upload; the evidence row it becomes. Confirming a confirmed upload
    again answers with the same evidence. `check_owner` refuses an owner that no longer takes
    evidence (a referral closed meanwhile)."""
    upload = await get_upload(session, principal=principal, upload_id=upload_id, for_update=True)
    if upload.status is EvidenceUploadStatus.CONFIRMED:
        return await session.scalar(select(Evidence).where(Evidence.id == upload.id))
    if upload.status is EvidenceUploadStatus.REJECTED:
        raise InvalidTransition(f"此上传已被拒绝 / this upload was rejected: {upload.rejection}",
                                reason="UPLOAD_REJECTED")
    if upload.expires_at <= utcnow():
        raise InvalidTransition("上传已过期，请重新申请 / the upload has expired: request a new one",
                                reason="UPLOAD_EXPIRED")
    await check_owner(upload.owner_kind, upload.owner_id)
    arrived = await store.uploaded_parts(upload.object_key, upload.store_upload_id)
    if arrived is None:
        # Completed by an earlier confirmation whose transaction did not commit (its answer lost,
        # the database gone): the version it made is verified now like any other.
        await unit_of_work.checkpoint(session)
        put = await _completed_version(store, upload)
    else:
        arrived.sort(key=lambda part: part.number)
        missing = missing_parts(upload, arrived)
        if missing:
            raise ValidationFailed(f"尚有 {len(missing)} 个分片未上传 / {len(missing)} parts are still to be sent",
                                   field="parts", reason="PARTS_MISSING", missingParts=missing[:100])
        if any(part.number > part_count(upload) for part in arrived):
            await _reject(session, upload, ValidationFailed(
                "分片多于声明的大小 / more parts arrived than the declared size has", field="sizeBytes",
                reason="SIZE_MISMATCH"))
        # Nothing held while the object is completed and read back (it may be gigabytes).
        await unit_of_work.checkpoint(session)
        put = await store.complete_upload(upload.object_key, upload.store_upload_id, arrived)
    size, sha256, head = await store.read_back(put.key, put.version_id, SNIFF_BYTES)
    upload = await get_upload(session, principal=principal, upload_id=upload_id, for_update=True)
    if upload.status is EvidenceUploadStatus.CONFIRMED:  # a concurrent confirmation finished first
        return await session.scalar(select(Evidence).where(Evidence.id == upload.id))
    if size != upload.size_bytes:
        await _reject(session, upload, ValidationFailed(
            f"文件大小与声明不符 / the file has {size} bytes, {upload.size_bytes} were declared",
            field="sizeBytes", reason="SIZE_MISMATCH"))
    if sha256 != upload.sha256:
        await _reject(session, upload, ValidationFailed(
            "SHA-256 与声明不符 / the file's SHA-256 is not the one declared", field="sha256",
            reason="SHA256_MISMATCH", actualSha256=sha256))
    try:
        media_type, kind = await _classify(store, put, head, upload, limits)
    except AppError as error:
        if error.code != "UNSUPPORTED_MEDIA_TYPE":
            raise
        await _reject(session, upload, error)
    await check_owner(upload.owner_kind, upload.owner_id)
    owner = EvidenceOwner(kind=upload.owner_kind, id=upload.owner_id, agency_id=upload.agency_id,
                          jurisdiction_id=upload.jurisdiction_id)
    declared = None
    if upload.declared_position is not None:
        point = to_shape(upload.declared_position)
        declared = DeclaredPosition(longitude=point.x, latitude=point.y, accuracy_meters=upload.declared_accuracy_m)
    evidence = new_evidence(principal=principal, owner=owner, evidence_id=upload.id, put=put,
                            filename=upload.filename, media_type=media_type, kind=kind, size=size,
                            sha256=sha256, description=upload.description, declared=declared)
    session.add(evidence)
    upload.status = EvidenceUploadStatus.CONFIRMED
    await settle_uploads(session, [upload.object_key])
    await session.flush()
    return evidence


async def _completed_version(store: EvidenceStore, upload: EvidenceUpload) -> PutResult:
    versions = await store.versions_of(upload.object_key)
    if not versions:  # aborted: by the janitor after expiry, or by hand
        raise InvalidTransition("上传已被中止，请重新申请 / the upload was aborted: request a new one",
                                reason="UPLOAD_EXPIRED")
    latest = max(versions, key=lambda version: version.last_modified or utcnow())
    return PutResult(key=upload.object_key, version_id=latest.version_id)


async def _classify(store: EvidenceStore, put: PutResult, head: bytes, upload: EvidenceUpload,
                    limits: BombLimits) -> tuple[str, EvidenceKind]:
    media_type = sniff_media_type(head, field="file")
    if not could_be(media_type, upload.kind):
        raise refuse_type(media_type, upload.kind, "file")
    return await classify_stored(store, put, media_type=media_type, size=upload.size_bytes, kind=upload.kind,
                                 limits=limits, field="file")


async def _reject(session: AsyncSession, upload: EvidenceUpload, error: AppError) -> None:
    """Record that the bytes are not evidence and leave them to the janitor (committed although the
    request fails: the janitor must know), then fail with `error`."""
    upload.status = EvidenceUploadStatus.REJECTED
    upload.rejection = error.message
    await abandon_uploads(session, [upload.object_key])
    await unit_of_work.checkpoint(session)
    raise error
