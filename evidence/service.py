"""Evidence: streaming uploads into the store with their hash, scoped downloads, custody."""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from geoalchemy2.shape import from_shape
from minio.error import S3Error
from shapely.geometry import Point
from sqlalchemy import Row, and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from agencies.models import Role
from agencies.principal import Principal
from agencies.scoping import visible_to
from app.settings import ApiSettings
from core import unit_of_work
from core.db import utcnow
from core.errors import Forbidden, NotFound, PayloadTooLarge, ValidationFailed
from core.loaders import grouped
from core.permissions import require
from evidence import custody
from evidence.kinds import BombLimits, EvidenceKind, check_kind, could_be, inspect_structure, refuse_type
from evidence.models import (
    OWNER_COLUMNS,
    CustodyAction,
    CustodyEvent,
    Evidence,
    EvidenceOwnerKind,
    MetadataStatus,
    PendingUpload,
    PositionSource,
)
from evidence.photo import CapturedAtSource
from evidence.sniff import SNIFF_BYTES, sniff_media_type
from evidence.storage import EvidenceStore, PutResult

logger = logging.getLogger(__name__)
# Who may open evidence contents. Assessors score from the records, not the files (DOMAIN.md);
# administrators run accounts, not cases.
CONTENT_ROLES = frozenset({Role.AGENCY_LIAISON, Role.PROSECUTOR})
EVIDENCE_PREFIX = "referrals/"
MAX_DESCRIPTION_LENGTH = 2000


class FileSource(Protocol):
    """An uploaded file's bytes, readable once, as they arrive (app.multipart.Upload)."""

    async def open(self) -> str:
        """Reach the file; returns its name as the client gave it."""

    def chunks(self) -> AsyncIterator[bytes]: ...


@dataclass(frozen=True)
class BytesSource:
    """A file already in memory (the demo data, scripts)."""

    filename: str
    content: bytes

    async def open(self) -> str:
        return self.filename

    async def chunks(self) -> AsyncIterator[bytes]:
        yield self.content


@dataclass(frozen=True)
class IncomingFile:
    """An uploaded file as the API layer received it: a stream straight from the request, never
    a bytes object or a temporary file."""

    source: FileSource
    description: str | None = None
    # What the client says the file is; None: the first kind whose list has the sniffed type
    # (a photo for a JPEG, a document for a PDF), so clients written before kinds keep working.
    kind: EvidenceKind | None = None
    declared: DeclaredPosition | None = None


@dataclass(frozen=True)
class DeclaredPosition:
    """Where the client says a file was made (a field officer's phone that strips EXIF, a
    video), with its accuracy: kept apart from what the file itself says."""

    longitude: float
    latitude: float
    accuracy_meters: float | None = None


MAX_DECLARED_ACCURACY_METERS = 100_000


def declared_position(point, accuracy_meters: float | None, *, field: str) -> DeclaredPosition:
    """A declared position from an already parsed and converted shapely point (geo.parse_geometry)."""
    if accuracy_meters is not None and not 0 <= accuracy_meters <= MAX_DECLARED_ACCURACY_METERS:
        raise ValidationFailed(f"精度应在 0 到 {MAX_DECLARED_ACCURACY_METERS} 米之间 / accuracyMeters must lie between 0 "
                               f"and {MAX_DECLARED_ACCURACY_METERS}", field=f"{field}.accuracyMeters")
    return DeclaredPosition(longitude=point.x, latitude=point.y, accuracy_meters=accuracy_meters)


def bomb_limits(api: ApiSettings) -> BombLimits:
    return BombLimits(max_pixels=api.max_image_pixels, max_archive_entries=api.max_archive_entries,
                      max_archive_ratio=api.max_archive_ratio,
                      max_archive_uncompressed_bytes=api.max_archive_uncompressed_bytes)


class _HashingReader:
    """Feeds the store from the upload's chunks, hashing and counting as they pass, and stops
    the upload the moment the size limit is passed. The first bytes can be looked at (to sniff
    the type) before they go on to the store."""

    def __init__(self, chunks: AsyncIterator[bytes], limit: int, field: str):
        self._chunks = aiter(chunks)
        self._limit = limit
        self._field = field
        self._read_ahead: list[bytes] = []
        self.sha256 = hashlib.sha256()
        self.size = 0

    async def head(self, size: int) -> bytes:
        """The first `size` bytes (all of a shorter file); they are still passed on by chunks()."""
        while sum(map(len, self._read_ahead)) < size and (chunk := await self._next()) is not None:
            self._read_ahead.append(chunk)
        return b"".join(self._read_ahead)[:size]

    async def chunks(self) -> AsyncIterator[bytes]:
        while self._read_ahead:
            yield self._read_ahead.pop(0)
        while (chunk := await self._next()) is not None:
            yield chunk

    async def _next(self) -> bytes | None:
        chunk = await anext(self._chunks, None)
        if chunk is not None:
            self.size += len(chunk)
            if self.size > self._limit:
                raise PayloadTooLarge(field=self._field, limitBytes=self._limit)
            self.sha256.update(chunk)
        return chunk


def _actor_columns(principal: Principal) -> dict:
    return {"actor_user_id": principal.user_id, "actor_api_key_id": principal.api_key_id,
            "actor_name": principal.username}


@dataclass(frozen=True)
class EvidenceOwner:
    """Whose evidence a file is: the owning object, and the scope the file is seen in."""

    kind: EvidenceOwnerKind
    id: uuid.UUID
    agency_id: uuid.UUID
    jurisdiction_id: uuid.UUID


@dataclass(frozen=True)
class Reservation:
    """An evidence id and the object key its bytes go to, recorded as a pending upload."""

    evidence_id: uuid.UUID
    object_key: str


def check_description(incoming: IncomingFile, *, field: str) -> None:
    """What can be refused before any byte is read (the file's name comes with its bytes)."""
    if len((incoming.description or "").strip()) > MAX_DESCRIPTION_LENGTH:
        raise ValidationFailed(f"说明过长 / the description is longer than {MAX_DESCRIPTION_LENGTH} characters",
                               field=f"{field}.description")


async def _open(incoming: IncomingFile, *, field: str) -> str:
    filename = (await incoming.source.open()).strip()[:255]
    if not filename:
        raise ValidationFailed("文件名不能为空 / the file needs a name", field=field)
    return filename


async def reserve_uploads(session: AsyncSession, *, owner_prefix: str, count: int) -> list[Reservation]:
    """Record `count` new object keys as pending uploads and commit them before any byte goes to
    the store, so that whatever becomes of the request, the janitor can tell an object no
    committed row references from one that is evidence.

    This ends the request's transaction so far (which has only read at this point) and with it
    hands the database connection back to the pool: nothing holds a connection, let alone a
    transaction, while the bytes stream to the store. If the request then fails, its
    reservations are marked abandoned for the janitor; the app itself never deletes an object."""
    reservations = []
    for _ in range(count):
        evidence_id = uuid.uuid4()
        reservations.append(Reservation(evidence_id, f"{EVIDENCE_PREFIX}{owner_prefix}/{evidence_id}"))
    if not reservations:
        return reservations
    session.add_all(PendingUpload(object_key=item.object_key) for item in reservations)
    await unit_of_work.checkpoint(session)
    keys = [item.object_key for item in reservations]

    async def abandon() -> None:
        # After a rollback; a fresh transaction. If the commit merely lost its answer and did
        # happen, the rows are gone and this changes nothing (row locks order the two).
        await abandon_uploads(session, keys)
        await session.commit()

    unit_of_work.on_rollback(session, abandon)
    return reservations


async def abandon_uploads(session: AsyncSession, keys: list[str]) -> None:
    await session.execute(update(PendingUpload).where(PendingUpload.object_key.in_(keys),
                                                      PendingUpload.abandoned_at.is_(None))
                          .values(abandoned_at=func.now()))


async def settle_uploads(session: AsyncSession, keys: list[str]) -> None:
    """The evidence rows of these keys are being written in this transaction: they stop being
    pending in the same commit."""
    if keys:
        await session.execute(delete(PendingUpload).where(PendingUpload.object_key.in_(keys)))


async def store_evidence(session: AsyncSession, *, principal: Principal, store: EvidenceStore,
                         owner: EvidenceOwner, reservation: Reservation, incoming: IncomingFile,
                         max_bytes: int, limits: BombLimits, field: str = "evidence") -> Evidence:
    """Stream one file into the store under its reserved key, held from its first byte (the
    legal hold travels with the upload itself), then return its row (with the upload's custody
    event) for the caller to add in the transaction that also settles the reservation. A
    committed evidence row always has a held version behind it.

    A type the declared kind can never take is refused on the first bytes; the structure
    (archive entries, image dimensions) is read from the stored object before the row exists."""
    check_description(incoming, field=field)
    filename = await _open(incoming, field=field)
    reader = _HashingReader(incoming.source.chunks(), max_bytes, field)
    media_type = sniff_media_type(await reader.head(SNIFF_BYTES), field=field)
    if not could_be(media_type, incoming.kind):
        raise refuse_type(media_type, incoming.kind, field)
    put = await store.put_stream(reservation.object_key, reader.chunks(), content_type=media_type,
                                 metadata={"filename": filename.encode("unicode_escape").decode()},
                                 legal_hold=True)
    media_type, kind = await classify_stored(store, put, media_type=media_type, size=reader.size,
                                             kind=incoming.kind, limits=limits, field=field)
    return new_evidence(principal=principal, owner=owner, evidence_id=reservation.evidence_id, put=put,
                        filename=filename, media_type=media_type, kind=kind, size=reader.size,
                        sha256=reader.sha256.hexdigest(), description=incoming.description,
                        declared=incoming.declared)


async def classify_stored(store: EvidenceStore, put: PutResult, *, media_type: str, size: int,
                          kind: EvidenceKind | None, limits: BombLimits, field: str) -> tuple[str, EvidenceKind]:
    """The precise type and the kind of a stored version, or UnsupportedMediaType (a bomb, or a
    type the kind does not take)."""
    precise = await store.read_structure(
        put.key, put.version_id, size, lambda file: inspect_structure(media_type, file, limits, field))
    return precise, check_kind(precise, kind, field)


def new_evidence(*, principal: Principal, owner: EvidenceOwner, evidence_id: uuid.UUID, put: PutResult,
                 filename: str, media_type: str, kind: EvidenceKind, size: int, sha256: str,
                 description: str | None, declared: DeclaredPosition | None = None) -> Evidence:
    """An evidence row for a held, verified version, with the upload's custody event. A photo, or
    a file with a declared position, is left PENDING for evidence.metadata to read after commit."""
    evidence = Evidence(
        id=evidence_id, owner_kind=owner.kind, **{OWNER_COLUMNS[owner.kind]: owner.id},
        agency_id=owner.agency_id,
        jurisdiction_id=owner.jurisdiction_id, object_key=put.key, version_id=put.version_id,
        filename=filename, media_type=media_type, kind=kind, size_bytes=size,
        sha256=sha256, description=(description or "").strip() or None,
        uploaded_by_user_id=principal.user_id, uploaded_by_api_key_id=principal.api_key_id,
        held_at=utcnow(),
        metadata_status=(MetadataStatus.PENDING if kind is EvidenceKind.PHOTO or declared else MetadataStatus.NONE),
        position_source=PositionSource.NONE, captured_at_source=CapturedAtSource.NONE)
    if declared is not None:
        point = from_shape(Point(declared.longitude, declared.latitude), srid=4326)
        evidence.declared_position = evidence.position = point
        evidence.declared_accuracy_m = evidence.position_accuracy_m = declared.accuracy_meters
        evidence.position_source = PositionSource.DECLARED
    evidence.custody_events = [CustodyEvent(action=CustodyAction.UPLOADED, occurred_at=utcnow(),
                                            detail=custody.canonical_json(custody.upload_detail(evidence)),
                                            **_actor_columns(principal))]
    return evidence


async def digest_file(incoming: IncomingFile, *, max_bytes: int, field: str) -> tuple[str, str]:
    """The name and SHA-256 of a file read to its end without storing it (to compare a retried
    submission with the first one)."""
    filename = await _open(incoming, field=field)
    reader = _HashingReader(incoming.source.chunks(), max_bytes, field)
    async for _ in reader.chunks():
        pass
    return filename, reader.sha256.hexdigest()


def evidence_visible_to(principal: Principal):
    """The condition on `Evidence` of what the principal may see (lists of other packages use it)."""
    return visible_to(principal, agency_column=Evidence.agency_id, jurisdiction_column=Evidence.jurisdiction_id)


def visible_evidence_query(principal: Principal):
    return select(Evidence).where(evidence_visible_to(principal))


async def list_evidence(session: AsyncSession, *, principal: Principal,
                        referral_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Row]]:
    """The evidence of these referrals, as far as the principal may see them: read-only rows with
    the evidence table's columns (a list page reads dozens; ORM instances would cost more than
    the query)."""
    rows = await session.execute(select(*Evidence.__table__.c)
                                 .where(evidence_visible_to(principal), Evidence.referral_id.in_(referral_ids))
                                 .order_by(Evidence.uploaded_at, Evidence.id))
    return grouped(rows, referral_ids, key=lambda row: row.referral_id)


async def evidence_of(session: AsyncSession, *, principal: Principal, kind: EvidenceOwnerKind,
                      owner_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Evidence]]:
    """The evidence of these owners of one kind, as far as the principal may see them, by owner id."""
    column = getattr(Evidence, OWNER_COLUMNS[kind])
    rows = await session.scalars(visible_evidence_query(principal)
                                 .where(Evidence.owner_kind == kind, column.in_(owner_ids))
                                 .order_by(Evidence.uploaded_at, Evidence.id))
    return grouped(rows, owner_ids, key=lambda row: getattr(row, OWNER_COLUMNS[kind]))


async def visible_evidence(session: AsyncSession, *, principal: Principal, evidence_id: str) -> Evidence:
    """One evidence row within the principal's scope, else NOT_FOUND (whether or not it exists)."""
    try:
        parsed = uuid.UUID(str(evidence_id))
    except ValueError:
        parsed = None
    evidence = None
    if parsed is not None:
        evidence = await session.scalar(visible_evidence_query(principal).where(Evidence.id == parsed))
    if evidence is None:
        raise NotFound("证据不存在 / evidence not found")
    return evidence


def require_content_role(principal: Principal) -> None:
    if principal.role not in CONTENT_ROLES:
        raise Forbidden("此角色不能查看证据内容 / this role may not open evidence contents")


@dataclass(frozen=True)
class EvidenceDownload:
    """Either the bytes to stream (`chunks`) or a short-lived presigned URL to send the client to."""

    evidence: Evidence
    chunks: Iterator[bytes] | None = None
    url: str | None = None


async def open_evidence_content(session: AsyncSession, *, principal: Principal, store: EvidenceStore,
                                evidence_id: str, presign_over_bytes: int | None = None,
                                presign_ttl: timedelta = timedelta(minutes=5)) -> EvidenceDownload:
    """The evidence's bytes for someone allowed to see them, and the download in the custody log.
    A file over `presign_over_bytes` is not streamed through the app: the caller gets a URL for
    exactly the pinned version, valid for `presign_ttl`, issued only after these checks, and the
    log says so (DOWNLOAD_URL_ISSUED, with its expiry)."""
    evidence = await visible_evidence(session, principal=principal, evidence_id=evidence_id)
    require_content_role(principal)
    if presign_over_bytes is not None and evidence.size_bytes > presign_over_bytes:
        url = store.presigned_download(evidence.object_key, evidence.version_id, filename=evidence.filename,
                                       media_type=evidence.media_type, expires=presign_ttl)
        custody.record(session, evidence_id=evidence.id, action=CustodyAction.DOWNLOAD_URL_ISSUED,
                       principal=principal, detail={"expiresAt": (utcnow() + presign_ttl).isoformat(),
                                                    "versionId": evidence.version_id})
        return EvidenceDownload(evidence, url=url)
    chunks = await store.open_chunks(evidence.object_key, evidence.version_id)
    custody.record(session, evidence_id=evidence.id, action=CustodyAction.DOWNLOADED, principal=principal)
    return EvidenceDownload(evidence, chunks=chunks)


async def open_evidence_preview(session: AsyncSession, *, principal: Principal, store: EvidenceStore,
                                evidence_id: str) -> tuple[Evidence, Iterator[bytes]]:
    """A photo's preview for someone allowed to open the evidence: scoped and refused exactly like
    the contents (NOT_FOUND outside scope, FORBIDDEN to the roles that never open contents,
    assessors among them), NOT_FOUND while there is none. Not a custody event: a preview is
    derived, not the evidence, and carries none of its metadata."""
    evidence = await visible_evidence(session, principal=principal, evidence_id=evidence_id)
    require_content_role(principal)
    if evidence.preview_object_key is None:
        raise NotFound("此证据暂无预览 / this evidence has no preview (yet)")
    return evidence, await store.open_chunks(evidence.preview_object_key, evidence.preview_version_id)


async def verify_evidence(session: AsyncSession, *, principal: Principal, store: EvidenceStore,
                          evidence_id: str) -> custody.ItemCheck:
    """Re-hash the stored object and check the item's custody chain (prosecutors, in scope); the
    check and its result go into the log."""
    evidence = await visible_evidence(session, principal=principal, evidence_id=evidence_id)
    require(principal, Role.PROSECUTOR)
    result = await custody.check_item(session, store=store, evidence=evidence)
    custody.record(session, evidence_id=evidence.id, action=CustodyAction.VERIFIED, principal=principal,
                   detail={"status": result.status.value, "storedSha256": result.stored_sha256,
                           "chainIntact": result.chain_problem is None})
    return result


# The janitor ---------------------------------------------------------------------------------
# Runs with the store credentials that may lift a hold and delete a version (in production not the
# app's): `python -m app.manage sweep`. It removes only what the database proves is no evidence.

@dataclass
class SweepReport:
    removed: list[str] = field(default_factory=list)  # object keys whose versions were deleted
    aborted: list[str] = field(default_factory=list)  # incomplete multipart uploads aborted
    held: list[str] = field(default_factory=list)  # evidence versions the hold was finished on
    missing: list[str] = field(default_factory=list)  # evidence rows whose object is not in the store
    # Objects of abandoned uploads the bucket's COMPLIANCE retention keeps: nobody can remove them
    # before it ends (the price of retention by bucket default); sweep-orphans takes them after.
    retained: list[str] = field(default_factory=list)
    integrity: custody.IntegrityReport = field(default_factory=custody.IntegrityReport)


async def sweep(session: AsyncSession, *, store: EvidenceStore, grace: timedelta,
                batch: int = 500, integrity_batch: int = 100,
                integrity_max_bytes: int = 2 * 1024 * 1024 * 1024) -> SweepReport:
    """Remove the objects of abandoned uploads (and of pending ones older than `grace`: their
    request is long over), abort multipart uploads older than `grace`, finish the legal hold
    on evidence rows that lack it, and re-hash the next slice of evidence objects (the least
    recently checked: at most `integrity_batch` of them and about `integrity_max_bytes`), so
    missing or altered bytes are found within (rows / integrity_batch) runs. Each object is
    settled in its own transaction."""
    report = SweepReport()
    now = utcnow()
    cutoff = now - grace
    # Uploads clients are still sending straight to the store, until they expire.
    live = set((await session.scalars(select(PendingUpload.object_key).where(
        PendingUpload.abandoned_at.is_(None), PendingUpload.expires_at > now))).all())
    while True:
        # SKIP LOCKED: a row a request is settling right now is that request's business.
        pending = (await session.scalars(
            select(PendingUpload)
            .where(or_(PendingUpload.abandoned_at.is_not(None),
                       and_(PendingUpload.expires_at.is_(None), PendingUpload.created_at < cutoff),
                       PendingUpload.expires_at <= now))
            .order_by(PendingUpload.created_at).limit(batch).with_for_update(skip_locked=True))).all()
        for row in pending:
            for upload in await store.incomplete_uploads(row.object_key):
                if upload.key == row.object_key:  # its parts, if the client never completed it
                    await store.abort_upload(upload.key, upload.upload_id)
                    report.aborted.append(upload.key)
            kept = await _remove_unowned_object(session, store, row.object_key)
            await session.delete(row)
            await session.commit()
            (report.retained if kept else report.removed).append(row.object_key)
        if len(pending) < batch:
            break
    await session.commit()
    for upload in await store.incomplete_uploads(EVIDENCE_PREFIX):
        if upload.key in live:
            continue
        if upload.initiated_at is None or upload.initiated_at < cutoff:
            await store.abort_upload(upload.key, upload.upload_id)
            report.aborted.append(upload.key)
    held, missing = await hold_evidence(session, store=store, only_unheld=True)
    report.held, report.missing = held, missing
    report.integrity = await custody.check_integrity_batch(session, store=store, batch=integrity_batch,
                                                           max_bytes=integrity_max_bytes)
    return report


async def _remove_unowned_object(session: AsyncSession, store: EvidenceStore, key: str) -> bool:
    """Returns whether a version had to be kept (under retention)."""
    if await session.scalar(select(Evidence.id).where(Evidence.object_key == key)) is not None:
        # Cannot happen while rows are settled in the evidence row's own transaction; if it
        # ever does, the object is evidence and stays.
        logger.error("pending upload %s is owned by an evidence row; keeping the object", key)
        return True
    kept = False
    for version in await store.versions_of(key):
        if await store.retained(key, version.version_id):
            logger.warning("object %s (version %s) of an abandoned upload is under retention; kept",
                           key, version.version_id)
            kept = True
            continue
        await store.release_hold(key, version.version_id)
        await store.delete_version(key, version.version_id)
    return kept


async def hold_evidence(session: AsyncSession, *, store: EvidenceStore,
                        only_unheld: bool = False) -> tuple[list[str], list[str]]:
    """Put the legal hold on evidence versions (idempotent) and record it: repairs a hold that was
    lifted or never set. A row whose object is missing from the store is reported and skipped,
    not a reason to stop. Returns (keys held, keys missing)."""
    query = select(Evidence.id, Evidence.object_key, Evidence.version_id).order_by(Evidence.uploaded_at)
    if only_unheld:
        query = query.where(Evidence.held_at.is_(None))
    held, missing = [], []
    for evidence_id, key, version_id in (await session.execute(query)).all():
        try:
            await store.hold(key, version_id)
        except S3Error as error:
            logger.error("evidence %s: object %s (version %s) is missing from the store: %s",
                         evidence_id, key, version_id, error.code)
            missing.append(key)
            continue
        await session.execute(update(Evidence).where(Evidence.id == evidence_id).values(held_at=func.now()))
        await session.commit()
        held.append(key)
    return held, missing


async def sweep_orphans(session: AsyncSession, *, store: EvidenceStore, older_than: timedelta) -> list[str]:
    """Remove stored versions under the evidence prefix that neither an evidence row nor a pending
    upload accounts for (left by a version of the platform before uploads were reserved, or put
    there by hand). Only versions older than `older_than`. Reads every key: an occasional
    operator command, not the janitor's routine. Returns the keys removed."""
    owned = set((await session.scalars(select(Evidence.object_key))).all())
    owned |= set((await session.scalars(select(PendingUpload.object_key))).all())
    cutoff = utcnow() - older_than
    removed = []
    for version in await store.list_versions(EVIDENCE_PREFIX):
        if version.key in owned:
            continue
        if version.last_modified is not None and version.last_modified > cutoff:
            continue
        if await store.retained(version.key, version.version_id):
            continue
        await store.release_hold(version.key, version.version_id)
        await store.delete_version(version.key, version.version_id)
        removed.append(version.key)
    return removed
