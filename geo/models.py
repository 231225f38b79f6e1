"""Reference layers: maps of law (ecological red lines, permanent farmland, protected water sources,
nature reserves, mining-rights parcels) that referrals are read against. Public to every signed-in
role: they are published designations, not case data."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from agencies.models import AgencyKind
from core.db import Base, created_at_column, string_enum, uuid_pk


class ReferenceLayerKind(str, enum.Enum):
    ECOLOGICAL_RED_LINE = "ECOLOGICAL_RED_LINE"  # 生态保护红线
    PERMANENT_FARMLAND = "PERMANENT_FARMLAND"  # 永久基本农田
    DRINKING_WATER_SOURCE = "DRINKING_WATER_SOURCE"  # 饮用水水源保护区
    NATURE_RESERVE = "NATURE_RESERVE"  # 自然保护区
    MINING_RIGHTS = "MINING_RIGHTS"  # 矿业权


class ReferenceLayer(Base):
    __tablename__ = "reference_layer"

    id: Mapped[uuid.UUID] = uuid_pk()
    # Chosen by the operator and stable across re-imports (e.g. "410403-farmland-2026").
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[ReferenceLayerKind] = mapped_column(string_enum(ReferenceLayerKind, "reference_layer_kind"))
    # The kind of agency answerable for what lies in the layer (farmland → agriculture), when the
    # law names one.
    responsible_agency_kind: Mapped[AgencyKind | None] = mapped_column(
        string_enum(AgencyKind, "responsible_agency_kind"))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = created_at_column()

    __table_args__ = (CheckConstraint("code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]*$'", name="code_format"),)


class ReferenceFeature(Base):
    __tablename__ = "reference_feature"

    id: Mapped[uuid.UUID] = uuid_pk()
    layer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("reference_layer.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    geometry = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=True), nullable=False)


class TileSourceVersion(Base):
    """A version for each table tiles are drawn from, moved on (to a fresh value of one sequence)
    by a trigger in every transaction that changes the table, at its commit. Read in the same
    snapshot as a tile, it says whether a cached tile still shows what the database holds,
    whichever process or tool changed the rows (migration 0015 has the triggers)."""

    __tablename__ = "tile_source_version"

    source: Mapped[str] = mapped_column(String(63), primary_key=True)  # the table's name
    version: Mapped[int] = mapped_column(BigInteger)
