"""Clue models (数据线索模型): named screenings of enforcement cases saved as versioned rules (data,
not code: clues.conditions compiles them), the runs that apply them, and the hits they queue for
prosecutors, each with its status history."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, created_at_column, string_enum, uuid_pk
from core.state_machine import ActorMixin, StatusChangeMixin


class ClueSubject(str, enum.Enum):
    """What a model screens. Enforcement cases only for now: referrals are already the
    procuratorate's (registered, evaluated), so a screening of them finds nothing new to queue."""

    ENFORCEMENT_CASE = "ENFORCEMENT_CASE"


class ClueModelStatus(str, enum.Enum):
    ACTIVE = "ACTIVE"
    RETIRED = "RETIRED"


class ClueModelAction(str, enum.Enum):
    CREATE = "create"
    RETIRE = "retire"


class ClueHitStatus(str, enum.Enum):
    NEW = "NEW"  # queued for the jurisdiction's prosecutors
    DISMISSED = "DISMISSED"  # looked at, not a clue (the reason says why)
    CASE_OPENED = "CASE_OPENED"  # a case opened from the procuratorate's own clue (openCaseFromClueHit)


class ClueHitAction(str, enum.Enum):
    # A hit's creation is recorded by the run that found it (clue_model_run), not as an action.
    DISMISS = "dismiss"
    REOPEN = "reopen"
    OPEN_CASE = "open_case"


class ClueRunTrigger(str, enum.Enum):
    ON_DEMAND = "ON_DEMAND"
    SCHEDULED = "SCHEDULED"


class ClueModel(Base):
    """A named screening of a procuratorate, over the records of its jurisdiction and below."""

    __tablename__ = "clue_model"

    id: Mapped[uuid.UUID] = uuid_pk()
    # Whose model it is: the procuratorate of this jurisdiction (its prosecutors and those above
    # see it); its hits come from records of this jurisdiction and the ones below it.
    jurisdiction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jurisdiction.id"), index=True)
    procuratorate_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("procuratorate.id"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    subject: Mapped[ClueSubject] = mapped_column(string_enum(ClueSubject, "clue_subject"))
    status: Mapped[ClueModelStatus] = mapped_column(string_enum(ClueModelStatus, "clue_model_status"))
    # The version runs apply (the last revision).
    current_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (UniqueConstraint("jurisdiction_id", "name"),)


class ClueModelVersion(ActorMixin, Base):
    """One revision of a model's conditions, kept for ever: a hit names the version that found it."""

    __tablename__ = "clue_model_version"

    id: Mapped[uuid.UUID] = uuid_pk()
    model_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clue_model.id"))
    version: Mapped[int] = mapped_column(Integer)
    # As given (checked by clues.conditions), so it reads back exactly.
    conditions: Mapped[dict] = mapped_column(JSONB)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (UniqueConstraint("model_id", "version"), CheckConstraint("version >= 1", name="version_positive"))


class ClueModelStatusChange(StatusChangeMixin, Base):
    __tablename__ = "clue_model_status_change"
    status_enum = ClueModelStatus
    subject_key = "model_id"

    id: Mapped[uuid.UUID] = uuid_pk()
    model_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clue_model.id"), index=True)


class ClueModelRun(Base):
    """One application of a model's version to the records in its scope: when, how, what it found."""

    __tablename__ = "clue_model_run"

    id: Mapped[uuid.UUID] = uuid_pk()
    model_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clue_model.id"))
    version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clue_model_version.id"))
    version: Mapped[int] = mapped_column(Integer)
    trigger: Mapped[ClueRunTrigger] = mapped_column(string_enum(ClueRunTrigger, "clue_run_trigger"))
    # The prosecutor who ran it on demand (none for the worker's scheduled runs).
    started_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    started_at: Mapped[datetime] = created_at_column()
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Records matching the conditions, and of them those hit for the first time by this model.
    matched: Mapped[int] = mapped_column(Integer, default=0)
    hits_found: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_clue_model_run_model_id_started_at", "model_id", "started_at"),)


class ClueHit(Base):
    """A record a model matched, once per model and record (a later run finds it again and adds
    nothing). Carries the record's agency and jurisdiction, so scoping needs no join."""

    __tablename__ = "clue_hit"

    id: Mapped[uuid.UUID] = uuid_pk()
    model_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clue_model.id"))
    version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clue_model_version.id"))
    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clue_model_run.id"))
    enforcement_case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enforcement_case.id"), index=True)
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"))
    jurisdiction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jurisdiction.id"))
    status: Mapped[ClueHitStatus] = mapped_column(string_enum(ClueHitStatus, "clue_hit_status"))
    found_at: Mapped[datetime] = created_at_column()
    # What came of it when a prosecutor acted on the hit itself.
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("pil_case.id"))

    __table_args__ = (
        UniqueConstraint("model_id", "enforcement_case_id"),
        Index("ix_clue_hit_jurisdiction_id_found_at_id", "jurisdiction_id", "found_at", "id"),
        Index("ix_clue_hit_model_id_found_at_id", "model_id", "found_at", "id"),
    )


class ClueHitStatusChange(StatusChangeMixin, Base):
    __tablename__ = "clue_hit_status_change"
    status_enum = ClueHitStatus
    subject_key = "hit_id"

    id: Mapped[uuid.UUID] = uuid_pk()
    hit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clue_hit.id"), index=True)
