"""Public-interest cases (公益诉讼案件) the procuratorate files, and their status history."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, created_at_column, string_enum, uuid_pk
from core.state_machine import StatusChangeMixin


class CaseKind(str, enum.Enum):
    ADMINISTRATIVE = "ADMINISTRATIVE"  # 行政公益诉讼
    CIVIL = "CIVIL"  # 民事公益诉讼
    CRIMINAL_INCIDENTAL_CIVIL = "CRIMINAL_INCIDENTAL_CIVIL"  # 刑事附带民事公益诉讼


class CaseStatus(str, enum.Enum):
    FILED = "FILED"  # 已立案
    CONSULTATION = "CONSULTATION"  # 诉前磋商
    RECOMMENDATION_ISSUED = "RECOMMENDATION_ISSUED"  # 已发出诉前检察建议
    FOLLOW_UP = "FOLLOW_UP"  # 跟进监督 (the reply and the rectification are being checked)
    ANNOUNCED = "ANNOUNCED"  # 公告中 (civil claims: 30 days before suit)
    LITIGATION = "LITIGATION"  # 提起诉讼
    CLOSED = "CLOSED"  # 结案


class CaseAction(str, enum.Enum):
    FILE = "file"
    CONSULT = "consult"
    ISSUE_RECOMMENDATION = "issue_recommendation"
    BEGIN_FOLLOW_UP = "begin_follow_up"
    ANNOUNCE = "announce"
    FILE_LITIGATION = "file_litigation"
    CLOSE = "close"
    REOPEN_FOLLOW_UP = "reopen_follow_up"


class Case(Base):
    # Not "case": a reserved word in SQL, which every raw statement would have to quote.
    __tablename__ = "pil_case"

    id: Mapped[uuid.UUID] = uuid_pk()
    # The jurisdiction of the procuratorate that filed it: who sees it (agencies.scoping).
    jurisdiction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jurisdiction.id"))
    # The referral it was filed from. Cases from the procuratorate's own clues are not built yet.
    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referral.id"), unique=True)
    # The referring agency, copied from the referral so scoping reads the case's own columns; null
    # for a case without a referring agency (its own clue, later).
    agency_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agency.id"))
    kind: Mapped[CaseKind] = mapped_column(string_enum(CaseKind, "case_kind"))
    status: Mapped[CaseStatus] = mapped_column(string_enum(CaseStatus, "case_status"))
    # The filing decision's number (立案决定书文号), e.g. 卫东检公益立〔2026〕1号.
    number: Mapped[str] = mapped_column(String(60), unique=True)
    filed_on: Mapped[date] = mapped_column(Date)  # a Beijing date
    filed_at: Mapped[datetime] = created_at_column()  # the list order
    # When the filing decision was served on the agency (立案决定书送达), once it is known.
    decision_served_on: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (
        Index("ix_pil_case_filed_at_id", "filed_at", "id"),
        Index("ix_pil_case_jurisdiction_id_filed_at_id", "jurisdiction_id", "filed_at", "id"),
        Index("ix_pil_case_agency_id_filed_at_id", "agency_id", "filed_at", "id"),
    )


class CaseStatusChange(StatusChangeMixin, Base):
    """The audit trail of a case: every transition, who made it, when and why."""

    __tablename__ = "case_status_change"
    status_enum = CaseStatus
    subject_key = "case_id"

    id: Mapped[uuid.UUID] = uuid_pk()
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pil_case.id"), index=True)
