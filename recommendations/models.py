"""Pre-litigation recommendations (诉前检察建议), the addressee agency's reply with its staged
rectification plan, later progress reports, and the procuratorate's rectification checks.

Every table carries its own scope: `agency_id` is the addressee agency (who answers and who sees
it, which need not be the agency that referred the clue) and `jurisdiction_id` the case's (whose
prosecutors see it), so `agencies.scoping.visible_to` needs no join to the case."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from geoalchemy2 import Geometry
from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, created_at_column, string_enum, uuid_pk
from core.state_machine import ActorMixin, StatusChangeMixin


class RecommendationStatus(str, enum.Enum):
    ISSUED = "ISSUED"  # 已制发: numbered and signed, its service not yet recorded
    SERVED = "SERVED"  # 已送达: the reply period runs from the served date
    REPLIED = "REPLIED"  # 已回复: the agency answered in writing (which says nothing of rectification)
    CHECKED = "CHECKED"  # 已跟进监督: the procuratorate has checked the rectification at least once


class RecommendationAction(str, enum.Enum):
    ISSUE = "issue"
    SERVE = "serve"
    REPLY = "reply"
    CHECK = "check"


class RectificationResult(str, enum.Enum):
    RECTIFIED = "RECTIFIED"  # 整改到位
    PARTIAL = "PARTIAL"  # 部分整改
    NOT_RECTIFIED = "NOT_RECTIFIED"  # 未整改


class Recommendation(Base):
    __tablename__ = "recommendation"

    id: Mapped[uuid.UUID] = uuid_pk()
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pil_case.id"), index=True)
    jurisdiction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jurisdiction.id"))
    # The addressee (主送机关).
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"))
    status: Mapped[RecommendationStatus] = mapped_column(string_enum(RecommendationStatus, "recommendation_status"))
    # 检察建议书文号, e.g. 卫东检公益建〔2026〕1号.
    number: Mapped[str] = mapped_column(String(60), unique=True)
    # The harm keeps growing: 15 days to reply instead of two months (法释〔2018〕6号 art. 21).
    urgent: Mapped[bool] = mapped_column(Boolean)
    content: Mapped[str] = mapped_column(Text)  # the facts found and the reasoning
    measures: Mapped[str] = mapped_column(Text)  # what the agency is asked to do
    legal_basis: Mapped[str] = mapped_column(Text)
    issued_on: Mapped[date] = mapped_column(Date)  # the date on the document (Beijing)
    issued_at: Mapped[datetime] = created_at_column()  # the list order
    # The date the agency received it (宣告送达), once recorded; it starts the reply period.
    served_on: Mapped[date | None] = mapped_column(Date)
    # Who witnessed the service ([{"name": …, "role": …}]: people's deputies, supervisors, …).
    service_witnesses: Mapped[list[dict] | None] = mapped_column(JSONB)

    __table_args__ = (
        Index("ix_recommendation_issued_at_id", "issued_at", "id"),
        Index("ix_recommendation_jurisdiction_id_issued_at_id", "jurisdiction_id", "issued_at", "id"),
        Index("ix_recommendation_agency_id_issued_at_id", "agency_id", "issued_at", "id"),
    )


class RecommendationStatusChange(StatusChangeMixin, Base):
    """The audit trail of a recommendation: every transition, who made it, when and why."""

    __tablename__ = "recommendation_status_change"
    status_enum = RecommendationStatus
    subject_key = "recommendation_id"

    id: Mapped[uuid.UUID] = uuid_pk()
    recommendation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("recommendation.id"), index=True)


class RecommendationReply(ActorMixin, Base):
    """The addressee agency's written reply (书面回复): one per recommendation. A reply is not a
    rectification: whether the harm was put right is only ever a rectification check's finding."""

    __tablename__ = "recommendation_reply"

    id: Mapped[uuid.UUID] = uuid_pk()
    recommendation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("recommendation.id"), unique=True)
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"))
    jurisdiction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jurisdiction.id"))
    accepted: Mapped[bool] = mapped_column(Boolean)
    reasons: Mapped[str | None] = mapped_column(Text)  # required when not accepted
    measures_taken: Mapped[str] = mapped_column(Text)
    replied_on: Mapped[date] = mapped_column(Date)  # Beijing
    replied_at: Mapped[datetime] = created_at_column()

    __table_args__ = (CheckConstraint("accepted OR reasons IS NOT NULL", name="refusal_has_reasons"),)


class RectificationStage(Base):
    """One stage of the reply's rectification plan (milestone, due date, % complete)."""

    __tablename__ = "rectification_stage"

    id: Mapped[uuid.UUID] = uuid_pk()
    reply_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("recommendation_reply.id"))
    recommendation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("recommendation.id"), index=True)
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"))
    jurisdiction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jurisdiction.id"))
    position: Mapped[int] = mapped_column(Integer)
    milestone: Mapped[str] = mapped_column(String(300))
    due_on: Mapped[date] = mapped_column(Date)
    percent_complete: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        CheckConstraint("percent_complete BETWEEN 0 AND 100", name="percent_range"),
        UniqueConstraint("reply_id", "position"),
    )


class RectificationReport(ActorMixin, Base):
    """A later report of the agency on its rectification: a note, the stages it moved, files."""

    __tablename__ = "rectification_report"

    id: Mapped[uuid.UUID] = uuid_pk()
    recommendation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("recommendation.id"), index=True)
    reply_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("recommendation_reply.id"))
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"))
    jurisdiction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jurisdiction.id"))
    note: Mapped[str | None] = mapped_column(Text)
    # What the report changed, as it was then: [{"stage_id", "milestone", "from_percent", "to_percent"}].
    stage_updates: Mapped[list[dict]] = mapped_column(JSONB)
    reported_at: Mapped[datetime] = created_at_column()


class RectificationCheck(ActorMixin, Base):
    """The procuratorate's check of the rectification, usually on site with geotagged photos; a
    follow-up check months later (回头看) names the check it follows up and carries its open items."""

    __tablename__ = "rectification_check"

    id: Mapped[uuid.UUID] = uuid_pk()
    recommendation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("recommendation.id"), index=True)
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"))
    jurisdiction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jurisdiction.id"))
    result: Mapped[RectificationResult] = mapped_column(string_enum(RectificationResult, "rectification_result"))
    checked_on: Mapped[date] = mapped_column(Date)
    findings: Mapped[str] = mapped_column(Text)
    location = mapped_column(Geometry("GEOMETRY", srid=4326, spatial_index=True), nullable=False)
    # What remains to be done: [{"id", "description", "first_check_id"}]; an item carried forward
    # keeps its id and the check that first found it.
    open_items: Mapped[list[dict]] = mapped_column(JSONB)
    follow_up_of_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("rectification_check.id"))
    recorded_at: Mapped[datetime] = created_at_column()
