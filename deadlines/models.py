"""The working calendar (the State Council's schedule per year) and the deadlines computed on it."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, created_at_column, string_enum, utcnow, uuid_pk
from core.state_machine import ActorMixin
from deadlines.workdays import DayKind


class CalendarYear(Base):
    """A year whose official schedule the table holds. A year without a row is not known: every
    deadline that needs it is provisional. Each change of the year's days raises `revision`."""

    __tablename__ = "calendar_year"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    revision: Mapped[int] = mapped_column(Integer)
    # Where the days came from: "chinese-calendar 1.11.0", or an administrator's name.
    source: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    @property
    def version(self) -> str:
        """How a proof sheet cites it: "2026.2 (张三: 国办发明电〔2026〕x号)"."""
        return f"{self.year}.{self.revision} ({self.source})"


class CalendarDay(Base):
    """A day that is not what its weekday says: a holiday, or a weekend day worked (调休)."""

    __tablename__ = "calendar_day"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    year: Mapped[int] = mapped_column(ForeignKey("calendar_year.year", ondelete="CASCADE"), index=True)
    kind: Mapped[DayKind] = mapped_column(string_enum(DayKind, "calendar_day_kind"))
    name: Mapped[str] = mapped_column(String(100))


class Deadline(Base):
    """A legal deadline on a subject (a referral, a recommendation, a case, a stage of a plan).

    It carries its subject's scope columns (agencies.scoping reads them, no join), the rule and
    rule version it was computed under, and the explanation of its due date as computed (the
    proof sheet prints it). A deadline is open until it is met or its subject goes away."""

    __tablename__ = "deadline"

    id: Mapped[uuid.UUID] = uuid_pk()
    # "REFERRAL", "RECOMMENDATION", "CASE", "RECTIFICATION_STAGE": a plain string, as the kinds
    # belong to the packages that open deadlines.
    subject_kind: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    agency_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agency.id"))
    jurisdiction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jurisdiction.id"))
    rule_code: Mapped[str] = mapped_column(String(40))
    rule_version: Mapped[str] = mapped_column(String(20))
    start_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    provisional: Mapped[bool] = mapped_column(Boolean)
    met_on: Mapped[date | None] = mapped_column(Date)
    # The subject went away before the deadline was met (a withdrawn referral): nothing is owed.
    cancelled_on: Mapped[date | None] = mapped_column(Date)
    calendar_version: Mapped[str] = mapped_column(String(400))
    # deadlines.workdays.Computation.as_json(): the days skipped and counted, the versions used.
    explanation: Mapped[dict] = mapped_column(JSONB)
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        UniqueConstraint("subject_kind", "subject_id", "rule_code"),
        # A calendar change recomputes the open deadlines whose period touches the changed year.
        Index("ix_deadline_due_on", "due_on"),
        # An agency's deadlines falling due in an assessment period (assessment.scoring).
        Index("ix_deadline_agency_id_due_on", "agency_id", "due_on"),
    )

    @property
    def is_open(self) -> bool:
        return self.met_on is None and self.cancelled_on is None


class DeadlineChange(ActorMixin, Base):
    """A due date moved after the deadline was opened, and why (a calendar change, a corrected
    start): what a court asks when the date on file is not the date first announced."""

    __tablename__ = "deadline_change"

    id: Mapped[uuid.UUID] = uuid_pk()
    deadline_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("deadline.id"), index=True)
    changed_at: Mapped[datetime] = created_at_column()
    reason: Mapped[str] = mapped_column(Text)
    before_due_on: Mapped[date] = mapped_column(Date)
    after_due_on: Mapped[date] = mapped_column(Date)
    before_provisional: Mapped[bool] = mapped_column(Boolean)
    after_provisional: Mapped[bool] = mapped_column(Boolean)
    before_calendar_version: Mapped[str] = mapped_column(String(400))
    after_calendar_version: Mapped[str] = mapped_column(String(400))
