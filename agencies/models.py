"""Jurisdictions, procuratorates, agencies, accounts and API keys."""

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
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Uuid,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, created_at_column, string_enum, uuid_pk


class Role(str, enum.Enum):
    AGENCY_LIAISON = "AGENCY_LIAISON"
    PROSECUTOR = "PROSECUTOR"
    ASSESSOR = "ASSESSOR"
    ADMIN = "ADMIN"


class JurisdictionLevel(str, enum.Enum):
    PROVINCE = "PROVINCE"
    CITY = "CITY"
    DISTRICT = "DISTRICT"


class AgencyKind(str, enum.Enum):
    NATURAL_RESOURCES = "NATURAL_RESOURCES"  # 自然资源（含地质矿产）
    ECOLOGY_ENVIRONMENT = "ECOLOGY_ENVIRONMENT"  # 生态环境
    MARKET_REGULATION = "MARKET_REGULATION"  # 市场监督管理
    FINANCE = "FINANCE"  # 财政
    HOUSING_URBAN_RURAL = "HOUSING_URBAN_RURAL"  # 住房和城乡建设
    AGRICULTURE_RURAL = "AGRICULTURE_RURAL"  # 农业农村
    WATER_RESOURCES = "WATER_RESOURCES"  # 水利
    EMERGENCY_MANAGEMENT = "EMERGENCY_MANAGEMENT"  # 应急管理
    FORESTRY = "FORESTRY"  # 林业
    PUBLIC_SECURITY = "PUBLIC_SECURITY"  # 公安
    OTHER = "OTHER"


class Jurisdiction(Base):
    __tablename__ = "jurisdiction"

    id: Mapped[uuid.UUID] = uuid_pk()
    code: Mapped[str] = mapped_column(String(6), unique=True)  # GB/T 2260
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[JurisdictionLevel] = mapped_column(string_enum(JurisdictionLevel, "jurisdiction_level"))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("jurisdiction.id"), index=True)
    boundary = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=True), nullable=False)
    created_at: Mapped[datetime] = created_at_column()

    procuratorate: Mapped[Procuratorate | None] = relationship(back_populates="jurisdiction",
                                                                lazy="raise")

    __table_args__ = (CheckConstraint("code ~ '^[1-9][0-9]{5}$'", name="code_format"),)


class Procuratorate(Base):
    __tablename__ = "procuratorate"

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(String(100))
    jurisdiction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jurisdiction.id"), unique=True)
    # 机关代字: what its document numbers start with (卫东检 → 卫东检公益线〔2026〕3号). Unique, or two
    # procuratorates would issue the same numbers.
    document_code: Mapped[str] = mapped_column(String(20), unique=True)
    created_at: Mapped[datetime] = created_at_column()

    jurisdiction: Mapped[Jurisdiction] = relationship(back_populates="procuratorate", lazy="raise")


class Agency(Base):
    __tablename__ = "agency"

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[AgencyKind] = mapped_column(string_enum(AgencyKind, "agency_kind"))
    uscc: Mapped[str] = mapped_column(String(18), unique=True)  # 统一社会信用代码
    jurisdiction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jurisdiction.id"), index=True)
    created_at: Mapped[datetime] = created_at_column()


class UserAccount(Base):
    __tablename__ = "user_account"

    id: Mapped[uuid.UUID] = uuid_pk()
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(string_enum(Role, "role"))
    agency_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agency.id"), index=True)
    procuratorate_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("procuratorate.id"))
    jurisdiction_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("jurisdiction.id"))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Every login token carries the version current when it was issued; changing the password or
    # disabling the account moves it on, so all earlier tokens fail (a timestamp cannot tell apart
    # tokens of the same second, and re-enabling would bring them back).
    token_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        # Each role is bound to exactly what it acts for, so a principal is never ambiguous.
        CheckConstraint(
            "(role = 'AGENCY_LIAISON' AND agency_id IS NOT NULL AND procuratorate_id IS NULL"
            "  AND jurisdiction_id IS NULL)"
            " OR (role = 'PROSECUTOR' AND procuratorate_id IS NOT NULL AND agency_id IS NULL"
            "  AND jurisdiction_id IS NULL)"
            " OR (role = 'ASSESSOR' AND jurisdiction_id IS NOT NULL AND agency_id IS NULL"
            "  AND procuratorate_id IS NULL)"
            " OR (role = 'ADMIN' AND agency_id IS NULL AND procuratorate_id IS NULL"
            "  AND jurisdiction_id IS NULL)",
            name="role_binding",
        ),
    )


class ApiKey(Base):
    """A key an agency's own system uses to submit referrals. Only a hash of the secret is kept."""

    __tablename__ = "api_key"

    id: Mapped[uuid.UUID] = uuid_pk()
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_by_user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = created_at_column()
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class FailedLogin(Base):
    """A wrong password, kept for the throttle window only, in the database so that every worker
    process counts the same failures."""

    __tablename__ = "failed_login"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    source: Mapped[str] = mapped_column(String(64))  # the client address
    username: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        Index("ix_failed_login_source_at", "source", "at"),  # the throttle's one query
        Index("ix_failed_login_at", "at"),  # sweeping expired rows
    )
