"""Public-interest cases (公益诉讼案件) the procuratorate files, their parties, consultation
meetings, hearings, internal notes and status history."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from geoalchemy2 import Geometry
from sqlalchemy import Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, created_at_column, string_enum, uuid_pk
from core.state_machine import ActorMixin, StatusChangeMixin
from parties.models import PartyColumns


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


class CaseOutcome(str, enum.Enum):
    """How a case ended (cases.service.OUTCOME_SOURCES says from which status each may be recorded)."""

    DUTY_PERFORMED = "DUTY_PERFORMED"  # 行政机关已全面履职 (办案规则 art. 74), often after consultation
    RECTIFIED = "RECTIFIED"  # 检察建议整改到位
    JUDGMENT = "JUDGMENT"  # 判决
    MEDIATION = "MEDIATION"  # 调解
    SUIT_WITHDRAWN = "SUIT_WITHDRAWN"  # 撤回起诉 (the agency performed its duty during the suit)
    SUED_BY_ORGANISATION = "SUED_BY_ORGANISATION"  # 公告期内有适格主体起诉
    TERMINATED = "TERMINATED"  # 终结审查 (e.g. the harm did not exist, the offender died)


class AnnouncementOutcome(str, enum.Enum):
    ORGANISATION_CAME_FORWARD = "ORGANISATION_CAME_FORWARD"  # 法律规定的机关或有关组织提起诉讼
    NO_ORGANISATION = "NO_ORGANISATION"  # 公告期满无适格主体起诉


class HearingTopic(str, enum.Enum):
    HARM = "HARM"  # whether (and how much) the public interest is harmed
    RESPONSIBILITY = "RESPONSIBILITY"  # which agency is responsible
    RECTIFICATION = "RECTIFICATION"  # whether rectification worked
    OTHER = "OTHER"


class HearingParticipantRole(str, enum.Enum):
    PEOPLES_SUPERVISOR = "PEOPLES_SUPERVISOR"  # 人民监督员
    PEOPLES_DEPUTY = "PEOPLES_DEPUTY"  # 人大代表
    EXPERT = "EXPERT"
    AGENCY_REPRESENTATIVE = "AGENCY_REPRESENTATIVE"
    OTHER = "OTHER"


class ConsultationParticipantRole(str, enum.Enum):
    PROSECUTOR = "PROSECUTOR"
    AGENCY_REPRESENTATIVE = "AGENCY_REPRESENTATIVE"
    EXPERT = "EXPERT"
    OTHER = "OTHER"


class Case(Base):
    # Not "case": a reserved word in SQL, which every raw statement would have to quote.
    __tablename__ = "pil_case"

    id: Mapped[uuid.UUID] = uuid_pk()
    # The jurisdiction of the procuratorate that filed it: who sees it (agencies.scoping).
    jurisdiction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jurisdiction.id"))
    # The referral it was filed from; null for a case from the procuratorate's own clue.
    referral_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("referral.id"), unique=True)
    # The referring agency, copied from the referral so scoping reads the case's own columns; null
    # for a case from the procuratorate's own clue (no agency sees it).
    agency_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agency.id"))
    # What the case is about, copied from the referral on filing (or entered for an own clue), so
    # that a case reads the same whatever its origin and lists filter by domain without a join.
    title: Mapped[str] = mapped_column(String(200))
    domain_code: Mapped[str] = mapped_column(ForeignKey("referral_domain.code"))
    facts: Mapped[str] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(String(300))
    geometry = mapped_column(Geometry("GEOMETRY", srid=4326, spatial_index=True), nullable=False)
    harms_state_interests: Mapped[bool] = mapped_column(Boolean, server_default=false())
    harms_public_interest: Mapped[bool] = mapped_column(Boolean, server_default=false())
    kind: Mapped[CaseKind] = mapped_column(string_enum(CaseKind, "case_kind"))
    status: Mapped[CaseStatus] = mapped_column(string_enum(CaseStatus, "case_status"))
    # The filing decision's number (立案决定书文号), e.g. 卫东检公益立〔2026〕1号.
    number: Mapped[str] = mapped_column(String(60), unique=True)
    # The number's year and serial, for sorting by number (its text sorts 10号 before 2号).
    number_year: Mapped[int] = mapped_column(Integer)
    number_serial: Mapped[int] = mapped_column(Integer)
    filed_on: Mapped[date] = mapped_column(Date)  # a Beijing date
    filed_at: Mapped[datetime] = created_at_column()  # the list order
    # When the filing decision was served on the agency (立案决定书送达), once it is known.
    decision_served_on: Mapped[date | None] = mapped_column(Date)

    # Pre-litigation consultation (诉前磋商): with which agency (not always the referring one),
    # since when. Its meetings are ConsultationMeeting rows.
    consulted_agency_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agency.id"))
    consultation_started_on: Mapped[date | None] = mapped_column(Date)

    # The announcement (公告) of a civil claim and its outcome; its period is a deadline
    # (deadlines package, rule CIVIL_ANNOUNCEMENT) opened when it is published.
    announcement_published_on: Mapped[date | None] = mapped_column(Date)
    announcement_medium: Mapped[str | None] = mapped_column(String(200))
    announcement_outcome: Mapped[AnnouncementOutcome | None] = mapped_column(
        string_enum(AnnouncementOutcome, "announcement_outcome"))
    announcement_organisation: Mapped[str | None] = mapped_column(String(200))
    announcement_outcome_on: Mapped[date | None] = mapped_column(Date)

    # The suit (提起诉讼).
    litigation_court: Mapped[str | None] = mapped_column(String(200))
    litigation_filed_on: Mapped[date | None] = mapped_column(Date)
    litigation_claims: Mapped[str | None] = mapped_column(Text)

    # How it ended; with a judgment, mediation or withdrawal, the court's document.
    outcome: Mapped[CaseOutcome | None] = mapped_column(string_enum(CaseOutcome, "case_outcome"))
    outcome_summary: Mapped[str | None] = mapped_column(Text)
    closed_on: Mapped[date | None] = mapped_column(Date)
    judgment_court: Mapped[str | None] = mapped_column(String(200))
    judgment_document_number: Mapped[str | None] = mapped_column(String(100))
    judgment_on: Mapped[date | None] = mapped_column(Date)

    # Lists read newest (or oldest) first within a scope, or by number: each index ends with a
    # list order (see referral.models.Referral for why).
    __table_args__ = (
        Index("ix_pil_case_filed_at_id", "filed_at", "id"),
        Index("ix_pil_case_jurisdiction_id_filed_at_id", "jurisdiction_id", "filed_at", "id"),
        Index("ix_pil_case_agency_id_filed_at_id", "agency_id", "filed_at", "id"),
        Index("ix_pil_case_number_year_number_serial_id", "number_year", "number_serial", "id"),
        CheckConstraint("harms_state_interests OR harms_public_interest", name="names_a_harm"),
    )


class CaseParty(PartyColumns, Base):
    """A person or enterprise the case is against: copied from the referral on filing (the case
    file keeps them as filed), or entered with a case from the procuratorate's own clue."""

    __tablename__ = "case_party"
    party_owner_key = "case_id"

    id: Mapped[uuid.UUID] = uuid_pk()
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pil_case.id"))


class CaseNote(ActorMixin, Base):
    """A prosecutor's internal note on a case: never shown outside the procuratorate."""

    __tablename__ = "case_note"

    id: Mapped[uuid.UUID] = uuid_pk()
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pil_case.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()


class ConsultationMeeting(ActorMixin, Base):
    """One meeting of a pre-litigation consultation (磋商会): who took part, where, what facts the
    procuratorate and the agency agreed on."""

    __tablename__ = "consultation_meeting"

    id: Mapped[uuid.UUID] = uuid_pk()
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pil_case.id"), index=True)
    held_on: Mapped[date] = mapped_column(Date)
    place: Mapped[str] = mapped_column(String(200))
    # [{"name": …, "role": ConsultationParticipantRole}], checked by the service: read and
    # written only whole, with the meeting.
    participants: Mapped[list] = mapped_column(JSONB)
    agreed_facts: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()


class Hearing(ActorMixin, Base):
    """A hearing (听证) on a case: public unless decided otherwise, with its participants and,
    once held, its conclusion."""

    __tablename__ = "hearing"

    id: Mapped[uuid.UUID] = uuid_pk()
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pil_case.id"), index=True)
    # Copied from the case so scoping reads the hearing's own columns (agencies.scoping).
    agency_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agency.id"))
    jurisdiction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jurisdiction.id"))
    topic: Mapped[HearingTopic] = mapped_column(string_enum(HearingTopic, "hearing_topic"))
    # A hearing on whether one recommendation's rectification worked names it; null for the case.
    recommendation_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("recommendation.id"))
    scheduled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    place: Mapped[str] = mapped_column(String(200))
    public: Mapped[bool] = mapped_column(Boolean)
    # [{"name": …, "role": HearingParticipantRole}], as for consultation meetings.
    participants: Mapped[list] = mapped_column(JSONB)
    held_on: Mapped[date | None] = mapped_column(Date)
    conclusion: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()


class CaseStatusChange(StatusChangeMixin, Base):
    """The audit trail of a case: every transition, who made it, when and why."""

    __tablename__ = "case_status_change"
    status_enum = CaseStatus
    subject_key = "case_id"

    id: Mapped[uuid.UUID] = uuid_pk()
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pil_case.id"), index=True)
