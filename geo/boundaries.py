"""Checks on a jurisdiction's boundary before it is stored: it lies within its parent's, and it
overlaps no sibling. Both allow for BOUNDARY_TOLERANCE_METERS, since boundaries drawn from
different surveys disagree by a few metres along a shared border; beyond that, the referral
placement (geo.placement) would be ambiguous, so the boundary is refused with the area at stake."""

from __future__ import annotations

import uuid

from geoalchemy2 import Geography, Geometry
from shapely import wkb
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Uuid, bindparam, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from agencies.models import Jurisdiction
from core.errors import ValidationFailed
from geo.geometry import extent, square_meters_to_mu

BOUNDARY_TOLERANCE_METERS = 50.0

_NEW = func.ST_GeomFromWKB(bindparam("boundary"), 4326)


def _widened(column, meters: float):
    """`column` grown (or, for a negative distance, shrunk) by `meters` on the ground."""
    return cast(func.ST_Buffer(cast(column, Geography), meters), Geometry)


_OUTSIDE_PARENT = (select(func.ST_CoveredBy(_NEW, _widened(Jurisdiction.boundary, BOUNDARY_TOLERANCE_METERS))
                          .label("within"),
                          func.ST_AsBinary(func.ST_Difference(_NEW, Jurisdiction.boundary)).label("outside"))
                   .where(Jurisdiction.id == bindparam("parent_id", type_=Uuid)))
_SIBLING_OVERLAPS = (select(Jurisdiction.code, Jurisdiction.name,
                            func.ST_AsBinary(func.ST_Intersection(Jurisdiction.boundary, _NEW)).label("overlap"))
                     .where(Jurisdiction.parent_id.is_not_distinct_from(bindparam("parent_id", type_=Uuid)),
                            Jurisdiction.id.is_distinct_from(bindparam("excluding_id", type_=Uuid)),
                            Jurisdiction.boundary.op("&&")(_NEW),
                            func.ST_Intersects(_widened(Jurisdiction.boundary, -BOUNDARY_TOLERANCE_METERS), _NEW))
                     .order_by(Jurisdiction.code))


def _area(square_meters: float) -> str:
    return f"{square_meters_to_mu(square_meters):.1f} 亩 / mu ({square_meters:.0f} m²)"


async def check_boundary(session: AsyncSession, *, boundary: BaseGeometry, parent_id: uuid.UUID | None,
                         excluding_id: uuid.UUID | None = None) -> None:
    """VALIDATION (field `boundary`) unless `boundary` lies within the parent's and overlaps no
    sibling under `parent_id` (other than `excluding_id`, the jurisdiction being redrawn)."""
    parameters = {"boundary": boundary.wkb, "parent_id": parent_id, "excluding_id": excluding_id}
    if parent_id is not None:
        within, outside = (await session.execute(_OUTSIDE_PARENT, parameters)).one()
        if not within:
            square_meters = extent(wkb.loads(bytes(outside)), 2)
            raise ValidationFailed(
                f"边界超出上级行政区划 {_area(square_meters)}（容差{BOUNDARY_TOLERANCE_METERS:.0f}米） / the boundary "
                f"reaches beyond its parent's by {_area(square_meters)} (tolerance "
                f"{BOUNDARY_TOLERANCE_METERS:.0f} m)", field="boundary",
                outsideAreaMu=square_meters_to_mu(square_meters), outsideAreaSquareMeters=square_meters)
    for code, name, overlap in await session.execute(_SIBLING_OVERLAPS, parameters):
        square_meters = extent(wkb.loads(bytes(overlap)), 2)
        raise ValidationFailed(
            f"边界与{name}（{code}）重叠 {_area(square_meters)} / the boundary overlaps {name} ({code}) by "
            f"{_area(square_meters)}", field="boundary", overlappingJurisdictionCode=code,
            overlapAreaMu=square_meters_to_mu(square_meters), overlapAreaSquareMeters=square_meters)
