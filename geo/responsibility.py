"""Which agency is answerable for the harm a referral reports — the question most disputed between
agencies. The overlaps propose one: the layer holding most of the referral that names a responsible
agency kind (farmland → agriculture, a mining right → natural resources), and the agency of that
kind in the referral's jurisdiction (or, failing one, the jurisdiction above). A prosecutor
confirms it or names another; each decision is kept with who made it and when.

A proposal or decision is shown only to those who may see its agency (agencies.scoping): a
liaison learns it only when it names its own agency."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from agencies.models import Agency, AgencyKind, Jurisdiction, Role
from agencies.principal import Principal
from agencies.scoping import visible_to
from core.errors import InvalidTransition, ValidationFailed
from core.permissions import require
from geo.models import ResponsibilityDecision
from geo.overlaps import LayerShare, overlaps_of, responsible_layers
from referral.enums import ReferralStatus
from referral.models import Referral
from referral.service import get_referral

# A decision on a referral that is no longer pursued would address nobody.
CLOSED_STATUSES = frozenset({ReferralStatus.WITHDRAWN, ReferralStatus.DECLINED})


@dataclass(frozen=True)
class Proposal:
    agency: Agency
    reason: LayerShare


async def _agencies_of_kinds(session: AsyncSession, principal: Principal, wanted: set[tuple[uuid.UUID, AgencyKind]]
                             ) -> dict[tuple[uuid.UUID, AgencyKind], tuple[Agency, bool]]:
    """For each (jurisdiction, kind): the agency of that kind there or, failing one, in the
    jurisdiction above; with whether the principal may see it. Chosen among all agencies, so that
    what is proposed does not depend on who asks."""
    if not wanted:
        return {}
    jurisdiction_ids = {jurisdiction_id for jurisdiction_id, _ in wanted}
    parents = dict((await session.execute(select(Jurisdiction.id, Jurisdiction.parent_id)
                                          .where(Jurisdiction.id.in_(jurisdiction_ids)))).all())
    places = jurisdiction_ids | {parent for parent in parents.values() if parent is not None}
    kinds = {kind for _, kind in wanted}
    rows = await session.execute(
        select(Agency, visible_to(principal, agency_column=Agency.id,
                                  jurisdiction_column=Agency.jurisdiction_id).label("visible"))
        .where(Agency.jurisdiction_id.in_(places), Agency.kind.in_(kinds))
        .order_by(Agency.created_at, Agency.name, Agency.id))
    first: dict[tuple[uuid.UUID, AgencyKind], tuple[Agency, bool]] = {}
    for agency, visible in rows:
        first.setdefault((agency.jurisdiction_id, agency.kind), (agency, bool(visible)))
    found = {}
    for jurisdiction_id, kind in wanted:
        match = first.get((jurisdiction_id, kind)) or first.get((parents.get(jurisdiction_id), kind))
        if match:
            found[(jurisdiction_id, kind)] = match
    return found


async def proposals_of(session: AsyncSession, *, principal: Principal,
                       referral_ids: list[uuid.UUID]) -> dict[uuid.UUID, Proposal]:
    """The proposed responsible agency of each referral among `referral_ids` the principal may see,
    where the overlaps propose one and the principal may see that agency."""
    overlaps = await overlaps_of(session, principal=principal, referral_ids=referral_ids)
    layers = {referral_id: responsible_layers(views) for referral_id, views in overlaps.items() if views}
    if not layers:
        return {}
    jurisdictions = dict((await session.execute(
        select(Referral.id, Referral.jurisdiction_id).where(Referral.id.in_(list(layers))))).all())
    wanted = {(jurisdictions[referral_id], share.agency_kind)
              for referral_id, shares in layers.items() for share in shares}
    agencies = await _agencies_of_kinds(session, principal, wanted)
    proposals = {}
    for referral_id, shares in layers.items():
        # The largest layer whose kind of agency exists here; none proposed if none does.
        for share in shares:
            if match := agencies.get((jurisdictions[referral_id], share.agency_kind)):
                agency, visible = match
                if visible:
                    proposals[referral_id] = Proposal(agency=agency, reason=share)
                break
    return proposals


@dataclass(frozen=True)
class Decision:
    agency: Agency
    proposed_agency_id: uuid.UUID | None
    decided_by: str
    decided_at: datetime


async def decisions_of(session: AsyncSession, *, principal: Principal,
                       referral_ids: list[uuid.UUID]) -> dict[uuid.UUID, Decision]:
    """The standing (latest) decision on each referral among `referral_ids` the principal may see,
    where the principal may see the agency it names."""
    latest = (select(ResponsibilityDecision.id)
              .where(ResponsibilityDecision.referral_id == Referral.id)
              .order_by(ResponsibilityDecision.decided_at.desc(), ResponsibilityDecision.id.desc())
              .limit(1).correlate(Referral).scalar_subquery())
    rows = await session.execute(
        select(ResponsibilityDecision, Agency)
        .join(Referral, and_(Referral.id == ResponsibilityDecision.referral_id, ResponsibilityDecision.id == latest))
        .join(Agency, Agency.id == ResponsibilityDecision.agency_id)
        .where(ResponsibilityDecision.referral_id.in_(referral_ids),
               visible_to(principal, agency_column=Referral.agency_id, jurisdiction_column=Referral.jurisdiction_id),
               visible_to(principal, agency_column=Agency.id, jurisdiction_column=Agency.jurisdiction_id)))
    return {decision.referral_id: Decision(agency=agency, proposed_agency_id=decision.proposed_agency_id,
                                           decided_by=decision.decided_by_name, decided_at=decision.decided_at)
            for decision, agency in rows}


async def confirm_responsible_agency(session: AsyncSession, *, principal: Principal, referral_id: str,
                                     agency_id: str) -> Referral:
    """A prosecutor who may see the referral names the agency responsible: the proposed one or
    another agency within the prosecutor's jurisdictions."""
    require(principal, Role.PROSECUTOR, users_only=True)
    referral = await get_referral(session, principal=principal, referral_id=referral_id)
    if referral.status in CLOSED_STATUSES:
        raise InvalidTransition(f"线索已{'撤回' if referral.status is ReferralStatus.WITHDRAWN else '不予立案'}，"
                                f"不再认定责任机关 / the referral is {referral.status.value}: no responsible agency "
                                "is decided for it", field="referralId")
    agency = await _visible_agency(session, principal, agency_id)
    proposal = (await proposals_of(session, principal=principal, referral_ids=[referral.id])).get(referral.id)
    session.add(ResponsibilityDecision(referral_id=referral.id, agency_id=agency.id,
                                       proposed_agency_id=proposal.agency.id if proposal else None,
                                       decided_by_user_id=principal.user_id, decided_by_name=principal.username))
    await session.flush()
    return referral


async def _visible_agency(session: AsyncSession, principal: Principal, agency_id: str) -> Agency:
    try:
        parsed = uuid.UUID(str(agency_id))
    except ValueError:
        parsed = None
    agency = parsed and await session.scalar(select(Agency).where(
        Agency.id == parsed, visible_to(principal, agency_column=Agency.id, jurisdiction_column=Agency.jurisdiction_id)))
    if not agency:
        raise ValidationFailed("执法机关不存在或不在本院辖区 / no such agency within your jurisdiction",
                               field="agencyId")
    return agency
