"""GraphQL types of reference layers, a referral's overlaps with them, and the responsible agency
they propose (the fields on Referral are in referral.types and resolve through geo.loaders)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from agencies.types import Agency, AgencyKind
from geo import models
from geo.geometry import square_meters_to_mu
from geo.overlaps import LayerShare, OverlapView
from geo.responsibility import Decision, Proposal

ReferenceLayerKind = strawberry.enum(models.ReferenceLayerKind, description="What a reference layer maps.")


@strawberry.type(description="A map of law referrals are read against (生态保护红线, 永久基本农田, …); public to "
                             "every signed-in role.")
class ReferenceLayer:
    code: str
    name: str
    kind: ReferenceLayerKind
    responsible_agency_kind: AgencyKind | None = strawberry.field(
        description="The kind of agency answerable for what lies in the layer, when the law names one.")
    updated_at: datetime

    @classmethod
    def from_model(cls, row: models.ReferenceLayer) -> ReferenceLayer:
        return cls(code=row.code, name=row.name, kind=row.kind, responsible_agency_kind=row.responsible_agency_kind,
                   updated_at=row.updated_at)


@strawberry.type(description="A reference layer imported, and what it overlaps now.")
class ReferenceLayerImport:
    layer: ReferenceLayer
    feature_count: int
    overlapping_referral_count: int = strawberry.field(
        description="Referrals (all of them, whoever may see them) lying on the layer after the import.")


@strawberry.type(description="A reference feature a referral lies on.")
class ReferralOverlap:
    layer: ReferenceLayer
    feature_name: str
    area_mu: float = strawberry.field(description="Area of the overlap in mu, on the ellipsoid (0 for points "
                                                  "and lines).")
    area_square_meters: float
    share_of_referral: float = strawberry.field(
        description="The part of the referral inside the feature, 0–1: by area for polygons, by length for "
                    "lines, by points for points.")

    @classmethod
    def from_view(cls, view: OverlapView) -> ReferralOverlap:
        return cls(layer=ReferenceLayer.from_model(view.layer), feature_name=view.feature_name,
                   area_mu=square_meters_to_mu(view.area_m2), area_square_meters=view.area_m2,
                   share_of_referral=view.share)


def _reason(share: LayerShare) -> str:
    percent = f"{share.share:.0%}"
    return (f"线索的{percent}位于{share.layer.name}（{share.feature_name}） / {percent} of the referral lies in "
            f"{share.layer.code} ({share.feature_name}), a {share.layer.kind.value} layer answered for by "
            f"{share.agency_kind.value}")


@strawberry.type(description="The agency the overlaps point to as responsible for the harm, and why.")
class ResponsibleAgencyProposal:
    agency: Agency
    layer: ReferenceLayer
    feature_name: str = strawberry.field(description="The layer's feature holding most of the referral.")
    share_of_referral: float = strawberry.field(description="The part of the referral inside the layer, 0–1.")
    reason: str

    @classmethod
    def from_proposal(cls, proposal: Proposal) -> ResponsibleAgencyProposal:
        return cls(agency=Agency.from_model(proposal.agency), layer=ReferenceLayer.from_model(proposal.reason.layer),
                   feature_name=proposal.reason.feature_name, share_of_referral=proposal.reason.share,
                   reason=_reason(proposal.reason))


@strawberry.type(description="A prosecutor's decision on the agency responsible for the harm.")
class ResponsibleAgencyDecision:
    agency: Agency
    follows_proposal: bool = strawberry.field(description="Whether it is the agency the overlaps proposed then.")
    decided_by: str = strawberry.field(description="The prosecutor's username.")
    decided_at: datetime

    @classmethod
    def from_decision(cls, decision: Decision) -> ResponsibleAgencyDecision:
        return cls(agency=Agency.from_model(decision.agency),
                   follows_proposal=decision.proposed_agency_id == decision.agency.id,
                   decided_by=decision.decided_by, decided_at=decision.decided_at)
