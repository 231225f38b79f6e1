"""Evidence files and their chain of custody."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    FetchedValue,
    Float,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, created_at_column, string_enum, uuid_pk
from evidence.kinds import EvidenceKind
from evidence.photo import CapturedAtSource


class CustodyAction(str, enum.Enum):
    UPLOADED = "UPLOADED"
    DOWNLOADED = "DOWNLOADED"  # the bytes streamed through the app
    DOWNLOAD_URL_ISSUED = "DOWNLOAD_URL_ISSUED"  # a short-lived presigned URL handed out instead
    EXPORTED = "EXPORTED"  # copied into an evidence bundle
    VERIFIED = "VERIFIED"  # re-hashed on request (verifyEvidence); detail says with what result


class IntegrityStatus(str, enum.Enum):
    """What the last check of the stored bytes found (NULL: not checked yet)."""

    INTACT = "INTACT"
    MISSING = "MISSING"  # the pinned version is gone from the store
    ALTERED = "ALTERED"  # its bytes no longer hash to the recorded SHA-256
    SUPERSEDED = "SUPERSEDED"  # intact, but someone wrote a newer version over the evidence key


class PositionSource(str, enum.Enum):
    """Where an evidence item's position comes from."""

    EXIF = "EXIF"  # the photo's own GPS tags
    DECLARED = "DECLARED"  # what the client said when uploading (kept apart from EXIF)
    NONE = "NONE"


class MetadataStatus(str, enum.Enum):
    """Whether what a file knows (a photo's EXIF, its preview, the distance) has been read."""

    PENDING = "PENDING"  # the worker (or `manage evidence-metadata`) has yet to read it
    DONE = "DONE"
    NONE = "NONE"  # nothing to read: not a photo and no declared position
    FAILED = "FAILED"  # the bytes could not be read (metadata_problem says why)


class EvidenceOwnerKind(str, enum.Enum):
    """What a file is evidence of; each kind has a foreign-key column of its own (OWNER_COLUMNS),
    and exactly that one is set on a row."""

    REFERRAL = "REFERRAL"
    REPLY = "REPLY"  # attached to an agency's reply to a recommendation
    RECTIFICATION_REPORT = "RECTIFICATION_REPORT"  # attached to a later report on the rectification
    RECTIFICATION_CHECK = "RECTIFICATION_CHECK"  # the procuratorate's on-site check (photos, records)


# The column that points at each kind's owner.
OWNER_COLUMNS: dict[EvidenceOwnerKind, str] = {
    EvidenceOwnerKind.REFERRAL: "referral_id",
    EvidenceOwnerKind.REPLY: "reply_id",
    EvidenceOwnerKind.RECTIFICATION_REPORT: "rectification_report_id",
    EvidenceOwnerKind.RECTIFICATION_CHECK: "rectification_check_id",
}


def _one_owner() -> str:
    """SQL: exactly the owner column of the row's kind is set."""
    def owned_by(kind: EvidenceOwnerKind) -> str:
        nulls = [f"{column} IS {'NOT NULL' if column == OWNER_COLUMNS[kind] else 'NULL'}"
                 for column in OWNER_COLUMNS.values()]
        return f"(owner_kind = '{kind.value}' AND {' AND '.join(nulls)})"

    return " OR ".join(owned_by(kind) for kind in OWNER_COLUMNS)


ONE_OWNER = _one_owner()


class Evidence(Base):
    """A file and whose it is. Its owner and its scope are its own columns: a reply's attachments
    belong to the addressee agency, which need not be the agency that referred the clue, so
    evidence is scoped by `agency_id`/`jurisdiction_id` here, never through a join to its owner."""

    __tablename__ = "evidence"

    id: Mapped[uuid.UUID] = uuid_pk()
    owner_kind: Mapped[EvidenceOwnerKind] = mapped_column(string_enum(EvidenceOwnerKind, "evidence_owner_kind"))
    referral_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("referral.id"))
    # The tables are the recommendations package's; named by string so evidence imports nothing above it.
    reply_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("recommendation_reply.id"))
    rectification_report_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("rectification_report.id"))
    rectification_check_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("rectification_check.id"))
    # The agency whose evidence it is, and the jurisdiction whose procuratorate receives it.
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), index=True)
    jurisdiction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jurisdiction.id"), index=True)
    object_key: Mapped[str] = mapped_column(String(200), unique=True)
    version_id: Mapped[str | None] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(127))
    # What the file is evidence as (a photo, a survey's geodata...): declared by the client, checked
    # against the sniffed type (evidence.kinds).
    kind: Mapped[EvidenceKind] = mapped_column(string_enum(EvidenceKind, "evidence_kind"))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(Text)
    # A client's key for a file it adds later (attachEvidence): a retry with it adds nothing new.
    idempotency_key: Mapped[str | None] = mapped_column(String(100))
    uploaded_by_user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("user_account.id"))
    uploaded_by_api_key_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("api_key.id"))
    uploaded_at: Mapped[datetime] = created_at_column()
    # When the store confirmed the legal hold on this version; NULL means not yet held, and
    # `python -m app.manage hold-evidence` (or the janitor) finishes it.
    held_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The last re-hash of the stored bytes (the janitor's rolling check, verifyEvidence).
    integrity_status: Mapped[IntegrityStatus | None] = mapped_column(
        string_enum(IntegrityStatus, "evidence_integrity_status"))
    integrity_checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Where it was: the photo's EXIF position when it has one, else the declared one (evidence.metadata).
    position = mapped_column(Geometry("POINT", srid=4326, spatial_index=True), nullable=True)
    position_source: Mapped[PositionSource] = mapped_column(
        string_enum(PositionSource, "evidence_position_source"), default=PositionSource.NONE)
    position_accuracy_m: Mapped[float | None] = mapped_column(Float)
    # What the client declared, kept even when EXIF gives a position of its own.
    declared_position = mapped_column(Geometry("POINT", srid=4326, spatial_index=False), nullable=True)
    declared_accuracy_m: Mapped[float | None] = mapped_column(Float)
    captured_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    captured_at_source: Mapped[CapturedAtSource] = mapped_column(
        string_enum(CapturedAtSource, "evidence_captured_at_source"), default=CapturedAtSource.NONE)
    # Geodesic distance from the owner's place (the referral's geometry; a check's location) when read.
    distance_from_referral_m: Mapped[float | None] = mapped_column(Float)
    far_from_referral: Mapped[bool | None] = mapped_column(Boolean)
    metadata_status: Mapped[MetadataStatus] = mapped_column(string_enum(MetadataStatus, "evidence_metadata_status"),
                                                            default=MetadataStatus.NONE)
    metadata_problem: Mapped[str | None] = mapped_column(Text)
    metadata_read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The derived preview (no metadata): its own object, never held, made again whenever needed.
    preview_object_key: Mapped[str | None] = mapped_column(String(200))
    preview_version_id: Mapped[str | None] = mapped_column(String(200))
    preview_media_type: Mapped[str | None] = mapped_column(String(127))

    custody_events: Mapped[list[CustodyEvent]] = relationship(back_populates="evidence", lazy="raise")

    __table_args__ = (
        CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="sha256_hex"),
        CheckConstraint("size_bytes > 0", name="size_positive"),
        CheckConstraint(ONE_OWNER, name="one_owner"),
        UniqueConstraint("referral_id", "idempotency_key"),
        # An owner's files in the order they are shown, read straight from the index.
        Index("ix_evidence_referral_id_uploaded_at_id", "referral_id", "uploaded_at", "id"),
        Index("ix_evidence_reply_id_uploaded_at_id", "reply_id", "uploaded_at", "id"),
        Index("ix_evidence_rectification_report_id_uploaded_at_id", "rectification_report_id", "uploaded_at", "id"),
        Index("ix_evidence_rectification_check_id_uploaded_at_id", "rectification_check_id", "uploaded_at", "id"),
        # The janitor's rolling integrity check takes the never and least recently checked rows first.
        Index("ix_evidence_integrity_checked_at", "integrity_checked_at"),
        # The metadata worker's queue: the rows still to read, oldest first.
        Index("ix_evidence_metadata_pending", "uploaded_at", postgresql_where=text("metadata_status = 'PENDING'")),
        CheckConstraint("position_accuracy_m IS NULL OR position_accuracy_m >= 0", name="position_accuracy_positive"),
        CheckConstraint("declared_accuracy_m IS NULL OR declared_accuracy_m >= 0", name="declared_accuracy_positive"),
    )


def _chained() -> Mapped[str]:
    # Written by the database's insert trigger (migration 0019), never by the application.
    return mapped_column(String(64), server_default=FetchedValue())


class CustodyEvent(Base):
    """Who did what with an evidence file, and when: every upload, download, export and check.

    Append-only and hash-chained, both enforced by the database (migration 0019): a trigger
    refuses UPDATE and DELETE, and the insert trigger numbers the entry (`seq`) and writes its
    hashes (evidence/chain.py says how) while holding the chain head's row lock, so concurrent
    appends line up one after another."""

    __tablename__ = "custody_event"

    id: Mapped[uuid.UUID] = uuid_pk()
    evidence_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("evidence.id"))
    action: Mapped[CustodyAction] = mapped_column(string_enum(CustodyAction, "custody_action"))
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("user_account.id"))
    actor_api_key_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("api_key.id"))
    actor_name: Mapped[str] = mapped_column(String(100))
    occurred_at: Mapped[datetime] = created_at_column()
    # Canonical JSON of what else the entry attests (the upload's hash and version, how a
    # download was served, which bundle an export went into, a check's result).
    detail: Mapped[str | None] = mapped_column(Text)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True, server_default=FetchedValue())
    content_sha256: Mapped[str] = _chained()
    previous_sha256: Mapped[str] = _chained()
    chain_sha256: Mapped[str] = _chained()
    evidence_previous_sha256: Mapped[str] = _chained()
    evidence_chain_sha256: Mapped[str] = _chained()

    evidence: Mapped[Evidence] = relationship(back_populates="custody_events", lazy="raise")

    __table_args__ = (
        # An item's history in order, and its chain's last entry for the next append.
        Index("ix_custody_event_evidence_id_seq", "evidence_id", "seq"),
    )


class CustodyChainHead(Base):
    """The last entry of the custody log: one row, locked by every append (the insert trigger) so
    entries are numbered and chained one after another, and compared with the log's real last
    entry by the verifier (a deleted tail shows)."""

    __tablename__ = "custody_chain_head"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    chain_sha256: Mapped[str] = mapped_column(String(64))

    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)


class PendingUpload(Base):
    """An object key that may have bytes in the store without an evidence row owning them.

    Committed before the first byte is sent, and deleted in the very transaction that commits the
    evidence row. So while this row exists no committed evidence references the object, whatever
    happened to the request (even a COMMIT whose answer never arrived), and only then may the
    janitor remove the object: at once when the request gave up on it (`abandoned_at`), after a
    grace period otherwise (a request may still be uploading)."""

    __tablename__ = "pending_upload"

    object_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    created_at: Mapped[datetime] = created_at_column()
    abandoned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # An upload a client sends straight to the store (EvidenceUpload) may take hours: it is given
    # until then instead of the janitor's grace period, and its multipart upload is left alone.
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class EvidenceUploadStatus(str, enum.Enum):
    OPEN = "OPEN"  # parts may be sent
    CONFIRMED = "CONFIRMED"  # completed, verified, and an evidence row
    REJECTED = "REJECTED"  # completed but its bytes did not match what was declared; never evidence


class EvidenceUpload(Base):
    """A large file the client sends in parts straight to the store through presigned URLs
    (evidence.presigned). Its object key is a pending upload until it is confirmed; its scope is
    its owner's, in its own columns like evidence (a reply's file is the addressee agency's). Once
    confirmed, the evidence row has the upload's id."""

    __tablename__ = "evidence_upload"

    id: Mapped[uuid.UUID] = uuid_pk()
    owner_kind: Mapped[EvidenceOwnerKind] = mapped_column(string_enum(EvidenceOwnerKind, "evidence_owner_kind"))
    referral_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("referral.id"), index=True)
    reply_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("recommendation_reply.id"))
    rectification_report_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("rectification_report.id"))
    rectification_check_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("rectification_check.id"))
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), index=True)
    jurisdiction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jurisdiction.id"), index=True)
    object_key: Mapped[str] = mapped_column(String(200), unique=True)
    store_upload_id: Mapped[str] = mapped_column(String(500))
    filename: Mapped[str] = mapped_column(String(255))
    kind: Mapped[EvidenceKind] = mapped_column(string_enum(EvidenceKind, "evidence_kind"))
    description: Mapped[str | None] = mapped_column(Text)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    part_size: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[EvidenceUploadStatus] = mapped_column(string_enum(EvidenceUploadStatus,
                                                                     "evidence_upload_status"))
    rejection: Mapped[str | None] = mapped_column(Text)  # why the bytes were refused
    requested_by_user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("user_account.id"))
    requested_by_api_key_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("api_key.id"))
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    declared_position = mapped_column(Geometry("POINT", srid=4326, spatial_index=False), nullable=True)
    declared_accuracy_m: Mapped[float | None] = mapped_column(Float)

    __table_args__ = (
        CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="sha256_hex"),
        CheckConstraint("size_bytes > 0", name="size_positive"),
        CheckConstraint(ONE_OWNER, name="one_owner"),
    )

    @property
    def owner_id(self) -> uuid.UUID:
        return getattr(self, OWNER_COLUMNS[self.owner_kind])
