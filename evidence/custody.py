"""The custody log: writing entries, reading an item's history, and checking the chain and the
stored bytes against it (one item for verifyEvidence, the whole log for the operator, a rolling
batch for the janitor). The hashes themselves are evidence/chain.py's; the database writes them."""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass, field

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from agencies.principal import Principal
from core.db import utcnow
from evidence.chain import ChainWalker, Entry, check_evidence_chain, timestamp_text
from evidence.models import CustodyAction, CustodyChainHead, CustodyEvent, Evidence, IntegrityStatus
from evidence.storage import EvidenceStore

logger = logging.getLogger(__name__)
VERIFY_PAGE = 20_000


def canonical_json(value: dict) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def record(session: AsyncSession, *, evidence_id: uuid.UUID, action: CustodyAction, principal: Principal,
           detail: dict | None = None) -> CustodyEvent:
    """Add an entry to the log in the session's transaction (the trigger chains it on insert)."""
    entry = CustodyEvent(evidence_id=evidence_id, action=action, actor_user_id=principal.user_id,
                         actor_api_key_id=principal.api_key_id, actor_name=principal.username,
                         occurred_at=utcnow(), detail=None if detail is None else canonical_json(detail))
    session.add(entry)
    return entry


def upload_detail(evidence: Evidence) -> dict:
    """What an upload's entry attests: the bytes' hash and size, and where they are kept. Every
    path that creates an evidence row writes its UPLOADED entry with this detail."""
    return {"objectKey": evidence.object_key, "versionId": evidence.version_id, "sha256": evidence.sha256,
            "sizeBytes": evidence.size_bytes}


_ENTRY_COLUMNS = (CustodyEvent.id, CustodyEvent.seq, CustodyEvent.evidence_id, CustodyEvent.action,
                  CustodyEvent.actor_user_id, CustodyEvent.actor_api_key_id, CustodyEvent.actor_name,
                  CustodyEvent.occurred_at, CustodyEvent.detail, CustodyEvent.content_sha256,
                  CustodyEvent.previous_sha256, CustodyEvent.chain_sha256, CustodyEvent.evidence_previous_sha256,
                  CustodyEvent.evidence_chain_sha256)


def _entry(row) -> Entry:
    def text(value):
        return None if value is None else str(value)

    return Entry(id=str(row.id), seq=row.seq, evidence_id=str(row.evidence_id), action=str(row.action.value),
                 actor_user_id=text(row.actor_user_id), actor_api_key_id=text(row.actor_api_key_id),
                 actor_name=row.actor_name, occurred_at=timestamp_text(row.occurred_at), detail=row.detail,
                 content_sha256=row.content_sha256, previous_sha256=row.previous_sha256,
                 chain_sha256=row.chain_sha256, evidence_previous_sha256=row.evidence_previous_sha256,
                 evidence_chain_sha256=row.evidence_chain_sha256)


async def entries_of(session: AsyncSession, evidence_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Entry]]:
    """Each item's whole history, oldest first."""
    found: dict[uuid.UUID, list[Entry]] = {evidence_id: [] for evidence_id in evidence_ids}
    rows = await session.execute(select(*_ENTRY_COLUMNS).where(CustodyEvent.evidence_id.in_(evidence_ids))
                                 .order_by(CustodyEvent.seq))
    for row in rows:
        found[row.evidence_id].append(_entry(row))
    return found


def upload_mismatch(evidence: Evidence | object, entries: list[Entry]) -> str | None:
    """Whether the evidence row still says what its upload entry attested (its hash, size and
    version are plain columns a database superuser could change; the entry is chained)."""
    if not entries or entries[0].action != CustodyAction.UPLOADED.value or entries[0].detail is None:
        return "its history does not begin with an upload entry that attests the file's hash"
    attested = json.loads(entries[0].detail)
    recorded = {"objectKey": evidence.object_key, "versionId": evidence.version_id, "sha256": evidence.sha256,
                "sizeBytes": evidence.size_bytes}
    if attested != recorded:
        changed = sorted(key for key in recorded if attested.get(key) != recorded[key])
        return f"the evidence row's {', '.join(changed)} differ from what its upload entry attests"
    return None


@dataclass(frozen=True)
class ItemCheck:
    evidence_id: uuid.UUID
    status: IntegrityStatus
    recorded_sha256: str
    stored_sha256: str | None
    stored_size: int | None
    chain_problem: str | None  # None: the item's chain and its upload entry are sound
    entries: int

    @property
    def intact(self) -> bool:
        return self.status is IntegrityStatus.INTACT and self.chain_problem is None


async def check_stored_bytes(store: EvidenceStore, evidence: Evidence) -> tuple[IntegrityStatus, str | None, int | None]:
    """Re-hash the pinned version; also notice a newer version written over the evidence key."""
    digest = await store.digest(evidence.object_key, evidence.version_id)
    if digest is None:
        return IntegrityStatus.MISSING, None, None
    if digest.sha256 != evidence.sha256 or digest.size != evidence.size_bytes:
        return IntegrityStatus.ALTERED, digest.sha256, digest.size
    if evidence.version_id is not None and await store.latest_version_id(evidence.object_key) != evidence.version_id:
        return IntegrityStatus.SUPERSEDED, digest.sha256, digest.size
    return IntegrityStatus.INTACT, digest.sha256, digest.size


async def check_item(session: AsyncSession, *, store: EvidenceStore, evidence: Evidence) -> ItemCheck:
    """One item: its chain, its row against its upload entry, and its bytes against both. The
    result is kept on the row (integrity_status)."""
    entries = (await entries_of(session, [evidence.id]))[evidence.id]
    broken = check_evidence_chain(entries)
    problem = str(broken) if broken else upload_mismatch(evidence, entries)
    status, stored_sha256, stored_size = await check_stored_bytes(store, evidence)
    await session.execute(update(Evidence).where(Evidence.id == evidence.id)
                          .values(integrity_status=status, integrity_checked_at=func.now()))
    return ItemCheck(evidence.id, status, evidence.sha256, stored_sha256, stored_size, problem, len(entries))


# The whole log (the operator's `verify-custody`) ----------------------------------------------

@dataclass
class LogVerification:
    entries: int = 0
    evidence_checked: int = 0
    objects_checked: int = 0
    problem: str | None = None  # the first broken link, named


async def verify_log(session: AsyncSession, *, store: EvidenceStore | None = None) -> LogVerification:
    """Walk the whole log in seq order, page by page (memory: one hash per evidence item), then
    check the head row, then every evidence row against its upload entry, then (with a store)
    every stored object against its row. Stops at the first problem."""
    result = LogVerification()
    walker = ChainWalker()
    after = 0
    while True:
        rows = (await session.execute(select(*_ENTRY_COLUMNS).where(CustodyEvent.seq > after)
                                      .order_by(CustodyEvent.seq).limit(VERIFY_PAGE))).all()
        for row in rows:
            broken = walker.feed(_entry(row))
            if broken is not None:
                result.problem = str(broken)
                return result
            result.entries += 1
        if len(rows) < VERIFY_PAGE:
            break
        after = rows[-1].seq
    head = await session.scalar(select(CustodyChainHead))
    head_seq, head_sha256 = (head.seq, head.chain_sha256) if head else (0, walker.previous)
    if (head_seq, head_sha256) != (walker.last_seq, walker.previous):
        result.problem = (f"the log ends at entry #{walker.last_seq} but its head says #{head_seq}: "
                          "entries at the end are missing or the head was changed")
        return result

    uploads = (await session.execute(
        select(Evidence, *_ENTRY_COLUMNS)
        .outerjoin(CustodyEvent, (CustodyEvent.evidence_id == Evidence.id)
                   & (CustodyEvent.action == CustodyAction.UPLOADED))
        .order_by(Evidence.uploaded_at, Evidence.id))).all()
    for row in uploads:
        evidence = row[0]
        entries = [] if row.seq is None else [_entry(row)]
        mismatch = upload_mismatch(evidence, entries)
        if mismatch is not None:
            result.problem = f"evidence {evidence.id}: {mismatch}"
            return result
        result.evidence_checked += 1
        if store is not None:
            status, stored_sha256, _ = await check_stored_bytes(store, evidence)
            if status in (IntegrityStatus.MISSING, IntegrityStatus.ALTERED):
                result.problem = (f"evidence {evidence.id}: the stored object {evidence.object_key} "
                                  f"(version {evidence.version_id}) is {status.value.lower()}"
                                  + (f": SHA-256 {stored_sha256}, recorded {evidence.sha256}" if stored_sha256 else ""))
                return result
            result.objects_checked += 1
    return result


# The janitor's rolling check --------------------------------------------------------------------

@dataclass
class IntegrityReport:
    checked: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    altered: list[str] = field(default_factory=list)
    superseded: list[str] = field(default_factory=list)


async def check_integrity_batch(session: AsyncSession, *, store: EvidenceStore, batch: int,
                                max_bytes: int) -> IntegrityReport:
    """Re-hash the least recently checked evidence objects: at most `batch` rows and, after the
    first, no more than `max_bytes` read in all. Each run moves on through the table, so every
    object is checked once per (rows / batch) runs, and a run's cost stays the same however
    large the archive grows."""
    report = IntegrityReport()
    # Never checked first, then the oldest checks: two index scans rather than a sort of the table.
    rows = list((await session.scalars(select(Evidence).where(Evidence.integrity_checked_at.is_(None))
                                       .limit(batch))).all())
    if len(rows) < batch:
        rows += (await session.scalars(select(Evidence).where(Evidence.integrity_checked_at.is_not(None))
                                       .order_by(Evidence.integrity_checked_at).limit(batch - len(rows)))).all()
    read = 0
    for evidence in rows:
        if report.checked and read + evidence.size_bytes > max_bytes:
            break
        status, _, _ = await check_stored_bytes(store, evidence)
        read += evidence.size_bytes
        await session.execute(update(Evidence).where(Evidence.id == evidence.id)
                              .values(integrity_status=status, integrity_checked_at=func.now()))
        await session.commit()
        report.checked.append(evidence.object_key)
        if status is IntegrityStatus.MISSING:
            report.missing.append(evidence.object_key)
        elif status is IntegrityStatus.ALTERED:
            report.altered.append(evidence.object_key)
        elif status is IntegrityStatus.SUPERSEDED:
            report.superseded.append(evidence.object_key)
    return report

