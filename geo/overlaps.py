"""What each referral overlaps among the reference layers (red lines, farmland, water sources, …):
the feature, the overlap's area on the ellipsoid and the share of the referral inside it.

Kept in referral_overlap rather than computed on every read: written when a referral is submitted
or resubmitted, and rewritten for a whole layer when the layer is (re)imported, so a list filters
by "overlaps layer X" with an index lookup. PostGIS cuts the pieces (ST_Intersection behind the
GiST `&&`); their areas come from geo.geometry on the WGS84 ellipsoid, like every area we show."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from shapely import wkb
from shapely.geometry.base import BaseGeometry
from sqlalchemy import ColumnElement, bindparam, delete, exists, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from agencies.models import AgencyKind
from agencies.principal import Principal
from agencies.scoping import visible_to
from core.loaders import grouped
from geo.geometry import dimension, extent, share_of
from geo.models import ReferenceFeature, ReferenceLayer, ReferralOverlap
from referral.models import Referral

_FEATURES_UNDER = (
    select(ReferenceFeature.id, ReferenceFeature.layer_id,
           func.ST_AsBinary(func.ST_Intersection(ReferenceFeature.geometry,
                                                 func.ST_GeomFromWKB(bindparam("geometry"), 4326))).label("part"))
    .where(ReferenceFeature.geometry.op("&&")(func.ST_GeomFromWKB(bindparam("geometry"), 4326)),
           func.ST_Intersects(ReferenceFeature.geometry, func.ST_GeomFromWKB(bindparam("geometry"), 4326))))


def _overlap(referral_id: uuid.UUID, referral: BaseGeometry, feature_id: uuid.UUID, layer_id: uuid.UUID,
             part: BaseGeometry) -> dict | None:
    """The overlap row of one referral and one feature, or None when they only touch."""
    share = share_of(part, referral)
    if share <= 0:
        return None
    return {"id": uuid.uuid4(), "referral_id": referral_id, "feature_id": feature_id, "layer_id": layer_id,
            "area_m2": extent(part, 2) if dimension(referral) == 2 else 0.0, "share": share}


async def compute_referral_overlaps(session: AsyncSession, *, referral_id: uuid.UUID, geometry: BaseGeometry) -> int:
    """Write the overlaps of one referral at `geometry` (it has none yet); how many there are."""
    rows = await session.execute(_FEATURES_UNDER, {"geometry": geometry.wkb})
    overlaps = [overlap for row in rows
                if (overlap := _overlap(referral_id, geometry, row.id, row.layer_id, wkb.loads(bytes(row.part))))]
    if overlaps:
        await session.execute(insert(ReferralOverlap), overlaps)
    return len(overlaps)


async def compute_layer_overlaps(session: AsyncSession, *, layer_id: uuid.UUID) -> int:
    """(Re)write every referral's overlaps with the features of one layer, after its import; how
    many referrals overlap it. Rows are streamed: a layer may lie over many referrals."""
    await session.execute(delete(ReferralOverlap).where(ReferralOverlap.layer_id == layer_id))
    query = (select(Referral.id.label("referral_id"), func.ST_AsBinary(Referral.geometry).label("referral"),
                    ReferenceFeature.id.label("feature_id"),
                    func.ST_AsBinary(func.ST_Intersection(ReferenceFeature.geometry, Referral.geometry)).label("part"))
             .join(Referral, Referral.geometry.op("&&")(ReferenceFeature.geometry))
             .where(ReferenceFeature.layer_id == layer_id,
                    func.ST_Intersects(Referral.geometry, ReferenceFeature.geometry))
             .order_by(Referral.id))
    shapes: dict[uuid.UUID, BaseGeometry] = {}
    batch: list[dict] = []
    for row in await session.execute(query):
        referral = shapes.setdefault(row.referral_id, wkb.loads(bytes(row.referral)))
        overlap = _overlap(row.referral_id, referral, row.feature_id, layer_id, wkb.loads(bytes(row.part)))
        if overlap:
            batch.append(overlap)
        if len(batch) >= 1000:
            await session.execute(insert(ReferralOverlap), batch)
            batch = []
    if batch:
        await session.execute(insert(ReferralOverlap), batch)
    return len(shapes)


def overlaps_layer_condition(layer_code: str) -> ColumnElement[bool]:
    """A referral list's "overlaps the layer with this code" (an unknown code matches nothing)."""
    return exists(select(ReferralOverlap.id).join(ReferenceLayer, ReferenceLayer.id == ReferralOverlap.layer_id)
                  .where(ReferralOverlap.referral_id == Referral.id, ReferenceLayer.code == layer_code))


@dataclass(frozen=True)
class OverlapView:
    referral_id: uuid.UUID
    layer: ReferenceLayer
    feature_name: str
    area_m2: float
    share: float


async def overlaps_of(session: AsyncSession, *, principal: Principal,
                      referral_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[OverlapView]]:
    """The overlaps of the referrals among `referral_ids` the principal may see, largest share first."""
    rows = await session.execute(
        select(ReferralOverlap.referral_id, ReferralOverlap.area_m2, ReferralOverlap.share,
               ReferenceFeature.name, ReferenceLayer)
        .join(ReferenceFeature, ReferenceFeature.id == ReferralOverlap.feature_id)
        .join(ReferenceLayer, ReferenceLayer.id == ReferralOverlap.layer_id)
        .join(Referral, Referral.id == ReferralOverlap.referral_id)
        .where(ReferralOverlap.referral_id.in_(referral_ids),
               visible_to(principal, agency_column=Referral.agency_id, jurisdiction_column=Referral.jurisdiction_id))
        .order_by(ReferralOverlap.referral_id, ReferralOverlap.share.desc(), ReferenceLayer.code, ReferenceFeature.name))
    views = [OverlapView(referral_id=row.referral_id, layer=row.ReferenceLayer, feature_name=row.name,
                         area_m2=row.area_m2, share=row.share) for row in rows]
    return grouped(views, referral_ids, key=lambda view: view.referral_id)


@dataclass(frozen=True)
class LayerShare:
    """How much of a referral lies in one layer that names a responsible agency kind."""

    layer: ReferenceLayer
    agency_kind: AgencyKind
    share: float
    feature_name: str  # the feature holding most of it


def responsible_layers(overlaps: list[OverlapView]) -> list[LayerShare]:
    """The layers of `overlaps` (one referral's) that name an agency kind, the largest share first;
    a layer's share sums its features' (capped at the whole referral)."""
    by_layer: dict[str, list[OverlapView]] = {}
    for overlap in overlaps:
        if overlap.layer.responsible_agency_kind is not None:
            by_layer.setdefault(overlap.layer.code, []).append(overlap)
    shares = [LayerShare(layer=views[0].layer, agency_kind=views[0].layer.responsible_agency_kind,
                         share=min(sum(view.share for view in views), 1.0),
                         feature_name=max(views, key=lambda view: view.share).feature_name)
              for views in by_layer.values()]
    return sorted(shares, key=lambda share: (-share.share, share.layer.code))
