"""The custody log: writing entries, reading an item's history, and checking the chain and the
stored bytes against it (one item for verifyEvidence, the whole log for the operator, a rolling
batch for the janitor). The hashes themselves are evidence/chain.py's; the database writes them."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import uuid
from dataclasses import dataclass, field

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from agencies.principal import Principal
from core.db import utcnow
from evidence.chain import GENESIS, BrokenLink, Entry, check_evidence_chain, timestamp_text
from evidence.models import CustodyAction, CustodyChainHead, CustodyEvent, Evidence, IntegrityStatus
from evidence.storage import EvidenceStore

logger = logging.getLogger(__name__)


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


def _field_sql(expression: str) -> str:
    """chain._field in SQL: `<length>:<value>`, NULL as `-`."""
    return f"CASE WHEN {expression} IS NULL THEN '-' ELSE length({expression})::text || ':' || {expression} END"


def _link_sql(previous: str) -> str:
    """chain.link_sha256 in SQL, over the row's own seq and content hash."""
    return f"encode(sha256(convert_to(seq::text || ':' || {previous} || ':' || content_sha256, 'UTF8')), 'hex')"


_CONTENT_FIELDS = ("id::text", "evidence_id::text", "action", "actor_user_id::text", "actor_api_key_id::text",
                   "actor_name", "to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')",
                   "detail")
# The hashes are recomputed here from the columns with PostgreSQL's own sha256(), spelled out as
# evidence/chain.py defines them (not through the trigger's helper functions, which whoever could
# rewrite rows could rewrite too). The first broken entry of the log, in this order for each
# entry: its content, its two links, a gap before it, its link to the log's previous entry.
# One slice of the log, seq in [:low, :high], read from the entry before it (whatever its seq) so
# its first entry's links and a gap before it are checked too.
_FIRST_BROKEN_IN_LOG = text(f"""
    SELECT seq, id::text AS id, evidence_id::text AS evidence_id, reason, previous_seq FROM (
        SELECT seq, id, evidence_id, lag(seq, 1, 0::bigint) OVER log AS previous_seq, CASE
            WHEN content_sha256 IS DISTINCT FROM encode(sha256(convert_to(concat_ws('|',
                {', '.join(_field_sql(field) for field in _CONTENT_FIELDS)}), 'UTF8')), 'hex') THEN 'content'
            WHEN chain_sha256 IS DISTINCT FROM {_link_sql('previous_sha256')} THEN 'chain'
            WHEN evidence_chain_sha256 IS DISTINCT FROM {_link_sql('evidence_previous_sha256')} THEN 'evidence_chain'
            WHEN seq <> lag(seq, 1, 0::bigint) OVER log + 1 THEN 'gap'
            WHEN previous_sha256 IS DISTINCT FROM lag(chain_sha256, 1, :genesis) OVER log THEN 'previous'
        END AS reason
        FROM custody_event
        WHERE seq >= coalesce((SELECT max(seq) FROM custody_event WHERE seq < :low), 0) AND seq <= :high
        WINDOW log AS (ORDER BY seq)) checked
    WHERE reason IS NOT NULL AND seq >= :low ORDER BY seq LIMIT 1""")
# The first entry that does not follow its item's previous entry, among the items whose ids lie
# in [:low, :high) (whole items, so each slice stands alone; no :high: up to the largest id).
_FIRST_BROKEN_IN_ITEMS = text("""
    SELECT seq, id::text AS id, evidence_id::text AS evidence_id FROM (
        SELECT seq, id, evidence_id, evidence_previous_sha256,
               lag(evidence_chain_sha256, 1, :genesis) OVER (PARTITION BY evidence_id ORDER BY seq) AS expected
        FROM custody_event
        WHERE evidence_id >= :low AND (CAST(:high AS uuid) IS NULL OR evidence_id < CAST(:high AS uuid))) items
    WHERE evidence_previous_sha256 IS DISTINCT FROM expected ORDER BY seq LIMIT 1""")
VERIFY_SLICES = 8  # per check; run on up to VERIFY_CONNECTIONS connections at once
VERIFY_CONNECTIONS = max(1, min(4, os.cpu_count() or 1))
_REASONS = {
    "content": "its content does not match its content hash (the row was changed)",
    "chain": "its chain hash does not match",
    "evidence_chain": "its evidence chain hash does not match",
    "previous": "it does not follow the previous entry of the log",
}
# The first evidence row that its upload entry does not attest (checked in full by upload_mismatch).
_FIRST_UNATTESTED = text("""
    SELECT e.id FROM evidence e
    LEFT JOIN custody_event c ON c.evidence_id = e.id AND c.action = 'UPLOADED'
    WHERE c.id IS NULL OR c.detail IS NULL OR c.detail::jsonb IS DISTINCT FROM jsonb_build_object(
        'objectKey', e.object_key, 'versionId', e.version_id, 'sha256', e.sha256, 'sizeBytes', e.size_bytes)
    ORDER BY e.uploaded_at, e.id LIMIT 1""")


async def _first_broken_link(session: AsyncSession, last_seq: int) -> BrokenLink | None:
    """The first broken entry of the log, checked in slices on several connections at once (the
    checks are CPU-bound in PostgreSQL, one core per statement)."""
    engine = session.bind
    slice_size = -(-last_seq // VERIFY_SLICES) or 1
    log_slices = [(low, min(low + slice_size - 1, last_seq)) for low in range(1, last_seq + 1, slice_size)]
    bounds = [uuid.UUID(int=(index << 128) // VERIFY_SLICES) for index in range(VERIFY_SLICES)]
    item_slices = list(zip(bounds, [*bounds[1:], None], strict=True))
    gate = asyncio.Semaphore(VERIFY_CONNECTIONS)

    async def first(statement, parameters: dict):
        async with gate, engine.connect() as connection:
            # An operator's command over the whole log: not bound by the app's per-statement limit;
            # the item check sorts each slice in memory.
            await connection.execute(text("SET LOCAL statement_timeout = 0"))
            await connection.execute(text("SET LOCAL work_mem = '128MB'"))
            return (await connection.execute(statement, {"genesis": GENESIS, **parameters})).first()

    in_log = [row for row in await asyncio.gather(*(first(_FIRST_BROKEN_IN_LOG, {"low": low, "high": high})
                                                    for low, high in log_slices)) if row is not None]
    in_items = [row for row in await asyncio.gather(*(first(_FIRST_BROKEN_IN_ITEMS, {"low": low, "high": high})
                                                      for low, high in item_slices)) if row is not None]
    log_first = min(in_log, key=lambda row: row.seq, default=None)
    items_first = min(in_items, key=lambda row: row.seq, default=None)
    if log_first is not None and (items_first is None or log_first.seq <= items_first.seq):
        reason = (f"entries #{log_first.previous_seq + 1} to #{log_first.seq - 1} are missing"
                  if log_first.reason == "gap" else _REASONS[log_first.reason])
        return BrokenLink(log_first.seq, log_first.id, log_first.evidence_id, reason)
    if items_first is not None:
        return BrokenLink(items_first.seq, items_first.id, items_first.evidence_id,
                          "it does not follow the item's previous entry")
    return None


async def verify_log(session: AsyncSession, *, store: EvidenceStore | None = None) -> LogVerification:
    """Check the whole log set-based in PostgreSQL: slices of it in seq order and slices of the
    items' own chains, on several connections at once; only the first broken entry comes back,
    so a million entries take seconds rather than a million rows through Python. Then the head
    row against the log's last entry, every evidence row against its upload entry, and (with a
    store) every stored object against its row. Names the first problem. The per-item check
    (verifyEvidence) and the offline bundle verifier compute the same hashes in Python
    (evidence.chain)."""
    result = LogVerification()
    await session.execute(text("SET LOCAL statement_timeout = 0"))
    last_seq = await session.scalar(select(func.coalesce(func.max(CustodyEvent.seq), 0)))
    broken = await _first_broken_link(session, last_seq)
    if broken is not None:
        result.entries = await session.scalar(select(func.count()).where(CustodyEvent.seq < broken.seq))
        result.problem = str(broken)
        return result
    count = await session.scalar(select(func.count()).select_from(CustodyEvent))
    last_sha256 = (await session.scalar(select(CustodyEvent.chain_sha256).where(CustodyEvent.seq == last_seq))
                   or GENESIS)
    result.entries = count
    head = await session.scalar(select(CustodyChainHead))
    head_seq, head_sha256 = (head.seq, head.chain_sha256) if head else (0, last_sha256)
    if (head_seq, head_sha256) != (last_seq, last_sha256):
        result.problem = (f"the log ends at entry #{last_seq} but its head says #{head_seq}: "
                          "entries at the end are missing or the head was changed")
        return result

    unattested = await session.scalar(_FIRST_UNATTESTED)
    if unattested is not None:
        evidence = await session.get(Evidence, unattested)
        entries = (await entries_of(session, [unattested]))[unattested]
        uploads = [entry for entry in entries if entry.action == CustodyAction.UPLOADED.value]
        mismatch = upload_mismatch(evidence, uploads) or "its upload entry does not attest the row"
        result.problem = f"evidence {unattested}: {mismatch}"
        return result
    result.evidence_checked = await session.scalar(select(func.count()).select_from(Evidence))
    if store is None:
        return result
    for evidence in (await session.scalars(select(Evidence).order_by(Evidence.uploaded_at, Evidence.id))).all():
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

