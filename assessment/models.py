"""The assessment's own records: rubric versions, periods with their audited closes and reopens,
the results frozen at a close, and the agencies' objections with the office's answers.

The scores themselves are not stored while a period is open: they are computed from the other
packages' records (assessment.scoring). A close stores what was computed, and from then on the
period reads its frozen rows, whatever the records say later."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, created_at_column, string_enum, uuid_pk
from core.state_machine import ActorMixin, StatusChangeMixin


class AssessmentRubric(ActorMixin, Base):
    """One version of the rubric (考核细则): weights, deductions, targets, as data. A new version
    is a new row; a version is never edited, so a closed period's version still says what it said."""

    __tablename__ = "assessment_rubric"

    id: Mapped[uuid.UUID] = uuid_pk()
    version: Mapped[str] = mapped_column(String(40), unique=True)
    # assessment.rubric.Rubric.as_document(): the checked content.
    document: Mapped[dict] = mapped_column(JSONB)
    # Where it came from: the file loaded, or "administrator".
    source: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (Index("ix_assessment_rubric_created_at", "created_at"),)


class PeriodStatus(str, enum.Enum):
    OPEN = "OPEN"  # scores follow the records
    CLOSED = "CLOSED"  # scores frozen at the close


class PeriodAction(str, enum.Enum):
    CLOSE = "close"
    REOPEN = "reopen"


class AssessmentPeriod(Base):
    """A quarter (1-4) or a whole year (quarter 0) of one jurisdiction's agencies. A row exists
    once the period has been closed at least once."""

    __tablename__ = "assessment_period"

    id: Mapped[uuid.UUID] = uuid_pk()
    jurisdiction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jurisdiction.id"))
    year: Mapped[int] = mapped_column(Integer)
    quarter: Mapped[int] = mapped_column(Integer)
    status: Mapped[PeriodStatus] = mapped_column(string_enum(PeriodStatus, "assessment_period_status"))
    # Of the latest close: the rubric it scored with, when, and until when objections are taken.
    rubric_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("assessment_rubric.id"))
    closed_on: Mapped[date | None] = mapped_column(Date)
    objections_due_on: Mapped[date | None] = mapped_column(Date)
    # The close whose frozen rows the period reads (a reopened and closed again period has several).
    # (No foreign key: the change table points back at the period.)
    closing_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        UniqueConstraint("jurisdiction_id", "year", "quarter"),
        CheckConstraint("quarter BETWEEN 0 AND 4", name="quarter_range"),
    )


class AssessmentPeriodChange(StatusChangeMixin, Base):
    """The audit trail of a period: each close and each reopen (with its reason), who and when."""

    __tablename__ = "assessment_period_change"
    status_enum = PeriodStatus
    subject_key = "period_id"

    id: Mapped[uuid.UUID] = uuid_pk()
    period_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("assessment_period.id"), index=True)


class AssessmentResult(Base):
    """One agency's result as frozen by one close: total, rank and each indicator with the records
    behind it, in the shape assessment.scoring computes them."""

    __tablename__ = "assessment_result"

    id: Mapped[uuid.UUID] = uuid_pk()
    closing_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("assessment_period_change.id"))
    period_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("assessment_period.id"))
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"))
    jurisdiction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jurisdiction.id"))
    total: Mapped[Decimal] = mapped_column(Numeric(7, 2))
    rank: Mapped[int] = mapped_column(Integer)
    # [{"code", "kind", "value", "score", "weight", "count", "summary"}]
    indicators: Mapped[list[dict]] = mapped_column(JSONB)
    # {"<code>": [record, …]}: the explanation rows, as assessment.scoring.RECORD_COLUMNS.
    records: Mapped[dict] = mapped_column(JSONB)

    __table_args__ = (UniqueConstraint("closing_id", "agency_id"),)


class ObjectionStatus(str, enum.Enum):
    FILED = "FILED"
    ANSWERED = "ANSWERED"


class AssessmentObjection(ActorMixin, Base):
    """An agency's objection (异议) to one of its indicators in a closed period, and the office's
    answer. Kept with the period whatever happens to it later (a reopen does not remove it)."""

    __tablename__ = "assessment_objection"

    id: Mapped[uuid.UUID] = uuid_pk()
    period_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("assessment_period.id"), index=True)
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"))
    jurisdiction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jurisdiction.id"))
    indicator_code: Mapped[str] = mapped_column(String(40))
    status: Mapped[ObjectionStatus] = mapped_column(string_enum(ObjectionStatus, "assessment_objection_status"))
    grounds: Mapped[str] = mapped_column(Text)
    filed_on: Mapped[date] = mapped_column(Date)
    filed_at: Mapped[datetime] = created_at_column()
    answer: Mapped[str | None] = mapped_column(Text)
    answered_on: Mapped[date | None] = mapped_column(Date)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    answered_by_name: Mapped[str | None] = mapped_column(String(100))
