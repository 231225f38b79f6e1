"""What evidence knows, read after it is committed: a photo's EXIF position and capture time, its
preview, and how far the file's position lies from the place it is evidence about.

Uploads stream to the store with no temporary file, so nothing is decoded while a request runs.
Every photo (and every file with a declared position) is written `metadata_status = PENDING`
in the transaction that creates it: the row itself is the job, so no job can be lost between a
commit and a queue, and none exists for evidence that was rolled back. The worker's periodic
task (worker.jobs, every few seconds) and `python -m app.manage evidence-metadata` take pending
rows one at a time with `FOR UPDATE SKIP LOCKED` (several workers never read the same photo),
read the stored version back with a bound (`max_photo_bytes`), decode it off the event loop with
a pixel bound, put the preview as an object of its own under `previews/` (no legal hold: it is
derived and made again on demand), and write the result in the same short transaction.

The distance is geodesic (PostGIS geography, on the WGS84 spheroid) from the position to the
owner's place: the referral's geometry (0 inside a polygon), a rectification check's location,
the case's geometry for a reply or a progress report. It is measured when the metadata is read."""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass, field

from geoalchemy2.shape import from_shape
from minio.error import S3Error
from shapely.geometry import Point
from sqlalchemy import or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.settings import EvidenceSettings
from core.db import utcnow
from core.errors import StorageUnavailable
from evidence.kinds import EvidenceKind
from evidence.models import Evidence, MetadataStatus, PositionSource
from evidence.photo import PREVIEW_MEDIA_TYPES, PhotoFacts, PhotoUnreadable, PreviewFormat, read_photo
from evidence.storage import EvidenceStore

logger = logging.getLogger(__name__)
PREVIEW_PREFIX = "previews/"

# The owner's place, whatever owns the evidence (table names only: evidence imports nothing above it).
_DISTANCE = text("""
    SELECT ST_Distance(e.position::geography, COALESCE(
        (SELECT r.geometry FROM referral r WHERE r.id = e.referral_id),
        (SELECT c.location FROM rectification_check c WHERE c.id = e.rectification_check_id),
        (SELECT k.geometry FROM recommendation_reply p JOIN recommendation m ON m.id = p.recommendation_id
                           JOIN pil_case k ON k.id = m.case_id WHERE p.id = e.reply_id),
        (SELECT k.geometry FROM rectification_report p JOIN recommendation m ON m.id = p.recommendation_id
                           JOIN pil_case k ON k.id = m.case_id WHERE p.id = e.rectification_report_id)
    )::geography)
    FROM evidence e WHERE e.id = :id AND e.position IS NOT NULL""")


@dataclass
class MetadataReport:
    done: list[uuid.UUID] = field(default_factory=list)
    failed: list[uuid.UUID] = field(default_factory=list)


def preview_key(evidence_id: uuid.UUID) -> str:
    return f"{PREVIEW_PREFIX}{evidence_id}"


async def read_pending(session_factory: async_sessionmaker[AsyncSession], *, store: EvidenceStore,
                       settings: EvidenceSettings, limit: int | None = None) -> MetadataReport:
    """Read pending rows until none is left (or `limit` were read). A store that is down stops the
    run and leaves the row pending for the next; a file that cannot be read is FAILED, with why."""
    report = MetadataReport()
    while limit is None or len(report.done) + len(report.failed) < limit:
        async with session_factory() as session:
            evidence = await session.scalar(
                select(Evidence).where(Evidence.metadata_status == MetadataStatus.PENDING)
                .order_by(Evidence.uploaded_at).limit(1).with_for_update(skip_locked=True))
            if evidence is None:
                return report
            try:
                await read_one(session, evidence, store=store, settings=settings)
            except StorageUnavailable:
                await session.rollback()
                logger.warning("evidence metadata: the store is unavailable; %s stays pending", evidence.id)
                return report
            await session.commit()
            (report.done if evidence.metadata_status is MetadataStatus.DONE else report.failed).append(evidence.id)
    return report


async def read_one(session: AsyncSession, evidence: Evidence, *, store: EvidenceStore,
                   settings: EvidenceSettings) -> None:
    """Read one (locked) row's metadata and write it to the row; the caller commits."""
    problem = None
    if evidence.kind is EvidenceKind.PHOTO:
        try:
            facts = await _photo_facts(evidence, store, settings)
        except PhotoUnreadable as error:
            facts, problem = None, str(error)
        if facts is not None:
            await _apply_photo(evidence, facts, store, settings)
    await session.flush()
    distance = await session.scalar(_DISTANCE, {"id": evidence.id})
    evidence.distance_from_referral_m = distance
    evidence.far_from_referral = None if distance is None else distance > settings.far_from_referral_meters
    evidence.metadata_status = MetadataStatus.FAILED if problem else MetadataStatus.DONE
    evidence.metadata_problem = problem
    evidence.metadata_read_at = utcnow()
    if problem:
        logger.warning("evidence metadata: %s cannot be read: %s", evidence.id, problem)


async def _photo_facts(evidence: Evidence, store: EvidenceStore, settings: EvidenceSettings) -> PhotoFacts:
    if evidence.size_bytes > settings.max_photo_bytes:
        raise PhotoUnreadable(f"the photo has {evidence.size_bytes} bytes, more than {settings.max_photo_bytes} "
                              "are read for its metadata")
    try:
        content = await store.read_bounded(evidence.object_key, evidence.version_id, settings.max_photo_bytes)
    except S3Error as error:
        raise PhotoUnreadable(f"the stored version is missing ({error.code})") from error
    if content is None:
        raise PhotoUnreadable(f"the stored version has more than {settings.max_photo_bytes} bytes")
    return await asyncio.to_thread(read_photo, content, max_pixels=settings.max_preview_pixels,
                                   max_side=settings.preview_max_side,
                                   preview_format=PreviewFormat(settings.preview_format))


async def _apply_photo(evidence: Evidence, facts: PhotoFacts, store: EvidenceStore,
                       settings: EvidenceSettings) -> None:
    if facts.has_position:
        evidence.position = from_shape(Point(facts.longitude, facts.latitude), srid=4326)
        evidence.position_source = PositionSource.EXIF
        evidence.position_accuracy_m = facts.accuracy_meters
    evidence.captured_at = facts.captured_at
    evidence.captured_at_source = facts.captured_at_source
    if facts.preview is not None:
        media_type = PREVIEW_MEDIA_TYPES[PreviewFormat(settings.preview_format)]
        put = await store.put_derived(preview_key(evidence.id), facts.preview, content_type=media_type)
        evidence.preview_object_key, evidence.preview_version_id = put.key, put.version_id
        evidence.preview_media_type = media_type


async def mark_for_rereading(session: AsyncSession, *, failed_only: bool) -> int:
    """Put read rows back in the queue (after a fix, or a change of preview settings)."""
    condition = (Evidence.metadata_status == MetadataStatus.FAILED if failed_only else
                 or_(Evidence.metadata_status == MetadataStatus.FAILED,
                     Evidence.metadata_status == MetadataStatus.DONE))
    result = await session.execute(update(Evidence).where(condition).values(metadata_status=MetadataStatus.PENDING))
    await session.commit()
    return result.rowcount
