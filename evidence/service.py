"""Evidence: streaming uploads into the store with their hash, scoped downloads, custody."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from agencies.models import Role
from agencies.principal import Principal
from agencies.scoping import visible_to
from app import unit_of_work
from app.errors import Forbidden, NotFound, PayloadTooLarge, ValidationFailed
from evidence.models import CustodyAction, CustodyEvent, Evidence
from evidence.sniff import SNIFF_BYTES, sniff_media_type
from evidence.storage import EvidenceStore
from referral.models import Referral

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


async def store_evidence(session: AsyncSession, *, principal: Principal, store: EvidenceStore,
                         referral_id: uuid.UUID, incoming: IncomingFile, max_bytes: int,
                         field: str = "evidence") -> Evidence:
    """Stream one file into the store; returns its row (with the upload's custody event) for the
    caller to add once the owning row exists. The object is removed again if the request's
    transaction does not commit."""
    description = (incoming.description or "").strip() or None
    if description and len(description) > MAX_DESCRIPTION_LENGTH:
        raise ValidationFailed(f"说明过长 / the description is longer than {MAX_DESCRIPTION_LENGTH} characters",
                               field=f"{field}.description")
    filename = (await incoming.source.open()).strip()[:255]
    if not filename:
        raise ValidationFailed("文件名不能为空 / the file needs a name", field=field)
    reader = _HashingReader(incoming.source.chunks(), max_bytes, field)
    media_type = sniff_media_type(await reader.head(SNIFF_BYTES), field=field)

    evidence_id = uuid.uuid4()
    key = f"{EVIDENCE_PREFIX}{referral_id}/{evidence_id}"
    put = await store.put_stream(key, reader.chunks(), content_type=media_type,
                                 metadata={"filename": filename.encode("unicode_escape").decode()})

    async def remove_object() -> None:
        await store.delete_version(put.key, put.version_id)

    async def lock_object() -> None:
        # Evidence is kept as it was received: once its row is committed, nobody can delete the
        # version, not even the platform (a failed request's object is removed before this).
        await store.hold(put.key, put.version_id)

    unit_of_work.on_rollback(session, remove_object)
    unit_of_work.after_commit(session, lock_object)
    evidence = Evidence(
        id=evidence_id, referral_id=referral_id, object_key=key, version_id=put.version_id,
        filename=filename, media_type=media_type, size_bytes=reader.size,
        sha256=reader.sha256.hexdigest(), description=description,
        uploaded_by_user_id=principal.user_id, uploaded_by_api_key_id=principal.api_key_id)
    evidence.custody_events = [CustodyEvent(action=CustodyAction.UPLOADED, **_actor_columns(principal))]
    return evidence


def _visible_evidence(principal: Principal):
    return (select(Evidence).join(Referral, Referral.id == Evidence.referral_id)
            .where(visible_to(principal, agency_column=Referral.agency_id,
                              jurisdiction_column=Referral.jurisdiction_id)))


async def list_evidence(session: AsyncSession, *, principal: Principal,
                        referral_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Evidence]]:
    rows = await session.scalars(_visible_evidence(principal)
                                 .where(Evidence.referral_id.in_(referral_ids))
                                 .order_by(Evidence.uploaded_at, Evidence.id))
    by_referral: dict[uuid.UUID, list[Evidence]] = {referral_id: [] for referral_id in referral_ids}
    for row in rows:
        by_referral[row.referral_id].append(row)
    return by_referral


async def open_evidence_content(session: AsyncSession, *, principal: Principal, store: EvidenceStore,
                                evidence_id: str) -> tuple[Evidence, Iterator[bytes]]:
    """The evidence row and its bytes, for someone allowed to see them; records the download."""
    try:
        parsed = uuid.UUID(evidence_id)
    except ValueError:
        parsed = None
    evidence = None
    if parsed is not None:
        evidence = await session.scalar(_visible_evidence(principal).where(Evidence.id == parsed))
    if evidence is None:
        raise NotFound("证据不存在 / evidence not found")
    if principal.role not in CONTENT_ROLES:
        raise Forbidden("此角色不能查看证据内容 / this role may not open evidence contents")
    chunks = await store.open_chunks(evidence.object_key, evidence.version_id)
    session.add(CustodyEvent(evidence_id=evidence.id, action=CustodyAction.DOWNLOADED,
                             **_actor_columns(principal)))
    return evidence, chunks


async def sweep_orphans(session: AsyncSession, *, store: EvidenceStore, older_than: timedelta) -> list[str]:
    """Remove stored evidence versions that no evidence row owns — what escaped a failed request
    whose own clean-up also failed. Only versions older than `older_than`, so an upload still
    waiting for its commit is left alone. Returns the keys removed."""
    owned = {(key, version) for key, version in
             (await session.execute(select(Evidence.object_key, Evidence.version_id))).all()}
    cutoff = datetime.now(timezone.utc) - older_than
    removed = []
    for version in await store.list_versions(EVIDENCE_PREFIX):
        if (version.key, version.version_id) in owned:
            continue
        if version.last_modified is not None and version.last_modified > cutoff:
            continue
        await store.delete_version(version.key, version.version_id)
        removed.append(version.key)
    return removed


async def hold_all_evidence(session: AsyncSession, *, store: EvidenceStore) -> int:
    """Put the legal hold on every evidence version (idempotent): repairs holds that an
    after-commit step could not set because the store failed just then."""
    rows = (await session.execute(select(Evidence.object_key, Evidence.version_id))).all()
    for key, version_id in rows:
        await store.hold(key, version_id)
    return len(rows)
