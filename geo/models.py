"""Reference layers: maps of law (ecological red lines, permanent farmland, protected water sources,
nature reserves, mining-rights parcels) that referrals are read against. Public to every signed-in
role: they are published designations, not case data.

And what geo knows of each referral's place: where it lies among the districts, what it overlaps
in the layers, and who was decided to answer for the harm (scoped through the referral)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
    Uuid,
    false,
    text,
)
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


class TileChange(Base):
    """Where a table tiles are drawn from changed: appended by statement triggers (migration 0025)
    in the changing transaction, whichever process or tool made the change. `xid` is that
    transaction's id, so a cached tile (which keeps the snapshot it was drawn in) is stale exactly
    when a change its snapshot could not see lies over it (geo.tiles). `bbox` None: anywhere."""

    __tablename__ = "tile_change"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    source: Mapped[str] = mapped_column(String(63))  # the table's name
    xid: Mapped[int] = mapped_column(BigInteger, server_default=text("(pg_current_xact_id())::text::bigint"),
                                     index=True)
    bbox = mapped_column(Geometry(srid=4326, spatial_index=False), nullable=True)


class ReferralGridCount(Base):
    """How many referrals have their point (ST_PointOnSurface, in EPSG:3857) in one cell of the
    web-mercator grid of `level` (2^level cells a side; a tile of zoom z is drawn from level z + 5,
    32 cells a side), per owning agency and jurisdiction so that a count is scoped like the rows
    it counts, with the sums of the points' coordinates to draw the cell at their centroid.

    Append-only: statement triggers on referral (migration 0025) add a row of +n (insert) or −n
    (delete, and the old side of an update that moves a referral or changes its owner) for each
    cell a statement touches, so writers never wait on one another's counters; a cell's count is
    the sum of its rows, and `python -m app.manage compact-tile-data` folds them together."""

    __tablename__ = "referral_grid_count"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    level: Mapped[int] = mapped_column(SmallInteger)
    cell_x: Mapped[int] = mapped_column(Integer)
    cell_y: Mapped[int] = mapped_column(Integer)
    agency_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    jurisdiction_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    referrals: Mapped[int] = mapped_column(Integer)
    sum_x: Mapped[float] = mapped_column(Float)
    sum_y: Mapped[float] = mapped_column(Float)

    __table_args__ = (Index("ix_referral_grid_count_level_cell_x_cell_y", "level", "cell_x", "cell_y"),)


class ReferralPlacement(Base):
    """Where a referral lies among the districts, as found when it was submitted or resubmitted
    (geo.placement): whether the agency declared it outside its own jurisdiction, and the districts
    it spans with the share of it in each, largest first (empty when it lies in one)."""

    __tablename__ = "referral_placement"

    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referral.id", ondelete="CASCADE"), primary_key=True)
    cross_boundary: Mapped[bool] = mapped_column(Boolean, server_default=false())
    spanned_jurisdiction_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid), server_default="{}")
    spanned_shares: Mapped[list[float]] = mapped_column(ARRAY(Float), server_default="{}")
    placed_at: Mapped[datetime] = created_at_column()

    __table_args__ = (CheckConstraint("cardinality(spanned_jurisdiction_ids) = cardinality(spanned_shares)",
                                      name="one_share_per_district"),)


class ReferralOverlap(Base):
    """A reference feature a referral lies on, with the part of the referral inside it: computed
    when the referral is submitted or resubmitted and again whenever the feature's layer is
    (re)imported (geo.overlaps). Scoped through its referral."""

    __tablename__ = "referral_overlap"

    id: Mapped[uuid.UUID] = uuid_pk()
    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referral.id", ondelete="CASCADE"))
    feature_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("reference_feature.id", ondelete="CASCADE"), index=True)
    # The feature's layer again, so "overlaps layer X" is one index lookup.
    layer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("reference_layer.id", ondelete="CASCADE"))
    # Of the overlap, on the WGS84 ellipsoid (0 for a point or line referral).
    area_m2: Mapped[float] = mapped_column(Float)
    # The part of the referral inside the feature: by area for polygons, length for lines, points
    # for points; 0 < share <= 1.
    share: Mapped[float] = mapped_column(Float)

    __table_args__ = (
        UniqueConstraint("referral_id", "feature_id"),
        Index("ix_referral_overlap_layer_id_referral_id", "layer_id", "referral_id"),
        CheckConstraint("share > 0 AND share <= 1", name="share_is_a_fraction"),
        CheckConstraint("area_m2 >= 0", name="area_not_negative"),
    )


class ResponsibilityDecision(Base):
    """A prosecutor's decision on which agency is answerable for the harm a referral reports
    (recorded, never overwritten: the latest one stands)."""

    __tablename__ = "responsibility_decision"

    id: Mapped[uuid.UUID] = uuid_pk()
    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referral.id", ondelete="CASCADE"))
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"))
    # What the overlaps proposed at the time (None: no proposal), so a change is visible as one.
    proposed_agency_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agency.id"))
    decided_by_user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))
    decided_by_name: Mapped[str] = mapped_column(String(100))
    decided_at: Mapped[datetime] = created_at_column()

    __table_args__ = (Index("ix_responsibility_decision_referral_id_decided_at", "referral_id", "decided_at"),)
