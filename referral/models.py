"""Referred clues (线索), the domains they fall under, and their status history."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from geoalchemy2 import Geometry
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, created_at_column, string_enum, uuid_pk
from core.state_machine import StatusChangeMixin
from parties.models import PartyColumns
from referral.enums import ReferralStatus


class Harm(str, enum.Enum):
    """What the unlawful act harms (国家利益 / 社会公共利益): one or both."""

    STATE_INTERESTS = "STATE_INTERESTS"
    PUBLIC_INTEREST = "PUBLIC_INTEREST"


def harms_of(referral) -> list[Harm]:
    """The harms of a referral, from its ORM object or a plain row of its columns (lists read rows)."""
    return [harm for harm, flag in ((Harm.STATE_INTERESTS, referral.harms_state_interests),
                                    (Harm.PUBLIC_INTEREST, referral.harms_public_interest)) if flag]


class ReferralDomain(Base):
    """A field of public-interest litigation (生态环境和资源保护, 食品药品安全, …).

    Data, not code: laws keep adding domains, and an administrator adds a row."""

    __tablename__ = "referral_domain"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class Referral(Base):
    __tablename__ = "referral"

    id: Mapped[uuid.UUID] = uuid_pk()
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"))
    # The agency's jurisdiction at submission: whose procuratorate receives the clue.
    jurisdiction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jurisdiction.id"))
    domain_code: Mapped[str] = mapped_column(ForeignKey("referral_domain.code"))
    title: Mapped[str] = mapped_column(String(200))
    facts: Mapped[str] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(String(300))
    geometry = mapped_column(Geometry("GEOMETRY", srid=4326, spatial_index=True), nullable=False)
    found_on: Mapped[date | None] = mapped_column(Date)
    special_investigation: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[ReferralStatus] = mapped_column(string_enum(ReferralStatus, "referral_status"))
    submitted_by_user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("user_account.id"))
    submitted_by_api_key_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("api_key.id"))
    submitted_at: Mapped[datetime] = created_at_column()
    idempotency_key: Mapped[str | None] = mapped_column(String(100))
    # Hash of what was submitted under the idempotency key: a retry must be the same submission.
    submission_fingerprint: Mapped[str] = mapped_column(String(64))
    # The registration number (文号) the receiving procuratorate gives it, e.g. 卫东检公益线〔2026〕3号.
    number: Mapped[str | None] = mapped_column(String(60), unique=True)
    # Two flags rather than an array: each harm is a yes/no fact, filters and the rule "at
    # least one" are plain column expressions.
    harms_state_interests: Mapped[bool] = mapped_column(Boolean, server_default=false())
    harms_public_interest: Mapped[bool] = mapped_column(Boolean, server_default=false())
    legal_basis: Mapped[str | None] = mapped_column(Text)
    urgent: Mapped[bool] = mapped_column(Boolean, server_default=false())
    # Raised by every transition and every edit: an edit names the version it was based on, and
    # one based on an older version is refused (CONFLICT) instead of overwriting newer changes.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    # The agency's own enforcement case the clue came from (enforcement package), when it did.
    enforcement_case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("enforcement_case.id"), index=True)

    @property
    def harms(self) -> list[Harm]:
        return harms_of(self)

    # Lists are read newest first, (submitted_at, id) descending, within a scope (one agency, or
    # the jurisdictions a procuratorate sees) and often one status: each index ends with the list
    # order, so a page is a short backward index scan instead of a scan and sort of every match.
    # They also serve plain lookups by their first column. A domain filter has no index of its
    # own: a domain is a large share of the rows, so walking the order index finds a page soon.
    __table_args__ = (
        UniqueConstraint("agency_id", "idempotency_key"),
        Index("ix_referral_submitted_at_id", "submitted_at", "id"),
        Index("ix_referral_agency_id_submitted_at_id", "agency_id", "submitted_at", "id"),
        Index("ix_referral_jurisdiction_id_submitted_at_id", "jurisdiction_id", "submitted_at", "id"),
        Index("ix_referral_status_submitted_at_id", "status", "submitted_at", "id"),
        CheckConstraint("harms_state_interests OR harms_public_interest", name="names_a_harm"),
    )


class ReferralParty(PartyColumns, Base):
    """A person or enterprise the referral is against (当事人)."""

    __tablename__ = "referral_party"
    party_owner_key = "referral_id"

    id: Mapped[uuid.UUID] = uuid_pk()
    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referral.id"))


class ReferralStatusChange(StatusChangeMixin, Base):
    """The audit trail of a referral: every transition, who made it, when and why."""

    __tablename__ = "referral_status_change"
    status_enum = ReferralStatus
    subject_key = "referral_id"

    id: Mapped[uuid.UUID] = uuid_pk()
    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referral.id"), index=True)
