"""Where existing referrals lie, for those that predate it: their placement among the districts and
their overlaps with the reference layers, computed in batches by an operator command
(`python -m app.manage backfill-geography`). The proposed responsible agency follows from the
overlaps when read (geo.responsibility), so it needs nothing of its own.

An existing referral keeps the procuratorate that has it: moving a referral already being handled
is a decision for people, not a backfill. Its placement records what submission would have found
(whether it lies outside its agency's jurisdiction, the districts it spans), and the report counts
those whose district by geometry is another than the one holding them, and those lying in no
district at all (they get no placement; the next run looks at them again)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from shapely import wkb
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from agencies.models import Agency
from geo.models import ReferralOverlap, ReferralPlacement
from geo.overlaps import compute_referral_overlaps
from geo.placement import Placement, district_shares, placement_row
from referral.models import Referral


@dataclass
class BackfillReport:
    referrals: int = 0
    placed: int = 0
    overlaps: int = 0
    held_elsewhere: list[uuid.UUID] = field(default_factory=list)  # its district by geometry holds it not
    in_no_district: list[uuid.UUID] = field(default_factory=list)


async def backfill_batch(session: AsyncSession, *, after: uuid.UUID | None, size: int, everything: bool,
                         report: BackfillReport) -> uuid.UUID | None:
    """Place the next `size` referrals after `after` (by id) that lack a placement — or all of them,
    with `everything` (after boundaries or layers changed outside the app) — replacing what they
    had; the last id done, None when there are no more. The caller commits each batch."""
    query = (select(Referral.id, Referral.jurisdiction_id, func.ST_AsBinary(Referral.geometry).label("shape"),
                    Agency.jurisdiction_id.label("agency_jurisdiction_id"))
             .join(Agency, Agency.id == Referral.agency_id)
             .order_by(Referral.id).limit(size))
    if after is not None:
        query = query.where(Referral.id > after)
    if not everything:
        query = query.where(~select(ReferralPlacement.referral_id)
                            .where(ReferralPlacement.referral_id == Referral.id).exists())
    rows = (await session.execute(query)).all()
    if not rows:
        return None
    ids = [row.id for row in rows]
    await session.execute(delete(ReferralPlacement).where(ReferralPlacement.referral_id.in_(ids)))
    await session.execute(delete(ReferralOverlap).where(ReferralOverlap.referral_id.in_(ids)))
    for row in rows:
        geometry = wkb.loads(bytes(row.shape))
        shares = await district_shares(session, geometry=geometry, agency_jurisdiction_id=row.agency_jurisdiction_id)
        report.referrals += 1
        if shares:
            main = shares[0]
            session.add(placement_row(row.id, Placement(jurisdiction_id=main.jurisdiction_id,
                                                         cross_boundary=not main.within_agency,
                                                         spans=tuple(shares) if len(shares) > 1 else ())))
            report.placed += 1
            if main.jurisdiction_id != row.jurisdiction_id:
                report.held_elsewhere.append(row.id)
        else:
            report.in_no_district.append(row.id)
        report.overlaps += await compute_referral_overlaps(session, referral_id=row.id, geometry=geometry)
    await session.flush()
    return ids[-1]
