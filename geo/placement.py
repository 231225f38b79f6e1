"""Where a referral lies decides where it goes: its receiving jurisdiction comes from its geometry
and the district boundaries, not from the agency alone.

A referral goes to the district holding most of it (by area for polygons, length for lines,
points for points); a part in a city but in none of its districts counts for the city. That district must lie within the referring agency's jurisdiction (its own
district, or any district of its city for a city-level agency), unless the agency marks the
referral cross-boundary; a referral lying in no district on the platform has nobody to receive it
and is refused either way. One spanning several districts is flagged with each district's share."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from shapely import wkb
from shapely.geometry.base import BaseGeometry
from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from agencies.models import Agency, Jurisdiction
from agencies.principal import Principal
from agencies.scoping import visible_to
from core.errors import ValidationFailed
from evidence.models import Evidence, EvidenceOwnerKind
from geo.geometry import share_of
from geo.models import ReferralOverlap, ReferralPlacement
from geo.overlaps import compute_referral_overlaps
from referral.models import Referral

# A part of a referral smaller than this share of it does not make it "span" a district: a polygon
# drawn along a border crosses it by a few square metres without being in two places.
MIN_SPAN_SHARE = 0.001


@dataclass(frozen=True)
class DistrictShare:
    jurisdiction_id: uuid.UUID
    code: str
    name: str
    share: float
    within_agency: bool  # inside the referring agency's jurisdiction


@dataclass(frozen=True)
class Placement:
    jurisdiction_id: uuid.UUID
    # True when the referral lies outside the referring agency's jurisdiction (so it was declared).
    cross_boundary: bool
    # The districts it spans, largest share first; empty when it lies in one.
    spans: tuple[DistrictShare, ...]


def _jurisdictions_under() -> object:
    """The jurisdictions the geometry touches, each with the piece of the geometry inside it and
    whether it lies within the agency's jurisdiction."""
    agency_subtree = select(Jurisdiction.id).where(
        Jurisdiction.id == bindparam("agency_jurisdiction_id")).cte("agency_subtree", recursive=True)
    child = aliased(Jurisdiction)
    agency_subtree = agency_subtree.union_all(
        select(child.id).where(child.parent_id == agency_subtree.c.id))
    geometry = func.ST_GeomFromWKB(bindparam("geometry"), 4326)
    return (select(Jurisdiction.id, Jurisdiction.parent_id, Jurisdiction.code, Jurisdiction.name,
                   Jurisdiction.id.in_(select(agency_subtree.c.id)).label("within_agency"),
                   func.ST_AsBinary(func.ST_Intersection(Jurisdiction.boundary, geometry)).label("part"))
            .where(Jurisdiction.boundary.op("&&")(geometry), func.ST_Intersects(Jurisdiction.boundary, geometry)))


_JURISDICTIONS_UNDER = _jurisdictions_under()


async def district_shares(session: AsyncSession, *, geometry: BaseGeometry,
                          agency_jurisdiction_id: uuid.UUID) -> list[DistrictShare]:
    """The jurisdictions `geometry` lies in, each with the share of it in no jurisdiction below
    (a district's whole share; a city's part outside all its districts), largest share first
    (ties: the agency's own first); shares below MIN_SPAN_SHARE are left out."""
    rows = (await session.execute(_JURISDICTIONS_UNDER, {"agency_jurisdiction_id": agency_jurisdiction_id,
                                                         "geometry": geometry.wkb})).all()
    whole = {row.id: share_of(wkb.loads(bytes(row.part)), geometry) for row in rows}
    below: dict[uuid.UUID, float] = {}
    for row in rows:
        if row.parent_id is not None:
            below[row.parent_id] = below.get(row.parent_id, 0.0) + whole[row.id]
    shares = [DistrictShare(jurisdiction_id=row.id, code=row.code, name=row.name, within_agency=row.within_agency,
                            share=whole[row.id] - below.get(row.id, 0.0))
              for row in rows]
    return sorted((share for share in shares if share.share >= MIN_SPAN_SHARE),
                  key=lambda share: (-share.share, not share.within_agency, share.code))


async def place_referral(session: AsyncSession, *, geometry: BaseGeometry, agency_jurisdiction_id: uuid.UUID,
                         cross_boundary: bool) -> Placement:
    """The jurisdiction that receives a referral at `geometry` from an agency of
    `agency_jurisdiction_id`, or VALIDATION (field `geometry`) naming where it lies instead."""
    shares = await district_shares(session, geometry=geometry, agency_jurisdiction_id=agency_jurisdiction_id)
    if not shares:
        raise ValidationFailed("线索位置不在平台任何辖区内，无检察院可受理 / the referral lies in no jurisdiction on the "
                               "platform, so no procuratorate can receive it", field="geometry")
    main = shares[0]
    if not main.within_agency and not cross_boundary:
        raise ValidationFailed(
            f"线索位置主要在{main.name}（{main.code}），不在本机关辖区内；如确属跨区移送，请标明 crossBoundary / the "
            f"referral lies in {main.name} ({main.code}), outside your agency's jurisdiction: mark it "
            "crossBoundary if you mean to refer it there", field="geometry", jurisdictionCode=main.code)
    return Placement(jurisdiction_id=main.jurisdiction_id, cross_boundary=not main.within_agency,
                     spans=tuple(shares) if len(shares) > 1 else ())


async def placements_of(session: AsyncSession, *, principal: Principal,
                        referral_ids: list[uuid.UUID]) -> dict[uuid.UUID, ReferralPlacement]:
    """The placements of the referrals among `referral_ids` the principal may see."""
    rows = await session.scalars(
        select(ReferralPlacement).join(Referral, Referral.id == ReferralPlacement.referral_id)
        .where(ReferralPlacement.referral_id.in_(referral_ids),
               visible_to(principal, agency_column=Referral.agency_id, jurisdiction_column=Referral.jurisdiction_id)))
    return {row.referral_id: row for row in rows}



def placement_values(placement: Placement) -> dict:
    """The columns of a referral's placement row but its id, for a caller that writes it in the
    same statement as the referral (referral.service)."""
    return {"cross_boundary": placement.cross_boundary,
            "spanned_jurisdiction_ids": [share.jurisdiction_id for share in placement.spans],
            "spanned_shares": [share.share for share in placement.spans]}


async def relocate_referral(session: AsyncSession, *, referral: Referral, geometry: BaseGeometry,
                            cross_boundary: bool | None) -> Placement:
    """Place an edited referral anew at `geometry`: it (and its evidence) may move to another
    district's procuratorate. `cross_boundary` None keeps what the agency declared before."""
    agency_jurisdiction_id = await session.scalar(select(Agency.jurisdiction_id).where(Agency.id == referral.agency_id))
    if cross_boundary is None:
        cross_boundary = bool(await session.scalar(select(ReferralPlacement.cross_boundary)
                                                   .where(ReferralPlacement.referral_id == referral.id)))
    placement = await place_referral(session, geometry=geometry, agency_jurisdiction_id=agency_jurisdiction_id,
                                     cross_boundary=cross_boundary)
    if placement.jurisdiction_id != referral.jurisdiction_id:
        referral.jurisdiction_id = placement.jurisdiction_id
        # Evidence carries its own scope columns (evidence.models): they follow the referral.
        await session.execute(update(Evidence).where(Evidence.referral_id == referral.id,
                                                     Evidence.owner_kind == EvidenceOwnerKind.REFERRAL)
                              .values(jurisdiction_id=placement.jurisdiction_id))
    await session.execute(delete(ReferralPlacement).where(ReferralPlacement.referral_id == referral.id))
    await session.execute(delete(ReferralOverlap).where(ReferralOverlap.referral_id == referral.id))
    session.add(placement_row(referral.id, placement))
    await compute_referral_overlaps(session, referral_id=referral.id, geometry=geometry)
    return placement


def placement_row(referral_id: uuid.UUID, placement: Placement) -> ReferralPlacement:
    return ReferralPlacement(referral_id=referral_id, **placement_values(placement))
