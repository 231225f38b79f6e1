"""The custody log's hash chain, as pure functions: the database trigger (migration 0019) computes
the same hashes when a row is inserted, the verifiers recompute them here. Nothing in this module
touches the database or the store, so the offline bundle verifier needs nothing else.

An entry's content is its fields in a fixed order, each written as `<length>:<value>` (so no value
can imitate a field boundary) and joined by `|`; NULL is `-`. Each entry then carries:
- content_sha256: SHA-256 of that content;
- chain_sha256: SHA-256 of `<seq>:<previous_sha256>:<content_sha256>`, where previous_sha256 is
  the chain_sha256 of the entry before it in the whole log (GENESIS for the first);
- evidence_chain_sha256: the same over the entries of one evidence item only (its previous is
  evidence_previous_sha256), so one item's history can be checked without the rest of the log.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

GENESIS = "0" * 64
# The trigger writes occurred_at with to_char(... AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"').
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def timestamp_text(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime(TIMESTAMP_FORMAT)


def _field(value: str | None) -> str:
    return "-" if value is None else f"{len(value)}:{value}"


def content_sha256(*, entry_id: str, evidence_id: str, action: str, actor_user_id: str | None,
                   actor_api_key_id: str | None, actor_name: str, occurred_at: str, detail: str | None) -> str:
    """`occurred_at` as timestamp_text(); ids as lower-case hyphenated UUID text."""
    fields = (entry_id, evidence_id, action, actor_user_id, actor_api_key_id, actor_name, occurred_at, detail)
    return hashlib.sha256("|".join(map(_field, fields)).encode()).hexdigest()


def link_sha256(seq: int, previous_sha256: str, content: str) -> str:
    return hashlib.sha256(f"{seq}:{previous_sha256}:{content}".encode()).hexdigest()


@dataclass(frozen=True)
class Entry:
    """One custody entry as stored (or as written into a bundle's manifest)."""

    id: str
    seq: int
    evidence_id: str
    action: str
    actor_user_id: str | None
    actor_api_key_id: str | None
    actor_name: str
    occurred_at: str
    detail: str | None
    content_sha256: str
    previous_sha256: str
    chain_sha256: str
    evidence_previous_sha256: str
    evidence_chain_sha256: str

    def recomputed_content(self) -> str:
        return content_sha256(entry_id=self.id, evidence_id=self.evidence_id, action=self.action,
                              actor_user_id=self.actor_user_id, actor_api_key_id=self.actor_api_key_id,
                              actor_name=self.actor_name, occurred_at=self.occurred_at, detail=self.detail)

    def as_manifest(self) -> dict:
        return {"id": self.id, "seq": self.seq, "evidenceId": self.evidence_id, "action": self.action,
                "actorUserId": self.actor_user_id, "actorApiKeyId": self.actor_api_key_id,
                "actorName": self.actor_name, "occurredAt": self.occurred_at, "detail": self.detail,
                "contentSha256": self.content_sha256, "previousSha256": self.previous_sha256,
                "chainSha256": self.chain_sha256, "evidencePreviousSha256": self.evidence_previous_sha256,
                "evidenceChainSha256": self.evidence_chain_sha256}

    @classmethod
    def from_manifest(cls, item: dict) -> Entry:
        return cls(id=item["id"], seq=item["seq"], evidence_id=item["evidenceId"], action=item["action"],
                   actor_user_id=item["actorUserId"], actor_api_key_id=item["actorApiKeyId"],
                   actor_name=item["actorName"], occurred_at=item["occurredAt"], detail=item["detail"],
                   content_sha256=item["contentSha256"], previous_sha256=item["previousSha256"],
                   chain_sha256=item["chainSha256"], evidence_previous_sha256=item["evidencePreviousSha256"],
                   evidence_chain_sha256=item["evidenceChainSha256"])


@dataclass(frozen=True)
class BrokenLink:
    seq: int
    entry_id: str
    evidence_id: str
    reason: str

    def __str__(self) -> str:
        return f"entry #{self.seq} ({self.entry_id}, evidence {self.evidence_id}): {self.reason}"


def check_entry(entry: Entry) -> str | None:
    """What is wrong with one entry on its own (its content and its two links), or None."""
    if entry.recomputed_content() != entry.content_sha256:
        return "its content does not match its content hash (the row was changed)"
    if link_sha256(entry.seq, entry.previous_sha256, entry.content_sha256) != entry.chain_sha256:
        return "its chain hash does not match"
    if link_sha256(entry.seq, entry.evidence_previous_sha256, entry.content_sha256) != entry.evidence_chain_sha256:
        return "its evidence chain hash does not match"
    return None


def check_evidence_chain(entries: Iterable[Entry]) -> BrokenLink | None:
    """One evidence item's whole history, in order: each entry sound and linked to the one before."""
    previous = GENESIS
    for entry in entries:
        reason = check_entry(entry)
        if reason is None and entry.evidence_previous_sha256 != previous:
            reason = "it does not follow the item's previous entry (an entry is missing or was reordered)"
        if reason is not None:
            return BrokenLink(entry.seq, entry.id, entry.evidence_id, reason)
        previous = entry.evidence_chain_sha256
    return None
