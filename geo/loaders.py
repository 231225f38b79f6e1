"""DataLoaders of the geo package, one per request (made on first use): one statement per batch."""

from __future__ import annotations

from strawberry.types import Info

from core.loaders import loader
from geo import overlaps, placement, responsibility


def _batched(info: Info, name: str, load, default=None):
    context = info.context
    return loader(context, name, lambda ids: load(context.session, principal=context.principal, referral_ids=ids),
                  default=default)


def overlaps_loader(info: Info):
    """A referral's overlaps with the reference layers, as far as the caller may see the referral."""
    return _batched(info, "referral_overlaps", overlaps.overlaps_of, default=[])


def placement_loader(info: Info):
    return _batched(info, "referral_placement", placement.placements_of)


def proposal_loader(info: Info):
    return _batched(info, "responsible_agency_proposal", responsibility.proposals_of)


def decision_loader(info: Info):
    return _batched(info, "responsible_agency_decision", responsibility.decisions_of)
