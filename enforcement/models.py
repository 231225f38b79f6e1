"""Administrative enforcement cases (执法办案信息) that agencies enter for the procuratorate to
screen, with their parties and when they were entered against the 7-working-day requirement."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal

from geoalchemy2 import Geometry
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, created_at_column, string_enum, uuid_pk
from core.state_machine import ActorMixin
from parties.models import PartyColumns


class EnforcementKind(str, enum.Enum):
    PENALTY = "PENALTY"  # 行政处罚
    COMPULSORY_MEASURE = "COMPULSORY_MEASURE"  # 行政强制措施 (查封、扣押…)
    COMPULSORY_EXECUTION = "COMPULSORY_EXECUTION"  # 行政强制执行
    INSPECTION = "INSPECTION"  # 行政检查
    LICENCE_REVOCATION = "LICENCE_REVOCATION"  # 吊销许可证照
    ORDER_TO_RECTIFY = "ORDER_TO_RECTIFY"  # 责令改正 / 责令恢复原状
    OTHER = "OTHER"


class EnforcementCase(ActorMixin, Base):
    """One enforcement case of an agency, as entered (by hand or by an import)."""

    __tablename__ = "enforcement_case"

    id: Mapped[uuid.UUID] = uuid_pk()
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"))
    # The agency's jurisdiction at entry: whose procuratorate screens it.
    jurisdiction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jurisdiction.id"))
    # The agency's own number (e.g. 平自然资罚〔2026〕12号): unique within the agency.
    case_number: Mapped[str] = mapped_column(String(100))
    kind: Mapped[EnforcementKind] = mapped_column(string_enum(EnforcementKind, "enforcement_kind"))
    domain_code: Mapped[str] = mapped_column(ForeignKey("referral_domain.code"))
    decided_on: Mapped[date] = mapped_column(Date)
    # Yuan, to the fen; none for a decision without a sum (an inspection, a revocation).
    amount: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    summary: Mapped[str] = mapped_column(Text)
    location = mapped_column(Geometry("GEOMETRY", srid=4326, spatial_index=True), nullable=True)

    # Timeliness of the entry, fixed when it is made (the assessment reads these columns, and a
    # score must not move when the calendar table is later edited): the Beijing date entered, the
    # due date under rule ENFORCEMENT_ENTRY with the rule's and the calendar's versions, whether it
    # was on time and by how many working days it was late.
    entered_on: Mapped[date] = mapped_column(Date)
    entered_at: Mapped[datetime] = created_at_column()
    entry_due_on: Mapped[date] = mapped_column(Date)
    entered_on_time: Mapped[bool] = mapped_column(Boolean)
    entry_working_days_late: Mapped[int] = mapped_column(Integer)
    entry_rule_version: Mapped[str] = mapped_column(String(40))
    entry_calendar_version: Mapped[str] = mapped_column(String(200))
    entry_provisional: Mapped[bool] = mapped_column(Boolean)

    # What was entered, hashed (identity numbers by their blind index): entering the same case
    # again is recognised as the same and changes nothing; different content is a conflict.
    content_fingerprint: Mapped[str] = mapped_column(String(64))

    # Lists read newest entries first within a scope (see referral.models.Referral for why each
    # index ends with the list order); screening filters by decision date and amount.
    __table_args__ = (
        UniqueConstraint("agency_id", "case_number"),
        Index("ix_enforcement_case_entered_at_id", "entered_at", "id"),
        Index("ix_enforcement_case_agency_id_entered_at_id", "agency_id", "entered_at", "id"),
        Index("ix_enforcement_case_jurisdiction_id_entered_at_id", "jurisdiction_id", "entered_at", "id"),
        Index("ix_enforcement_case_decided_on", "decided_on"),
        # An agency's cases decided in an assessment period (assessment.scoring).
        Index("ix_enforcement_case_agency_id_decided_on", "agency_id", "decided_on"),
        Index("ix_enforcement_case_amount", "amount"),
        CheckConstraint("amount IS NULL OR amount >= 0", name="amount_not_negative"),
        CheckConstraint("entry_working_days_late >= 0", name="late_not_negative"),
    )


class EnforcementParty(PartyColumns, Base):
    """A person or enterprise the enforcement decision is against (当事人)."""

    __tablename__ = "enforcement_party"
    party_owner_key = "enforcement_case_id"

    id: Mapped[uuid.UUID] = uuid_pk()
    enforcement_case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enforcement_case.id"))


class EnforcementClueCase(Base):
    """A case a prosecutor opened from the procuratorate's own screening of an enforcement case
    (自行发现的线索): the record it came from, so that screening can be judged by what it led to."""

    __tablename__ = "enforcement_clue_case"

    id: Mapped[uuid.UUID] = uuid_pk()
    enforcement_case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enforcement_case.id"), index=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pil_case.id"), unique=True)
    created_at: Mapped[datetime] = created_at_column()
